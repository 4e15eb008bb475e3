"""The part of `apply` and `rollback` after a plan exists: safety, environment guard,
confirmation, snapshot, the writes, the report."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from almasync import engine, jobs, snapshot
from almasync.apply import ApplyReport, Outcome, Result, apply_plan
from almasync.cli import progress, render
from almasync.cli.connect import Connection
from almasync.cli.files import write_atomic
from almasync.cli.jobs_cmds import echo_post_apply_plan, run_post_apply_jobs
from almasync.cli.terminal import use_colour
from almasync.config.settings import Settings
from almasync.errors import ConfigError, ExitCode, UsageError
from almasync.identity import check_write_access
from almasync.model import Fields, Key, Kind
from almasync.plan import safety
from almasync.plan.changes import Change
from almasync.plan.plan import Plan

SNAPSHOTS = Path(".almasync") / "snapshots"


def read_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a plan file ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a plan file")
    return Plan.from_dict(data)


def blocked(plan: Plan, settings: Settings, env_name: str | None, force: bool) -> bool:
    """Print every safety rule the plan breaks; true when one still blocks it."""
    verdict = safety.judge(plan, settings.safety.for_environment(env_name))
    for sentence in verdict.blocking(force):
        click.echo(f"Blocked by a safety rule: {sentence}", err=True)
    if force:
        for sentence in verdict.caps:
            click.echo(f"Safety cap lifted by --force: {sentence}", err=True)
    return bool(verdict.blocking(force))


@dataclass(frozen=True)
class ApplyRun:
    auto_approve: bool
    force: bool
    post_apply: bool = True
    #: Where the snapshot goes (default: ``.almasync/snapshots/`` under ``home``).
    journal_dir: Path | None = None

    def __call__(self, conn: Connection, plan: Plan, settings: Settings,
                 env_name: str | None, home: Path,
                 touched: Mapping[Kind, Mapping[Key, Fields]] | None, *,
                 saved: bool = False) -> int:
        """Show, check, confirm, snapshot, apply, report; returns the exit code."""
        click.echo(render.plan_text(plan, colour=use_colour(), verb="apply"),
                   color=use_colour())
        post_apply = settings.post_apply if self.post_apply else []
        echo_post_apply_plan(jobs.describe_post_apply(post_apply))
        if plan.empty:
            return ExitCode.OK
        if blocked(plan, settings, env_name, self.force):
            click.echo("Nothing was applied. Fix the plan, or rerun with --force to lift "
                       "the caps.", err=True)
            return ExitCode.BLOCKED
        engine.check_ready(plan)
        engine.check_environment(conn.client, conn.environment_type)
        if not self._confirmed(plan, conn):
            click.echo("Apply cancelled; nothing was changed.", err=True)
            return ExitCode.ERROR
        # A key that may only read stops here, before the snapshot and the first write.
        check_write_access(conn.client)
        if touched is None:
            # The plan's own reads may be brief list entries; a snapshot must hold whole
            # resources so that rollback can create a deleted one again.
            touched = engine.read_touched(conn.client, plan)
        snap = snapshot.build(plan, touched)
        snap_path = _snapshot_path(self.journal_dir or home / SNAPSHOTS, snap)
        write_atomic(snap_path, json.dumps(snap, indent=2, sort_keys=True) + "\n")
        recheck = _still_as_planned if saved else None
        with progress.applying(len(plan.changes), result_lines) as on_result:
            report = apply_plan(conn.client, plan, recheck=recheck, on_result=on_result)
        snap["applied"] = _applied(report)
        write_atomic(snap_path, json.dumps(snap, indent=2, sort_keys=True) + "\n")
        _summarise(report, snap_path)
        if not report.ok or not post_apply:
            # Jobs never run after a failed or partial apply.
            return int(report.exit_code)
        return run_post_apply_jobs(conn.client, post_apply)

    def _confirmed(self, plan: Plan, conn: Connection) -> bool:
        if self.auto_approve:
            return True
        if not sys.stdin.isatty():
            raise UsageError("refusing to apply without a terminal to confirm on; review "
                             "the plan and pass --auto-approve")
        answer = click.prompt(f"\nApply these {len(plan.changes)} changes to {conn.label}? "
                              "Only 'yes' will be accepted", default="", show_default=False)
        return str(answer).strip() == "yes"


def _still_as_planned(change: Change, current: Fields | None) -> bool:
    return current is not None and engine.recorded_view(change, current) == change.fingerprint


def _snapshot_path(directory: Path, snap: dict[str, object]) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return directory / snapshot.name_for(snap, stamp)


def _applied(report: ApplyReport) -> dict[str, list[str]]:
    done: dict[str, list[str]] = {}
    for r in report.of(Outcome.APPLIED):
        done.setdefault(r.change.kind.value, []).append("/".join(r.change.key))
    return done


def result_lines(result: Result) -> tuple[str, str | None]:
    """The line for one result (stdout), and its error line (stderr) if it failed."""
    line = f"{result.outcome.value:8} {result.change.action.symbol} {result.change.name}"
    error = f"         {result.change.name}: {result.error}" if result.error else None
    return line, error


def _summarise(report: ApplyReport, snap_path: Path) -> None:
    counts = {o: len(report.of(o)) for o in Outcome}
    click.echo(f"Apply: {counts[Outcome.APPLIED]} applied, {counts[Outcome.FAILED]} failed, "
               f"{counts[Outcome.SKIPPED]} skipped"
               + (f", {counts[Outcome.STALE]} stale" if counts[Outcome.STALE] else "") + ".")
    click.echo(f"Snapshot of the previous state: {snap_path} (undo with `almasync rollback "
               f"{snap_path}`)", err=True)
    if report.aborted:
        click.echo(f"The run stopped: {report.aborted}", err=True)
    if not report.ok:
        click.echo("Run apply again to finish: what was applied will not be repeated.",
                   err=True)
