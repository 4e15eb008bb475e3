"""Applying a plan: writes in order (side by side where the order allows), dependencies,
read-back after lost writes.

No printing and no click; the CLI passes ``on_result`` to show progress. Errors Alma returns
for one change fail that change only. Losing Alma altogether (unreachable, key refused,
quota spent) stops the run; the report says what was applied before that.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from almasync import lanes
from almasync.alma.client import AlmaClient, WriteOutcomeUnknown
from almasync.alma.readback import Written
from almasync.errors import AlmaError, AlmasyncError, AlmaUnavailable, ExitCode
from almasync.kinds import HANDLERS
from almasync.model import Fields, Key, Kind
from almasync.plan.changes import Action, Change
from almasync.plan.plan import Plan

Ref = tuple[Kind, Key]
INTERRUPTED = "not started: the run was interrupted"


class Outcome(Enum):
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"
    STALE = "stale"
    NOT_APPLIED = "not applied"   # not started: the run was interrupted first
    UNKNOWN = "unknown"           # the answer was lost and a read-back could not settle it


@dataclass(frozen=True)
class Result:
    change: Change
    outcome: Outcome
    error: str | None = None
    #: Alma's errorCode when Alma refused the change.
    code: str | None = None
    #: The writes an applied change made, in order (what the read-back reads again).
    writes: tuple[Written, ...] = ()


@dataclass
class ApplyReport:
    results: list[Result] = field(default_factory=list)
    aborted: str | None = None

    def of(self, outcome: Outcome) -> list[Result]:
        return [r for r in self.results if r.outcome is outcome]

    @property
    def ok(self) -> bool:
        return self.aborted is None and all(r.outcome is Outcome.APPLIED for r in self.results)

    @property
    def exit_code(self) -> ExitCode:
        if self.aborted is not None:
            return ExitCode.UNAVAILABLE
        if self.of(Outcome.FAILED) or self.of(Outcome.SKIPPED) or self.of(Outcome.UNKNOWN):
            return ExitCode.APPLY_FAILED
        return ExitCode.STALE_PLAN if self.of(Outcome.STALE) else ExitCode.OK


def read_one(client: AlmaClient, kind: Kind, key: Key, fields: Fields | None) -> Fields | None:
    """The live state of one resource, or None when Alma does not have it."""
    return HANDLERS[kind].read_one(client, key, frozenset(fields or {}))


class Held(Exception):
    """Raised by ``before_write`` to refuse to start a change because the run is stopping:
    the change is reported not applied."""


def apply_plan(client: AlmaClient, plan: Plan, *,
               recheck: Callable[[Change, Fields | None], bool] | None = None,
               on_result: Callable[[Result], None] | None = None,
               before_write: Callable[[Change], None] | None = None,
               on_settled: Callable[[Result], None] | None = None,
               stopping: Callable[[], bool] | None = None,
               workers: int | None = None) -> ApplyReport:
    """Make the plan's changes, independent ones side by side (see :mod:`almasync.lanes`):
    at most ``workers`` (default: the client's workers) at once, every call through the
    client's one rate limiter.

    A change is skipped when one it depends on did not apply. With ``recheck``, each update
    and delete re-reads its resource right before writing and is marked stale (not written)
    when ``recheck(change, current)`` is false; not a change that depends on one this run
    has applied (see :func:`_own_writes_precede`). ``before_write(change)`` is called right
    before a change's first write goes out, and may raise :class:`Held` to keep it from
    starting. ``on_settled(result)`` is called as soon as each change's outcome is known,
    from the thread that wrote it (the journal records both there); ``on_result(result)``
    on the calling thread, in plan order, as the results before it are known (progress and
    the report). ``stopping()`` is asked before each change: once true, no further write
    starts, those in flight finish, and the changes left are reported as not applied.
    Losing Alma also stops further writes: the changes left are reported as not attempted.
    """
    run = _Run(client, plan, recheck, before_write, on_settled, stopping, on_result)
    try:
        for wave in lanes.waves(plan.changes):
            run.wave(wave, workers or client.workers)
    finally:
        run.quit.set()  # an exception (a signal) in this thread: lanes start nothing more
    if run.halt is not None:
        run.report.aborted = str(run.halt)
    return run.report


class _Run:
    """One :func:`apply_plan`: its lanes run on worker threads, its results are released
    in plan order on the calling thread."""

    def __init__(self, client: AlmaClient, plan: Plan,
                 recheck: Callable[[Change, Fields | None], bool] | None,
                 before_write: Callable[[Change], None] | None,
                 on_settled: Callable[[Result], None] | None,
                 stopping: Callable[[], bool] | None,
                 on_result: Callable[[Result], None] | None) -> None:
        self.client, self.changes, self.recheck = client, plan.changes, recheck
        self.before_write, self.on_settled = before_write, on_settled
        self.stopping, self.on_result = stopping or (lambda: False), on_result
        self.referrers = lanes.delete_referrers(plan.changes)
        self.report = ApplyReport()
        self.halt: AlmasyncError | None = None
        self.quit = threading.Event()
        self._lock = threading.Lock()
        self._done: dict[Ref, Outcome] = {}
        self._settled: dict[int, Result] = {}
        self._next = 0
        self._woken: queue.Queue[BaseException | None] = queue.Queue()

    def wave(self, wave: list[lanes.Lane], workers: int) -> None:
        """Write one wave and release its results; returns when every one is known."""
        end = self._next + sum(len(lane) for lane in wave)
        if self.quit.is_set() or self.stopping():
            for index in (index for lane in wave for index in lane):
                self._one(index)
        else:
            todo: queue.SimpleQueue[lanes.Lane] = queue.SimpleQueue()
            for lane in wave:
                todo.put(lane)
            for _ in range(min(workers, len(wave))):
                threading.Thread(target=self._work, args=(todo,), name="almasync-write",
                                 daemon=True).start()
        while self._release() < end:
            try:
                # A timed wait, so that signals reach this thread's handlers promptly.
                failure = self._woken.get(timeout=0.5)
            except queue.Empty:
                continue
            if failure is not None:
                raise failure

    def _work(self, todo: queue.SimpleQueue[lanes.Lane]) -> None:
        """A worker thread (a daemon: a second signal must not wait for its call)."""
        while True:
            try:
                lane = todo.get_nowait()
            except queue.Empty:
                return
            try:
                for index in lane:
                    self._one(index)
                    self._woken.put(None)
            except BaseException as exc:  # a bug: stop the run and raise it where it waits
                self.quit.set()
                self._woken.put(exc)
                return

    def _one(self, index: int) -> None:
        change = self.changes[index]
        if self.stopping():
            result: Result = Result(change, Outcome.NOT_APPLIED, INTERRUPTED)
        elif self.quit.is_set():
            result = Result(change, Outcome.SKIPPED, "not attempted: the run stopped")
        else:
            with self._lock:
                check = None if _own_writes_precede(change, self._done) else self.recheck
                blocked = _blocked(change, self._done, self.referrers)
            try:
                outcome = blocked or _attempt(self.client, change, check, self.before_write)
            except Held:
                outcome = Result(change, Outcome.NOT_APPLIED, INTERRUPTED)
            if isinstance(outcome, tuple):
                result, stop = outcome
                with self._lock:
                    self.halt = self.halt or stop
                self.quit.set()
            else:
                result = outcome
        if self.on_settled is not None:
            self.on_settled(result)
        with self._lock:
            self._done[(change.kind, change.key)] = result.outcome
            self._settled[index] = result

    def _release(self) -> int:
        """Report the results known, in plan order; the index of the first one not known."""
        while True:
            with self._lock:
                result = self._settled.get(self._next)
            if result is None:
                return self._next
            self._next += 1
            self.report.results.append(result)
            if self.on_result is not None:
                self.on_result(result)


def _own_writes_precede(change: Change, done: Mapping[Ref, Outcome]) -> bool:
    """Whether a change this change depends on was applied earlier in this run. That write
    may itself change what this change was planned against (a row added to a code table
    shows up in the table's translations), so re-reading cannot tell it from a change made
    by someone else: such a change is not rechecked. A saved plan's stale check, made
    before its first write, has already compared it with what was planned."""
    return any(done.get(ref) is Outcome.APPLIED for ref in lanes.dependencies(change))


def _blocked(change: Change, done: Mapping[Ref, Outcome],
             referrers: Mapping[Ref, list[Ref]]) -> Result | None:
    for kind, key in lanes.waiting_on(change, referrers):
        if done.get((kind, key), Outcome.APPLIED) is not Outcome.APPLIED:
            return Result(change, Outcome.SKIPPED,
                          f"skipped: depends on {kind.config_key} {'/'.join(key)}, which did not "
                          "apply")
    return None


def _attempt(client: AlmaClient, change: Change,
             recheck: Callable[[Change, Fields | None], bool] | None,
             before_write: Callable[[Change], None] | None
             ) -> Result | tuple[Result, AlmasyncError]:
    """One change: a :class:`Result`, or the result and the error that stops the run (Alma
    itself is lost). Any other error fails this change alone, whichever handler method
    raised it."""
    try:
        if recheck and change.action is not Action.CREATE:
            current = read_one(client, change.kind, change.key, change.after)
            if not recheck(change, current):
                return Result(change, Outcome.STALE, "changed in Alma since the plan was "
                              "made; not written")
    except AlmasyncError as exc:
        return _refused(change, exc, written=False)
    if before_write is not None:
        before_write(change)
    try:
        with client.recording() as writes:
            _write(client, change)
    except WriteOutcomeUnknown as exc:
        return _after_lost_write(client, change, exc)
    except AlmaError as exc:
        if exc.exit_code is not ExitCode.UNAVAILABLE and change.action is Action.DELETE \
                and _gone(client, change):
            return Result(change, Outcome.APPLIED)
        return _refused(change, exc, written=True)
    except AlmasyncError as exc:
        return _refused(change, exc, written=True)
    return Result(change, Outcome.APPLIED, writes=tuple(writes.made))


def _refused(change: Change, exc: AlmasyncError, *, written: bool
             ) -> Result | tuple[Result, AlmasyncError]:
    code = exc.code if isinstance(exc, AlmaError) else None
    failed = Result(change, Outcome.FAILED, str(exc), code)
    if isinstance(exc, AlmaUnavailable) or (isinstance(exc, AlmaError)
                                            and exc.exit_code is ExitCode.UNAVAILABLE):
        return failed, exc
    return failed


def _write(client: AlmaClient, change: Change) -> None:
    handler = HANDLERS[change.kind]
    if change.action is Action.CREATE:
        handler.create(client, change.key, change.after or {})
    elif change.action is Action.UPDATE and change.revert is not None:
        handler.revert(client, change.key, change.revert, change.after or {})
    elif change.action is Action.UPDATE:
        handler.update(client, change.key, change.after or {})
    else:
        handler.delete(client, change.key)


def _gone(client: AlmaClient, change: Change) -> bool:
    """After a refused delete: did an earlier, lost attempt delete it after all?"""
    try:
        return absent(read_one(client, change.kind, change.key, None))
    except AlmasyncError:
        return False


def _after_lost_write(client: AlmaClient, change: Change, lost: AlmasyncError
                      ) -> Result | tuple[Result, AlmasyncError]:
    """A write whose answer was lost: read the resource back. A create found absent is
    made again (POST is never retried blindly, since Alma may have made the resource); an
    update or delete that the read-back shows done is applied; otherwise the outcome is
    unknown and the run stops, since Alma was lost."""
    try:
        current = read_one(client, change.kind, change.key, change.after)
        if took_effect(change, current):
            return Result(change, Outcome.APPLIED)
        if change.action is not Action.CREATE:
            return (Result(change, Outcome.UNKNOWN, f"{lost}; the read-back does not show it "
                           f"done, but it may still land: check {change.name} in Alma"), lost)
        _write(client, change)
    except AlmasyncError as exc:
        refused = _refused(change, exc, written=True)
        if isinstance(refused, Result):
            return refused
        return (Result(change, Outcome.UNKNOWN, f"{exc}: check {change.name} in Alma"), exc)
    return Result(change, Outcome.APPLIED)


def absent(current: Fields | None) -> bool:
    """Whether a read found nothing: no resource, or one with nothing in it (a scope's
    open hours after a delete read back as an empty list)."""
    return current is None or not any(current.values())


def took_effect(change: Change, current: Fields | None, *, exact: bool = False) -> bool:
    """Whether ``current`` (read back) shows the change done. A create counts as done when
    the resource exists, unless ``exact``: then it must also hold what was written."""
    if change.action is Action.DELETE:
        return absent(current)
    if current is None:
        return False
    if change.action is Action.CREATE and not exact:
        return True
    handler = HANDLERS[change.kind]
    written = change.after or {}
    if change.action is Action.CREATE:
        # What Alma assigns on creation (an id) is not compared: only declarable fields.
        declarable = handler.model.model_fields
        written = {k: v for k, v in written.items() if k in declarable}
    want, have = handler.comparable(written, current)
    return want == have
