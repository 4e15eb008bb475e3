"""The apply workflow, below the command line: everything between "here is a plan" and "this
is what happened". ``apply``, ``rollback`` and the tests call :func:`run`; the CLI only
parses options, renders the plan and the outcome, and asks for confirmation through a
callback.

The steps, in order: the safety rules, the readiness and environment checks, confirmation,
the lock, the checks that must pass before the first write, a full read of everything the
plan touches (with the stale check of a saved plan), the journal, the writes, the read-back
of every written resource, and the ``post_apply`` jobs. Each extension point is a field of
:class:`Seams`; none of them prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from almasync import engine, jobs
from almasync.alma.client import AlmaClient
from almasync.apply import ApplyReport, Result, apply_plan
from almasync.apply import Outcome as Done
from almasync.config.settings import Settings
from almasync.errors import ExitCode, StalePlanError
from almasync.jobs import JobOutcome
from almasync.journal import Journal, State
from almasync.model import Fields, Key, Kind
from almasync.plan import safety
from almasync.plan.changes import Change
from almasync.plan.plan import Plan

#: Where journals go when nothing else is said: beside the config, like ``.git``.
JOURNALS = Path(".almasync") / "journals"

Check = Callable[[AlmaClient, Plan], None]


_STATES = {Done.APPLIED: State.APPLIED, Done.FAILED: State.FAILED,
           Done.SKIPPED: State.SKIPPED, Done.STALE: State.NOT_APPLIED,
           Done.NOT_APPLIED: State.NOT_APPLIED, Done.UNKNOWN: State.UNKNOWN}


def _yes(plan: Plan) -> bool:
    return True


def _ignore(_: object) -> None:
    return None


@dataclass(frozen=True)
class Seams:
    """The extension points of :func:`run`.

    ``confirm(plan)``: asked once, after the safety rules and before anything else touches
    Alma's state; false cancels the run (nothing written, no journal).
    ``lock()``: a context manager held from just after confirmation to the end of the
    read-back; waits for, or refuses, another run against the same institution.
    ``before_writing``: checks run under the lock, before the journal and the first write;
    each may raise an :class:`~almasync.errors.AlmasyncError` to stop the run with nothing
    written and no journal.
    ``on_note(sentence)``: what the user should read (safety verdicts, stale resources).
    ``on_result(result)``: each change's outcome as it happens.
    ``on_job_event``: progress of the ``post_apply`` jobs.
    """

    confirm: Callable[[Plan], bool] = _yes
    lock: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext
    before_writing: tuple[Check, ...] = ()
    on_note: Callable[[str], None] = _ignore
    on_result: Callable[[Result], None] = _ignore
    on_job_event: Callable[[jobs.JobEvent], None] = _ignore


@dataclass(frozen=True)
class Options:
    """What the run is asked to do. ``saved``: the plan was saved earlier (``plan --out``),
    so it is refused when stale and each change is re-checked right before its write."""

    settings: Settings = field(default_factory=Settings)
    env_name: str | None = None
    environment_type: str | None = None
    force: bool = False
    saved: bool = False
    post_apply: bool = True
    journal_dir: Path = JOURNALS
    command: str = "apply"


class Stage(Enum):
    """How far a run got."""

    EMPTY = "empty"            # nothing to do
    BLOCKED = "blocked"        # a safety rule stopped it
    CANCELLED = "cancelled"    # not confirmed
    WRITTEN = "written"        # the writes were attempted (see the report)


@dataclass
class Outcome:
    stage: Stage
    report: ApplyReport | None = None
    journal: Path | None = None
    jobs: list[JobOutcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.stage is Stage.BLOCKED:
            return ExitCode.BLOCKED
        if self.stage is Stage.CANCELLED:
            return ExitCode.ERROR
        if self.report is None:
            return ExitCode.OK
        if not self.report.ok:
            return int(self.report.exit_code)
        return jobs.post_apply_exit(self.jobs)


def run(client: AlmaClient, plan: Plan, options: Options, seams: Seams = Seams()) -> Outcome:
    """Apply ``plan`` through every step of the workflow; see the module text.

    Errors that stop the run before its first write (not ready, wrong environment, a stale
    saved plan, a failed ``before_writing`` check) are raised, and leave no journal.
    """
    if plan.empty:
        return Outcome(Stage.EMPTY)
    verdict = safety.judge(plan, options.settings.safety.for_environment(options.env_name))
    for sentence in verdict.blocking(options.force):
        seams.on_note(f"Blocked by a safety rule: {sentence}")
    if verdict.blocking(options.force):
        return Outcome(Stage.BLOCKED)
    if options.force:
        for sentence in verdict.caps:
            seams.on_note(f"Safety cap lifted by --force: {sentence}")
    engine.check_ready(plan)
    engine.check_environment(client, options.environment_type)
    if not seams.confirm(plan):
        return Outcome(Stage.CANCELLED)
    with seams.lock():
        for check in seams.before_writing:
            check(client, plan)
        # The plan's own reads may be brief list entries; the journal must hold whole
        # resources so that rollback can create a deleted one again.
        touched = engine.read_touched(client, plan)
        if options.saved:
            _refuse_stale(plan, touched, seams)
        journal = Journal.start(plan, touched, options.journal_dir, command=options.command)
        recheck = _still_as_planned if options.saved else None
        index = {id(change): i for i, change in enumerate(plan.changes)}

        def before_write(change: Change) -> None:
            journal.mark(index[id(change)], State.STARTED)

        def on_result(result: Result) -> None:
            journal.mark(index[id(result.change)], _STATES[result.outcome], result.error,
                         result.code)
            seams.on_result(result)

        report = apply_plan(client, plan, recheck=recheck, on_result=on_result,
                            before_write=before_write)
        journal.finish(report.aborted)
    outcome = Outcome(Stage.WRITTEN, report, journal.path)
    post_apply = options.settings.post_apply if options.post_apply else []
    if report.ok and post_apply:
        # Jobs never run after a failed or partial apply.
        outcome.jobs = jobs.run_post_apply(client, post_apply, seams.on_job_event)
    return outcome


def _refuse_stale(plan: Plan, touched: Mapping[Kind, Mapping[Key, Fields]],
                  seams: Seams) -> None:
    stale = engine.find_stale(plan, touched)
    for sentence in stale:
        seams.on_note(f"Stale: {sentence}")
    if stale:
        raise StalePlanError(f"the saved plan is stale ({len(stale)} resources changed "
                             "since it was made); nothing was applied. Make a new plan.")


def _still_as_planned(change: Change, current: Fields | None) -> bool:
    return current is not None and engine.recorded_view(change, current) == change.fingerprint


