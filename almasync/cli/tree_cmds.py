"""export and schema: commands that write config trees and schema files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from almasync import engine
from almasync.cli import progress
from almasync.cli.connect import connect
from almasync.cli.files import write_atomic
from almasync.cli.options import target
from almasync.config.loader import DesiredState, load_settings
from almasync.config.schema import SCHEMAS
from almasync.config.settings import Settings
from almasync.config.yamlread import dump_yaml
from almasync.errors import ExitCode, UsageError
from almasync.kinds import BY_CONFIG_KEY, HANDLERS, ORDER
from almasync.model import Resource

_KIND_NAMES = [h.kind.config_key for h in ORDER]


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("exported"), show_default=True, help="Folder to write into.")
@click.option("--kinds", "kind_names", multiple=True, type=click.Choice(_KIND_NAMES),
              help="Only these kinds (repeatable; default: all).")
@click.option("--overwrite", is_flag=True, help="Replace files that already exist.")
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True,
              help="Folder whose almasync.yaml declares the --env environments.")
@target
def export(out_dir: Path, kind_names: tuple[str, ...], overwrite: bool, config_dir: Path,
           env_name: str | None, emulator: str | None) -> int:
    """Write the live configuration as a config tree (one file per kind)."""
    settings = load_settings(config_dir) if env_name else Settings()
    kinds = [BY_CONFIG_KEY[name].kind for name in kind_names] or [h.kind for h in ORDER]
    yaml_files = {kind: out_dir / f"{kind.config_key}.yaml" for kind in kinds}
    clashes = [str(p) for p in yaml_files.values() if p.exists()]
    if clashes and not overwrite:
        raise UsageError(f"{', '.join(clashes)} already exist; pass --overwrite to replace")
    empty = DesiredState(out_dir, settings)
    with (connect(settings, env_name, emulator, read_only=True) as conn,
          progress.reading() as on_kind):
        live = engine.read_live(conn.client, empty, everything=True, detail=True,
                                only=kinds, on_kind=on_kind)
    # Everything is read before anything is written, so a failed read leaves no half
    # export; each file is written whole (temporary file, then rename).
    outputs: dict[Path, str] = {}
    for kind in kinds:
        handler = HANDLERS[kind]
        # What Alma ships unchanged is left out; drift does not call it unmanaged either.
        resources = {key: Resource(kind, key, fields) for key, fields in live[kind].items()
                     if not handler.is_default(key, fields)}
        outputs[yaml_files[kind]] = dump_yaml({kind.config_key: handler.export(resources)})
        for relative, text in handler.export_files(resources).items():
            outputs[out_dir / relative] = text
        skipped = len(live[kind]) - len(resources)
        note = f" ({skipped} left out as Alma's defaults)" if skipped else ""
        click.echo(f"{yaml_files[kind]}: {len(resources)} {kind.value} resources{note}",
                   err=True)
    clashes = [str(p) for p in outputs if p.exists() and p not in yaml_files.values()]
    if clashes and not overwrite:
        raise UsageError(f"{', '.join(clashes[:5])} already exist; pass --overwrite to "
                         "replace")
    for path, text in outputs.items():
        write_atomic(path, text)
    click.echo(f"Wrote {len(outputs)} files under {out_dir}.")
    return ExitCode.OK


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("schemas"), show_default=True)
def schema(out_dir: Path) -> int:
    """Write the JSON Schema of the config files (for editors)."""
    for name, build in SCHEMAS.items():
        path = out_dir / name
        write_atomic(path, json.dumps(build(), indent=2, sort_keys=True) + "\n")
        click.echo(f"wrote {path}")
    return ExitCode.OK
