"""validate, plan, drift and apply: thin wrappers over the engine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from almasync import engine
from almasync.cli import render
from almasync.cli.connect import Connection, connect
from almasync.cli.files import write_atomic
from almasync.cli.options import config_dir, output_format, target
from almasync.config.loader import DesiredState, load_config, load_settings
from almasync.config.settings import Settings
from almasync.errors import ConfigError, ExitCode, StalePlanError, UsageError
from almasync.plan import safety
from almasync.plan.plan import Plan


def _progress(kind: object) -> None:
    if sys.stderr.isatty():
        click.echo(f"Reading {getattr(kind, 'value', kind)} from Alma...", err=True)


def _make_plan(conn: Connection, desired: DesiredState, *, everything: bool = False,
               targets: tuple[str, ...] = (), info: dict[str, str | None] | None = None
               ) -> Plan:
    parsed = [engine.Target.parse(t) for t in targets]
    only = {t.kind for t in parsed} or None
    live = engine.read_live(conn.client, desired, everything=everything, only=only,
                            on_kind=_progress)
    target_info = {"label": conn.label, **{k: v for k, v in (info or {}).items() if v}}
    return engine.make_plan(desired, live, targets=parsed, target_info=target_info)


def _blocked(plan: Plan, settings: Settings) -> bool:
    found = safety.violations(plan, settings.safety)
    for sentence in found:
        click.echo(f"Blocked by a safety rule: {sentence}", err=True)
    return bool(found)


@click.command()
@config_dir
def validate(directory: Path) -> int:
    """Check every config file offline; report every problem at once."""
    desired = load_config(directory)
    click.echo(f"Valid: {desired.count} resources in {len(desired.files)} files.")
    return ExitCode.OK


@click.command()
@config_dir
@target
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also save the plan as JSON, for `almasync apply PLAN.json`.")
@output_format("text", "json", "markdown")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there are changes, 0 when there are none.")
@click.option("--target", "targets", multiple=True, metavar="KIND[:KEY]",
              help="Only this kind, or one resource of it (repeatable).")
def plan(directory: Path, env_name: str | None, emulator: str | None, out: Path | None,
         fmt: str, detailed_exitcode: bool, targets: tuple[str, ...]) -> int:
    """Show what apply would change. Read-only: sends nothing but GET."""
    desired = load_config(directory)
    with connect(desired.settings, env_name, emulator, read_only=True) as conn:
        result = _make_plan(conn, desired, targets=targets,
                            info={"config": str(directory), "env": env_name})
    if fmt == "json":
        click.echo(render.plan_json(result), nl=False)
    elif fmt == "markdown":
        click.echo(render.plan_markdown(result))
    else:
        click.echo(render.plan_text(result, colour=sys.stdout.isatty()))
    if out:
        write_atomic(out, render.plan_json(result))
        click.echo(f"Plan saved to {out}.", err=True)
    if _blocked(result, desired.settings):
        return ExitCode.BLOCKED
    return ExitCode.CHANGES if detailed_exitcode and not result.empty else ExitCode.OK


@click.command()
@config_dir
@target
@output_format("text", "json", "markdown", "junit")
@click.option("--include-unmanaged", is_flag=True,
              help="Also report live resources that no file declares.")
def drift(directory: Path, env_name: str | None, emulator: str | None, fmt: str,
          include_unmanaged: bool) -> int:
    """Report what differs between the files and Alma (exit 2 when anything does)."""
    desired = load_config(directory)
    with connect(desired.settings, env_name, emulator, read_only=True) as conn:
        result = _make_plan(conn, desired, everything=include_unmanaged)
    if not include_unmanaged:
        result = Plan(result.changes, (), result.live_counts, result.target)
    if fmt == "json":
        click.echo(render.plan_json(result), nl=False)
    elif fmt == "junit":
        click.echo(render.drift_junit(result), nl=False)
    elif fmt == "markdown":
        click.echo(render.plan_markdown(result, "almasync drift"))
    else:
        click.echo(render.drift_text(result, colour=sys.stdout.isatty()))
    drifted = bool(result.changes or result.unmanaged)
    return ExitCode.CHANGES if drifted else ExitCode.OK


@click.command()
@click.argument("source", required=False, default=".",
                type=click.Path(exists=True, path_type=Path))
@target
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--force", is_flag=True, help="Lift the safety caps for this run only.")
def apply(source: Path, env_name: str | None, emulator: str | None, auto_approve: bool,
          force: bool) -> int:
    """Make the changes a plan shows, after confirmation.

    SOURCE is a config directory (planned afresh) or a plan saved with `plan --out`, which
    is refused (exit 6) if anything it touches changed in Alma since it was made.
    """
    if source.is_file():
        saved = _read_plan(source)
        config_dir = Path(saved.target.get("config", "."))
        settings = load_settings(config_dir) if config_dir.is_dir() else Settings()
        with connect(settings, env_name or saved.target.get("env"), emulator,
                     read_only=False) as conn:
            stale = engine.find_stale(conn.client, saved)
            for sentence in stale:
                click.echo(f"Stale: {sentence}", err=True)
            if stale:
                raise StalePlanError(f"the saved plan {source} is stale ({len(stale)} "
                                     "resources changed since it was made); nothing was "
                                     "applied. Make a new plan.")
            return _apply(conn, saved, settings, auto_approve, force)
    desired = load_config(source)
    with connect(desired.settings, env_name, emulator, read_only=False) as conn:
        result = _make_plan(conn, desired, info={"config": str(source), "env": env_name})
        return _apply(conn, result, desired.settings, auto_approve, force)


def _read_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a plan file ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a plan file")
    return Plan.from_dict(data)


def _apply(conn: Connection, result: Plan, settings: Settings, auto_approve: bool,
           force: bool) -> int:
    click.echo(render.plan_text(result, colour=sys.stdout.isatty(), verb="apply"))
    if result.empty:
        return ExitCode.OK
    if _blocked(result, settings) and not force:
        click.echo("Nothing was applied. Fix the plan or rerun with --force.", err=True)
        return ExitCode.BLOCKED
    engine.check_environment(conn.client, conn.environment_type)
    if not _confirmed(result, conn, auto_approve):
        click.echo("Apply cancelled; nothing was changed.", err=True)
        return ExitCode.ERROR
    report = engine.apply_plan(conn.client, result, on_result=_echo_result)
    click.echo(render.report_text(report).splitlines()[-1])
    return ExitCode.OK if report.ok else ExitCode.APPLY_FAILED


def _confirmed(result: Plan, conn: Connection, auto_approve: bool) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        raise UsageError("refusing to apply without a terminal to confirm on; review the "
                         "plan and pass --auto-approve")
    answer = click.prompt(f"\nApply these {len(result.changes)} changes to {conn.label}? "
                          "Only 'yes' will be accepted", default="", show_default=False)
    return str(answer).strip() == "yes"


def _echo_result(result: engine.Result) -> None:
    line = f"{result.outcome.value:8} {result.change.action.symbol} {result.change.name}"
    click.echo(line)
    if result.error:
        click.echo(f"         {result.error}", err=True)
