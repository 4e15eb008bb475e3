"""``almasync doctor``: check almasync's assumptions against an institution (read-only)."""

from __future__ import annotations

from pathlib import Path

import click

from almasync.cli.connect import connect
from almasync.cli.options import output_format, target
from almasync.config.loader import load_settings
from almasync.config.settings import Settings
from almasync.doctor.client import RecordingClient
from almasync.doctor.run import examine, exit_status, record, render_json, render_text
from almasync.errors import ExitCode, UsageError


@click.command(epilog="\b\nExample:\n  almasync doctor --env sandbox --config config/\n"
                      "  almasync doctor --env sandbox --record captures/my-institution")
@target
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True,
              help="Folder whose almasync.yaml declares the --env environments.")
@click.option("--record", "record_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the responses read, sanitised, under this folder (one "
                   "subfolder per kind), for the test suite to replay.")
@output_format("text", "json")
def doctor(env_name: str | None, emulator: str | None, config_dir: Path,
           record_dir: Path | None, fmt: str) -> int:
    """Check every assumption almasync makes about Alma against a sample of each kind.

    Read-only: sends nothing but GET. Exits 0 when nothing is contradicted, 2 when
    something is, 4 when Alma cannot be reached."""
    if record_dir is not None and record_dir.is_dir() and any(record_dir.iterdir()):
        raise UsageError(f"--record {record_dir}: the folder is not empty; record into a new "
                         "folder (a recording is a whole, consistent sample)")
    settings = load_settings(config_dir) if env_name else Settings()
    with (connect(settings, env_name, emulator, read_only=True) as conn,
          RecordingClient.like(conn.client) as client):
        samples, rows = examine(client, conn.environment_type)
    click.echo(render_json(rows, conn.label) if fmt == "json"
               else render_text(rows, conn.label), nl=fmt != "json")
    if record_dir is not None:
        written = record(samples, record_dir, client.secrets)
        click.echo(f"Recorded {len(written)} responses under {record_dir} (credentials, "
                   "people, e-mail addresses and host names replaced by markers).", err=True)
    return ExitCode.CHANGES if exit_status(rows) else ExitCode.OK
