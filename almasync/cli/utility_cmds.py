"""``almasync hours``, ``fees``, ``check`` and ``jobs download``: the API's remaining
operations. Thin wrappers over :mod:`almasync.utilities`; this module parses options,
prints, and writes files atomically."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import click

from almasync import report, utilities
from almasync.cli.connect import Connection, connect
from almasync.cli.files import write_atomic, write_atomic_bytes
from almasync.cli.options import output_format, target
from almasync.cli.terminal import note
from almasync.config.loader import load_config, load_settings
from almasync.config.settings import Settings
from almasync.errors import AlmaAuthError, AlmaError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


def _settings_dir(fn: F) -> F:
    return click.option("--config", "config_dir", default=".", show_default=True,
                        type=click.Path(file_okay=False, path_type=Path),
                        help="Folder whose almasync.yaml declares the --env environments.")(fn)


def _out(fn: F) -> F:
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                        metavar="FILE", help="Write to FILE (atomically) instead of "
                        "stdout.")(fn)


def _open(config_dir: Path, env_name: str | None, emulator: str | None, *,
          read_only: bool) -> AbstractContextManager[Connection]:
    settings = load_settings(config_dir) if env_name and not emulator else Settings()
    return connect(settings, env_name, emulator, read_only=read_only)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomic(out, text if text.endswith("\n") else text + "\n")
        click.echo(f"Wrote {out}.", err=True)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# -- hours ------------------------------------------------------------------------------


def hours_text(library: str, days: list[utilities.OpenDay]) -> str:
    lines = [f"Open days of {library}, {days[0].date} to {days[-1].date}:" if days
             else f"No days for {library}."]
    for day in days:
        hours = ", ".join(f"{a}-{b}" for a, b in day.hours) if day.hours else "closed"
        lines.append(f"{day.date.isoformat()}  {day.weekday.title():9}  {hours}")
    opened = sum(1 for d in days if d.is_open)
    if days:
        lines.append(f"{opened} open, {len(days) - opened} closed.")
    return "\n".join(lines) + "\n"


@click.command("hours")
@click.argument("library")
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day (default: today).")
@click.option("--to", "end", metavar="YYYY-MM-DD",
              help="Last day (default: a week after --from). Longer than a month is fine: "
                   "almasync asks Alma month by month.")
@output_format("text", "json")
@_out
@target
@_settings_dir
def hours(library: str, start: str | None, end: str | None, fmt: str, out: Path | None,
          env_name: str | None, emulator: str | None, config_dir: Path) -> int:
    """Print LIBRARY's opening days and hours as Alma computes them from its open hours,
    exceptions and the institution's calendar (read-only).

    Run it before and after applying a change to open hours to see what the change did.
    """
    first = utilities.parse_day(start, "--from") if start else dt.date.today()
    last = utilities.parse_day(end, "--to") if end else first + dt.timedelta(days=7)
    utilities.check_range(first, last)
    with _open(config_dir, env_name, emulator, read_only=True) as conn:
        days = utilities.open_days(conn.client, library, first, last)
    if fmt == "json":
        _emit(_json({"format_version": 1, "library": library, "from": first.isoformat(),
                     "to": last.isoformat(), "days": [d.to_dict() for d in days]}), out)
    else:
        _emit(hours_text(library, days), out)
    return 0


# -- fees -------------------------------------------------------------------------------


def fees_csv(fees: list[utilities.Fee]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(utilities.FEE_CSV_COLUMNS),
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(utilities.fee_rows(fees))
    return buffer.getvalue()


@click.command("fees")
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD",
              help="First day of transactions.")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD",
              help="Last day of transactions (any length: almasync asks Alma seven days at "
                   "a time).")
@click.option("--type", "transaction_type", default="BOTH", show_default=True,
              type=click.Choice(["BOTH", "PAYMENT", "WAIVE"], case_sensitive=False),
              help="Payments, waivers, or both.")
@click.option("--owner", metavar="CODE", help="Only fees owned by this library (or the "
              "institution).")
@click.option("--library", metavar="CODE", help="Only transactions received at this "
              "circulation library.")
@click.option("--desk", metavar="CODE", help="Only transactions received at this "
              "circulation desk (needs --library).")
@output_format("csv", "json")
@_out
@target
@_settings_dir
def fees(start: str, end: str, transaction_type: str, owner: str | None, library: str | None,
         desk: str | None, fmt: str, out: Path | None, env_name: str | None,
         emulator: str | None, config_dir: Path) -> int:
    """The fine and fee transactions report (GET /conf/utilities/fee-transactions;
    read-only), every page: CSV has one row per transaction, JSON one entry per fee."""
    first, last = utilities.parse_day(start, "--from"), utilities.parse_day(end, "--to")
    utilities.check_range(first, last)
    with _open(config_dir, env_name, emulator, read_only=True) as conn:
        found = utilities.fee_report(conn.client, first, last,
                                     transaction_type=transaction_type.upper(), owner=owner,
                                     library=library, desk=desk)
    if fmt == "json":
        _emit(_json({"format_version": 1, "from": first.isoformat(), "to": last.isoformat(),
                     "fees": [fee.to_dict() for fee in found]}), out)
    else:
        _emit(fees_csv(found), out)
    return 0


# -- jobs download ----------------------------------------------------------------------


@click.command("download")
@click.argument("job_id")
@click.argument("instance_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Where to write the file (atomically).")
@click.option("--download-format", "download_format", default="XML", show_default=True,
              type=click.Choice(utilities.DOWNLOAD_FORMATS, case_sensitive=False),
              help="MARC XML or binary MARC.")
@click.option("--line-type", default="TOTAL_RECORDS_IMPORTED", show_default=True,
              metavar="TYPE", help="Which records: a counter's type as `jobs status` shows "
              "it.")
@target
@_settings_dir
def download(job_id: str, instance_id: str, out: Path, download_format: str, line_type: str,
             env_name: str | None, emulator: str | None, config_dir: Path) -> int:
    """Download the records a metadata import job instance loaded (read-only)."""
    with _open(config_dir, env_name, emulator, read_only=True) as conn:
        content = utilities.download_file(conn.client, job_id, instance_id,
                                          download_format=download_format.upper(),
                                          line_type=line_type)
    write_atomic_bytes(out, content)
    click.echo(f"Wrote {out} ({len(content)} bytes).", err=True)
    return 0


# -- check ------------------------------------------------------------------------------


def check_text(result: utilities.KeyCheck, label: str) -> str:
    lines = [f"Target: {label}",
             f"  read  (GET /conf/test):  ok - {result.read_message}",
             f"  write (POST /conf/test): "
             f"{'ok - ' + result.write_message if result.write else result.write_message}",
             f"The key is {result.access} for the Configuration API"
             + (f" of {result.institution}." if result.institution else ".")]
    if not result.write:
        lines.append("plan, drift, export, hours, fees and report work; apply, rollback and "
                     "jobs run need a read/write key.")
    return "\n".join(lines) + "\n"


@click.command("check")
@output_format("text", "json")
@target
@_settings_dir
def check(fmt: str, env_name: str | None, emulator: str | None, config_dir: Path) -> int:
    """Test the API key with Alma's /conf/test: GET shows it may read, POST that it may
    also write (the POST changes nothing). Exit 0 either way; 4 when Alma cannot be
    reached or refuses the key."""
    with _open(config_dir, env_name, emulator, read_only=False) as conn:
        result = utilities.check_key(conn.client)
        label = conn.label
    if fmt == "json":
        click.echo(_json({"format_version": 1, **result.to_dict()}), nl=False)
    else:
        click.echo(check_text(result, label), nl=False)
    return 0


# -- report -----------------------------------------------------------------------------


def _live_snapshot(conn: Connection, root: Path, settings: Settings) -> report.Snapshot:
    from almasync import engine
    from almasync.config.loader import DesiredState
    from almasync.kinds import HANDLERS

    client = conn.client
    live = engine.read_live(client, DesiredState(root, settings), everything=True, detail=True)
    resources = {kind: {key: fields for key, fields in found.items()
                        if not HANDLERS[kind].is_default(key, fields)}
                 for kind, found in live.items()}
    libraries = {str(lib.get("code")): str(lib.get("name") or "")
                 for lib in client.get_list("/conf/libraries", "library")}
    codes = sorted(libraries)

    def desks(code: str) -> list[dict[str, str]]:
        found = client.get_list(f"/conf/libraries/{utilities.quote_segment(code)}/circ-desks/",
                                "circ_desk", paged=True)
        return [{"code": str(d.get("code")), "name": str(d.get("name") or "")} for d in found]

    today = dt.date.today()
    first, last = report.calendar_range(today)
    by_library = dict(zip(codes, client.map(desks, codes), strict=True))

    def calendar(code: str) -> list[utilities.OpenDay] | None:
        try:
            return utilities.open_days(client, code, first, last, today)
        except AlmaAuthError:
            raise
        except (AlmaError, UsageError) as exc:
            # One library's calendar refused: its page falls back to the entries.
            note(f"open days of {code} not shown as Alma computes them: {exc}")
            return None

    days = {code: found for code, found in zip(codes, client.map(calendar, codes),
                                               strict=True) if found is not None}
    return report.Snapshot(conn.label, resources, libraries, by_library, days, today)


@click.command("report")
@click.argument("directory", required=False, default=".",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False,
              path_type=Path), metavar="SITE/", help="Folder to write the site into.")
@click.option("--drift", "drift_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), metavar="DRIFT.json",
              help="The last `almasync drift --format json`, shown as its own page.")
@click.option("--live", is_flag=True, help="Read the live institution (ALMA_API_URL and "
              "ALMA_API_KEY); implied by --env and --emulator.")
@target
def report_command(directory: Path, out_dir: Path, drift_file: Path | None, live: bool,
                   env_name: str | None, emulator: str | None) -> int:
    """Write a static HTML site of the institution's configuration: libraries and
    locations as a tree, code and mapping tables, letters with their templates, open hours
    as a calendar, integration profiles (never their credentials), and the last drift.

    \b
    From the config tree DIRECTORY (no Alma call), or with --live, --env or --emulator
    from the live institution (read-only; DIRECTORY then only supplies almasync.yaml). The site is
    plain files: open SITE/index.html in any browser, no server, nothing fetched.
    """
    drift = (report.load_drift(drift_file.read_text(encoding="utf-8"), str(drift_file))
             if drift_file else None)
    if live or env_name or emulator:
        settings = load_settings(directory) if env_name and not emulator else Settings()
        with connect(settings, env_name, emulator, read_only=True) as conn:
            snap = _live_snapshot(conn, directory, settings)
    else:
        state = load_config(directory)
        resources = {kind: {key: r.fields for key, r in found.items()}
                     for kind, found in state.resources.items()}
        snap = report.Snapshot(f"the config tree {directory}", resources)
    site = report.build_site(snap, drift)
    for relative, text in site.items():
        write_atomic(out_dir / relative, text)
    click.echo(f"Wrote {len(site)} pages under {out_dir}; open {out_dir / 'index.html'}.")
    return 0
