"""The terminal side of `apply` and `rollback` once a plan exists: show it, confirm, show
progress and the outcome. The workflow itself is :func:`almasync.workflow.run`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import click

from almasync import jobs, workflow
from almasync.alma.client import AlmaClient
from almasync.apply import ApplyReport, Outcome, Result
from almasync.cli import progress, render
from almasync.cli.connect import Connection
from almasync.cli.jobs_cmds import echo_job_event, echo_outcome, echo_post_apply_plan
from almasync.cli.terminal import use_colour
from almasync.config.settings import Settings
from almasync.errors import UsageError
from almasync.identity import check_write_access
from almasync.journal import Journal
from almasync.plan import safety
from almasync.plan.plan import Plan


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
    command: str = "apply"
    #: The command that finishes an interrupted run, e.g. ``almasync apply config``.
    again: str = "almasync apply"
    #: Where the journal goes (default: ``.almasync/journals/`` under ``home``).
    journal_dir: Path | None = None

    def __call__(self, conn: Connection, plan: Plan, settings: Settings,
                 env_name: str | None, home: Path, *, saved: bool = False,
                 journal: Journal | None = None) -> int:
        """Run the workflow with terminal callbacks (the plan, the prompt, progress) and
        report; with ``journal``, roll that apply back. Returns the exit code."""
        post_apply = settings.post_apply if self.post_apply else []

        def show(proposed: Plan) -> None:
            click.echo(render.plan_text(proposed, colour=use_colour(), verb="apply"),
                       color=use_colour())
            echo_post_apply_plan(jobs.describe_post_apply(post_apply))

        options = workflow.Options(settings, env_name, conn.environment_type, self.force,
                                   saved, self.post_apply,
                                   self.journal_dir or home / workflow.JOURNALS, self.command)
        with ExitStack() as stack:
            shown: list[Callable[[Result], None]] = []

            def confirm(proposed: Plan) -> bool:
                # The bar starts once the plan is confirmed: a prompt under it would tear.
                if not self._confirmed(proposed, conn):
                    return False
                shown.append(stack.enter_context(
                    progress.applying(len(proposed.changes), result_lines)))
                return True

            seams = workflow.Seams(confirm=confirm, on_plan=show, on_note=_note,
                                   on_result=lambda result: shown[0](result),
                                   on_job_event=echo_job_event,
                                   # A key that may only read stops here, before the journal
                                   # and the first write (exit 4).
                                   before_writing=(write_access,))
            if journal is not None:
                outcome = workflow.rollback(conn.client, journal, options, seams)
            else:
                outcome = workflow.run(conn.client, plan, options, seams)
        echo_ending(outcome, self.command, self.again)
        return outcome.exit_code

    def _confirmed(self, plan: Plan, conn: Connection) -> bool:
        if self.auto_approve:
            return True
        answer = person_says_yes(f"Apply these {len(plan.changes)} changes to {conn.label}?",
                                 self.command, "plan")
        # The answer may have taken minutes: what was read before it is read again.
        conn.client.forget()
        return answer


def person_says_yes(question: str, command: str, what: str) -> bool:
    """Ask ``question`` on the terminal; only "yes" confirms. Without a terminal there is
    nobody to ask: a usage error (exit 64) pointing at --auto-approve."""
    if not sys.stdin.isatty():
        raise UsageError(f"refusing to {command} without a terminal to confirm on; review "
                         f"the {what} and pass --auto-approve")
    answer = click.prompt(f"\n{question} Only 'yes' will be accepted", default="",
                          show_default=False)
    return str(answer).strip() == "yes"


def echo_ending(outcome: workflow.Outcome, command: str, again: str) -> None:
    """How a run ended: blocked, cancelled, interrupted, or its summary and the jobs."""
    if outcome.stage is workflow.Stage.BLOCKED:
        click.echo("Nothing was applied. Fix the plan, or rerun with --force to lift "
                   "the caps.", err=True)
    elif outcome.stage is workflow.Stage.CANCELLED:
        click.echo(f"{command.capitalize()} cancelled; nothing was changed.", err=True)
    elif outcome.interrupted and outcome.report is not None:
        _interrupted(outcome, again)
    elif outcome.report is not None and outcome.journal is not None:
        _summarise(outcome.report, outcome.journal, command)
        for job in outcome.jobs:
            echo_outcome(job)
    if outcome.conflicts:
        click.echo(f"{len(outcome.conflicts)} resource(s) changed since the apply were "
                   "left alone (see Conflict: above); --force undoes them anyway.",
                   err=True)


def write_access(client: AlmaClient, plan: Plan) -> None:
    check_write_access(client)


def _note(sentence: str) -> None:
    click.echo(sentence, err=True)


def result_lines(result: Result) -> tuple[str, str | None]:
    """The line for one result (stdout), and its error line (stderr) if it failed."""
    line = f"{result.outcome.value:8} {result.change.action.symbol} {result.change.name}"
    error = f"         {result.change.name}: {result.error}" if result.error else None
    return line, error


def _summarise(report: ApplyReport, journal: Path, command: str) -> None:
    counts = {o: len(report.of(o)) for o in Outcome}
    extra = "".join(f", {counts[o]} {o.value}" for o in
                    (Outcome.STALE, Outcome.NOT_APPLIED, Outcome.UNKNOWN) if counts[o])
    click.echo(f"{command.capitalize()}: {counts[Outcome.APPLIED]} applied, "
               f"{counts[Outcome.FAILED]} failed, {counts[Outcome.SKIPPED]} skipped{extra}.")
    click.echo(f"Journal of this run: {journal} (undo with `almasync rollback {journal}`)",
               err=True)
    if report.aborted:
        click.echo(f"The run stopped: {report.aborted}", err=True)
    if report.ok:
        return
    if report.aborted or counts[Outcome.SKIPPED] or counts[Outcome.UNKNOWN]:
        click.echo(f"Run {command} again to finish: what was applied will not be repeated.",
                   err=True)
    else:
        click.echo(f"Fix what failed (see above), then run {command} again: what was applied "
                   "will not be repeated.", err=True)


def _interrupted(outcome: workflow.Outcome, again: str) -> None:
    """What an interrupted run did: every change applied, not applied or unknown."""
    report = outcome.report
    assert report is not None
    applied = report.of(Outcome.APPLIED)
    unknown = report.of(Outcome.UNKNOWN)
    rest = len(report.results) - len(applied) - len(unknown)
    click.echo(f"Interrupted by {outcome.interrupted}: {len(applied)} applied, {rest} not "
               f"applied, {len(unknown)} unknown.")
    for result in applied:
        click.echo(f"  applied      {result.change.action.symbol} {result.change.name}")
    for result in unknown:
        click.echo(f"  unknown      {result.change.action.symbol} {result.change.name}: "
                   f"{result.error}")
    if outcome.journal is None:
        click.echo("Nothing was written.", err=True)
        return
    click.echo(f"Journal of this run: {outcome.journal}", err=True)
    click.echo(f"Next: `{again}` finishes the work, or `almasync rollback {outcome.journal}` "
               "undoes what was applied.", err=True)
