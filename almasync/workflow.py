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
import signal
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from almasync import engine, jobs
from almasync import rollback as undo
from almasync.alma.client import AlmaClient
from almasync.apply import (
    INTERRUPTED,
    ApplyReport,
    Held,
    Result,
    apply_plan,
    read_one,
    took_effect,
)
from almasync.apply import Outcome as Done
from almasync.config.settings import Settings
from almasync.errors import AlmasyncError, ExitCode, StalePlanError
from almasync.jobs import JobOutcome
from almasync.journal import Journal, State
from almasync.model import Fields, Key, Kind
from almasync.plan import safety
from almasync.plan.changes import Action, Change
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
    ``on_plan(plan)``: the plan about to be run, first of all (the CLI shows it).
    ``on_note(sentence)``: what the user should read (safety verdicts, stale resources).
    ``on_result(result)``: each change's outcome, in plan order, as soon as it and those
    before it are known (independent writes may be answered in another order), always on
    the thread that called :func:`run`.
    ``on_job_event``: progress of the ``post_apply`` jobs.
    ``stop``: a stop shared with other runs (apply over several environments, one thread
    each): the thread that owns the signals sets it, and this run starts no further write.
    """

    confirm: Callable[[Plan], bool] = _yes
    on_plan: Callable[[Plan], None] = _ignore
    lock: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext
    before_writing: tuple[Check, ...] = ()
    on_note: Callable[[str], None] = _ignore
    on_result: Callable[[Result], None] = _ignore
    on_job_event: Callable[[jobs.JobEvent], None] = _ignore
    stop: SharedStop | None = None


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
    #: After a first SIGINT/SIGTERM, how long to wait for the answers of the writes in
    #: flight before reading those resources back instead.
    grace: float = 10.0


class Stage(Enum):
    """How far a run got."""

    EMPTY = "empty"            # nothing to do
    BLOCKED = "blocked"        # a safety rule stopped it
    CANCELLED = "cancelled"    # not confirmed
    INTERRUPTED = "interrupted"  # a signal came before the first write: nothing written
    WRITTEN = "written"        # the writes were attempted (see the report)


@dataclass
class Outcome:
    stage: Stage
    report: ApplyReport | None = None
    journal: Path | None = None
    jobs: list[JobOutcome] = field(default_factory=list)
    #: The signal that interrupted the run (SIGINT, SIGTERM), if one did.
    interrupted: str | None = None
    #: Rollback: resources changed since the apply, left alone.
    conflicts: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.stage is Stage.BLOCKED:
            return ExitCode.BLOCKED
        if self.stage is Stage.CANCELLED:
            return ExitCode.ERROR
        if self.report is not None and not self.report.ok:
            return int(self.report.exit_code)
        if self.conflicts:
            return ExitCode.APPLY_FAILED
        return jobs.post_apply_exit(self.jobs)


def run(client: AlmaClient, plan: Plan, options: Options, seams: Seams = Seams()) -> Outcome:
    """Apply ``plan`` through every step of the workflow; see the module text.

    Errors that stop the run before its first write (not ready, wrong environment, a stale
    saved plan, a failed ``before_writing`` check) are raised, and leave no journal.
    """
    seams.on_plan(plan)
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
    # One memory of reads for the run (see AlmaClient.memo): the full read below is the
    # journal's snapshot, a saved plan's stale check, the recheck before each write and the
    # current object each update merges into; a write forgets what it may change, so the
    # read-back reads it from Alma again.
    with seams.lock(), client.memo(), \
            _Signals(options.grace, seams.on_note, seams.stop) as signals:
        for check in seams.before_writing:
            check(client, plan)
        # The plan's own reads may be brief list entries; the journal must hold whole
        # resources so that rollback can create a deleted one again.
        touched = engine.read_touched(client, plan)
        if options.saved:
            _refuse_stale(plan, touched, seams)
        if signals.stop.is_set():
            return Outcome(Stage.INTERRUPTED, ApplyReport([Result(
                c, Done.NOT_APPLIED, "not started: the run was interrupted")
                for c in plan.changes]), None, interrupted=signals.name)
        journal = Journal.start(plan, touched, options.journal_dir, command=options.command)
        writer = _Writer(client, plan, journal, seams, signals)
        try:
            report = writer.write(_still_as_planned if options.saved else None)
        except StoppedAtOnce as exc:
            writer.close()  # the writes in flight stay marked started
            journal.finish("stopped at once by a second signal")
            raise StoppedAtOnce(exc.signum, journal.path) from None
        if signals.stop.is_set():
            journal.finish(f"interrupted by {signals.name}")
            return Outcome(Stage.WRITTEN, report, journal.path, interrupted=signals.name)
        report = writer.read_back(report)
        journal.finish(report.aborted)
    outcome = Outcome(Stage.WRITTEN, report, journal.path)
    post_apply = options.settings.post_apply if options.post_apply else []
    if report.ok and post_apply:
        # Jobs never run after a failed or partial apply.
        with client.without_memo():  # a job's progress is polled: never remembered
            outcome.jobs = jobs.run_post_apply(client, post_apply, seams.on_job_event)
    return outcome


def rollback(client: AlmaClient, journal: Journal, options: Options,
             seams: Seams = Seams()) -> Outcome:
    """Undo what ``journal`` says took effect (see :mod:`almasync.rollback`): settle what
    may have happened by reading Alma, then run the undo plan like any plan. Conflicts are
    reported through ``on_note`` and make the exit code 7 unless ``options.force``."""
    found = undo.plan_undo(client, journal, force=options.force)
    for sentence in found.settled:
        seams.on_note(f"Settled: {sentence}")
    for sentence in found.nothing_to_do:
        seams.on_note(f"Nothing to undo: {sentence}")
    for sentence in found.conflicts:
        seams.on_note(f"Conflict: {sentence}")
    options = replace(options, post_apply=False, command="rollback")
    outcome = run(client, found.plan, options, seams)
    if not options.force:
        outcome.conflicts = found.conflicts
    return outcome


class StoppedAtOnce(KeyboardInterrupt):
    """A second SIGINT or SIGTERM: the run stopped where it was. A write may have been in
    flight; the journal (``journal``, when one was written) says which."""

    def __init__(self, signum: int, journal: Path | None = None) -> None:
        super().__init__(signum, journal)
        self.signum = signum
        self.journal = journal


class SharedStop(threading.Event):
    """A stop request shared by runs on several threads: :meth:`request` names the signal
    that asked for it. Signals reach only the main thread, which owns them and calls it."""

    name: str | None = None

    def request(self, name: str) -> None:
        self.name = name
        self.set()


class _GraceOver(BaseException):
    """Raised by the timer, in the thread waiting for the writes, when the grace period
    ends with writes still in flight."""


class _Signals:
    """SIGINT and SIGTERM while writing: the first asks the run to stop starting writes
    (and arms a timer of ``grace`` seconds for the writes in flight); the second stops at
    once. Outside the main thread signals cannot be caught; the run then stops starting
    writes only when its ``shared`` stop is set (by the thread that owns the signals)."""

    def __init__(self, grace: float, on_note: Callable[[str], None],
                 shared: SharedStop | None = None) -> None:
        self.grace = grace
        self.on_note = on_note
        self.stop: threading.Event = shared if shared is not None else threading.Event()
        self._name: str | None = None
        #: Writes in flight (the grace timer is armed only when there are some).
        self.in_flight = 0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._caught)
            if hasattr(signal, "SIGALRM"):
                self._previous[signal.SIGALRM] = signal.signal(signal.SIGALRM, self._timer)
        return self

    def __exit__(self, *exc: object) -> None:
        self.disarm()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    @property
    def name(self) -> str | None:
        """The signal that stopped the run: caught here, or by the owner of a shared stop."""
        return self._name or (self.stop.name if isinstance(self.stop, SharedStop) else None)

    def disarm(self) -> None:
        if signal.SIGALRM in self._previous:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _caught(self, signum: int, frame: object) -> None:
        if self.stop.is_set():
            raise StoppedAtOnce(signum)
        self._name = signal.Signals(signum).name
        self.stop.set()
        self.on_note(f"{self.name} received: no further write starts; settling those in "
                     "flight (a second signal stops at once).")
        if self.in_flight and signal.SIGALRM in self._previous and self.grace > 0:
            signal.setitimer(signal.ITIMER_REAL, self.grace)

    def _timer(self, signum: int, frame: object) -> None:
        if self.in_flight:
            raise _GraceOver()


class _Writer:
    """The write phase: journal marks around each write, interruption, read-back.

    Writes run on the worker threads of :func:`~almasync.apply.apply_plan`, which mark the
    journal as each write starts and settles. A mark is recorded under ``lock`` and then
    flushed, one flush at a time (``disk``); a flush writes every mark recorded before it,
    so marks made while another flush is under way share the next one. A write's request
    goes out only once a flush holding its ``started`` mark is done. Progress and the
    report come in plan order on the thread that runs the writer."""

    def __init__(self, client: AlmaClient, plan: Plan, journal: Journal, seams: Seams,
                 signals: _Signals) -> None:
        self.client = client
        self.plan = plan
        self.journal = journal
        self.seams = seams
        self.signals = signals
        self.index = {id(change): i for i, change in enumerate(plan.changes)}
        self.results: list[Result] = []
        #: Writes started and not settled yet (with the mark that started them), and every
        #: outcome known, by plan index.
        self.flying: dict[int, tuple[Change, int]] = {}
        self.settled: dict[int, Result] = {}
        self.closed = False
        self.lock = threading.Lock()
        self.disk = threading.Lock()
        self.recorded = 0   # marks recorded (under lock)
        self.flushed = 0    # marks on disk (under disk)

    def before_write(self, change: Change) -> None:
        index = self.index[id(change)]
        with self.lock:
            if self.closed or self.signals.stop.is_set():
                raise Held()
            mark = self._record(index, State.STARTED)
            self.flying[index] = (change, mark)
            self.signals.in_flight = len(self.flying)
        if not self._flush(mark):
            raise Held()  # closed before the mark was on disk: close() took it back

    def on_settled(self, result: Result) -> None:
        index = self.index[id(result.change)]
        with self.lock:
            if self.closed:  # after the grace period: this run settles it by reading back
                return
            self.settled[index] = result
            mark = self._record(index, _STATES[result.outcome], result.error, result.code)
            if self.flying.pop(index, None) is not None:
                self.signals.in_flight = len(self.flying)
                if not self.flying:
                    self.signals.disarm()
        self._flush(mark)

    def _record(self, index: int, state: State, note: str | None = None,
                code: str | None = None) -> int:
        """Record a mark in memory (``lock`` held); its number, for :meth:`_flush`."""
        self.journal.record(index, state, note, code)
        self.recorded += 1
        return self.recorded

    def _flush(self, mark: int) -> bool:
        """Have mark number ``mark`` on disk; false when the writer was closed first (the
        thread that closed it then writes the journal alone)."""
        with self.disk:
            if self.flushed >= mark:
                return True
            with self.lock:
                if self.closed:
                    return False
                text, upto = self.journal.text(), self.recorded
            self.journal.write(text)
            self.flushed = upto
        return True

    def _mark(self, index: int, result: Result) -> None:
        """A mark made by the thread that closed the writer."""
        self.settled[index] = result
        self.journal.mark(index, _STATES[result.outcome], result.error, result.code)

    def on_result(self, result: Result) -> None:
        self.results.append(result)
        self.seams.on_result(result)

    def close(self) -> None:
        """No mark from a worker thread after this (the run stops or settles them itself).
        A write whose ``started`` mark is not on disk yet has not gone out and never will
        (its thread is refused at :meth:`before_write`): it is pending again."""
        with self.disk, self.lock:
            self.closed = True
            for index, (_, mark) in list(self.flying.items()):
                if mark > self.flushed:
                    del self.flying[index]
                    self.journal.record(index, State.PENDING)
            self.signals.in_flight = 0

    def write(self, recheck: Callable[[Change, Fields | None], bool] | None) -> ApplyReport:
        try:
            return apply_plan(self.client, self.plan, recheck=recheck,
                              on_result=self.on_result, before_write=self.before_write,
                              on_settled=self.on_settled, stopping=self.signals.stop.is_set)
        except _GraceOver:
            pass
        # The answers did not all come within the grace period: read those resources back.
        self.close()
        reported = len(self.results)
        for index, change in enumerate(self.plan.changes[reported:], start=reported):
            result = self.settled.get(index)
            if result is None:
                result = (self._settle(change) if index in self.flying else
                          Result(change, Done.NOT_APPLIED, INTERRUPTED))
                self._mark(index, result)
            self.on_result(result)
        return ApplyReport(list(self.results), None)

    def _settle(self, change: Change) -> Result:
        wait = f"no answer within {self.signals.grace:g} s of the interruption"
        try:
            current = read_one(self.client, change.kind, change.key, change.after)
        except AlmasyncError as exc:
            return Result(change, Done.UNKNOWN, f"{wait}, and reading it back failed ({exc})"
                          f": check {change.name} in Alma")
        if took_effect(change, current, exact=True):
            return Result(change, Done.APPLIED)
        return Result(change, Done.UNKNOWN, f"{wait}; a read-back does not show it done yet, "
                      f"but it may still land: check {change.name} in Alma")

    def read_back(self, report: ApplyReport) -> ApplyReport:
        """Read every written resource again: each must now be as this run wrote it. A
        difference means someone else wrote in between; the change then fails.

        A delete Alma acknowledged is not read back, nor a create whose answer showed it
        stored as sent. Each other write is read again where it went: a change whose every
        write still holds what was sent stands (:meth:`AlmaClient.confirms`). Any other
        change (a write no GET shows, such as a set's members, or one that reads back
        otherwise than sent) is read in full, as for the journal, and compared with what
        the plan declares."""
        applied = [r for r in report.results if r.outcome is Done.APPLIED
                   and r.change.action is not Action.DELETE]
        if not applied:
            return report
        try:
            # One read per write, side by side through the client's one rate limit.
            holds = self.client.map(lambda r: self.client.confirms(r.writes), applied)
            confirmed = {id(r.change) for r, ok in zip(applied, holds, strict=True) if ok}
            written = [r.change for r in applied if id(r.change) not in confirmed]
            touched = engine.read_touched(self.client, Plan(tuple(written))) if written \
                else {}
        except AlmasyncError as exc:
            self.seams.on_note(f"Could not read back what was written: {exc}")
            return report
        checked = {id(change) for change in written}
        results = []
        for result in report.results:
            change = result.change
            current = touched.get(change.kind, {}).get(change.key)
            if id(change) in checked and not took_effect(change, current, exact=True):
                note = ("written, but reading it back shows another state: someone else "
                        "changed it in between; plan again and check it")
                self.journal.mark(self.index[id(change)], State.APPLIED, note)
                self.seams.on_note(f"Read back: {change.name}: {note}")
                result = Result(change, Done.FAILED, note)
            results.append(result)
        return ApplyReport(results, report.aborted)


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


