"""validate, plan, drift and apply: thin wrappers over the engine."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from almasync import engine
from almasync.cli import render
from almasync.cli.connect import Connection, connect
from almasync.cli.files import write_atomic
from almasync.cli.options import config_dir, output_format, target
from almasync.config.loader import DesiredState, load_config
from almasync.errors import ExitCode, UsageError
from almasync.plan import safety
from almasync.plan.plan import Plan


def _progress(kind: object) -> None:
    if sys.stderr.isatty():
        click.echo(f"Reading {getattr(kind, 'value', kind)} from Alma...", err=True)


def _make_plan(conn: Connection, desired: DesiredState, *, everything: bool = False,
               targets: tuple[str, ...] = ()) -> Plan:
    parsed = [engine.Target.parse(t) for t in targets]
    only = {t.kind for t in parsed} or None
    live = engine.read_live(conn.client, desired, everything=everything, only=only,
                            on_kind=_progress)
    return engine.make_plan(desired, live, targets=parsed, target_info={"label": conn.label})


def _blocked(plan: Plan, desired: DesiredState) -> bool:
    found = safety.violations(plan, desired.settings.safety)
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
        result = _make_plan(conn, desired, targets=targets)
    if fmt == "json":
        click.echo(render.plan_json(result), nl=False)
    elif fmt == "markdown":
        click.echo(render.plan_markdown(result))
    else:
        click.echo(render.plan_text(result, colour=sys.stdout.isatty()))
    if out:
        write_atomic(out, render.plan_json(result))
        click.echo(f"Plan saved to {out}.", err=True)
    if _blocked(result, desired):
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
    """Make the changes a plan shows, after confirmation."""
    if source.is_file():
        raise UsageError(f"{source}: applying a saved plan file is not supported yet; "
                         "give the config directory")
    desired = load_config(source)
    with connect(desired.settings, env_name, emulator, read_only=False) as conn:
        result = _make_plan(conn, desired)
        click.echo(render.plan_text(result, colour=sys.stdout.isatty(), verb="apply"))
        if result.empty:
            return ExitCode.OK
        if _blocked(result, desired) and not force:
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
