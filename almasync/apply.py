"""Applying a plan: ordered writes, dependencies, read-back after lost writes.

No printing and no click; the CLI passes ``on_result`` to show progress. Errors Alma returns
for one change fail that change only. Losing Alma altogether (unreachable, key refused,
quota spent) stops the run; the report says what was applied before that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from almasync.alma.client import AlmaClient, WriteOutcomeUnknown
from almasync.alma.readback import Written
from almasync.errors import AlmaError, AlmasyncError, AlmaUnavailable, ExitCode
from almasync.kinds import HANDLERS
from almasync.model import Fields, Key, Kind
from almasync.plan.changes import Action, Change
from almasync.plan.plan import Plan

Ref = tuple[Kind, Key]


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


def apply_plan(client: AlmaClient, plan: Plan, *,
               recheck: Callable[[Change, Fields | None], bool] | None = None,
               on_result: Callable[[Result], None] | None = None,
               before_write: Callable[[Change], None] | None = None,
               stopping: Callable[[], bool] | None = None) -> ApplyReport:
    """Make the plan's changes in order.

    A change is skipped when one it depends on did not apply. With ``recheck``, each update
    and delete re-reads its resource right before writing and is marked stale (not written)
    when ``recheck(change, current)`` is false; not a change that depends on one this run
    has applied (see :func:`_own_writes_precede`). ``before_write(change)`` is called right
    before a change's first request goes out (the journal records the intent there).
    ``stopping()`` is asked before each change: once true, no further write starts and
    the changes left are reported as not applied.
    """
    report = ApplyReport()
    done: dict[Ref, Outcome] = {}
    referrers = _delete_referrers(plan)
    for index, change in enumerate(plan.changes):
        if stopping is not None and stopping():
            for rest in plan.changes[index:]:
                _record(report, done, Result(rest, Outcome.NOT_APPLIED,
                                             "not started: the run was interrupted"),
                        on_result)
            break
        check = None if _own_writes_precede(change, done) else recheck
        result = _blocked(change, done, referrers) or _attempt(client, change, check,
                                                               before_write)
        if isinstance(result, Result):
            _record(report, done, result, on_result)
            continue
        settled, stop = result
        report.aborted = str(stop)
        rest_results = [Result(c, Outcome.SKIPPED, "not attempted: the run stopped")
                        for c in plan.changes[index + 1:]]
        for item in (settled, *rest_results):
            _record(report, done, item, on_result)
        break
    return report


def _record(report: ApplyReport, done: dict[Ref, Outcome], result: Result,
            on_result: Callable[[Result], None] | None) -> None:
    report.results.append(result)
    done[(result.change.kind, result.change.key)] = result.outcome
    if on_result:
        on_result(result)


def _dependencies(change: Change) -> set[Ref]:
    fields = change.before if change.action is Action.DELETE else change.after
    return set(HANDLERS[change.kind].dependencies(change.key, fields or {}))


def _own_writes_precede(change: Change, done: Mapping[Ref, Outcome]) -> bool:
    """Whether a change this change depends on was applied earlier in this run. That write
    may itself change what this change was planned against (a row added to a code table
    shows up in the table's translations), so re-reading cannot tell it from a change made
    by someone else: such a change is not rechecked. A saved plan's stale check, made
    before its first write, has already compared it with what was planned."""
    return any(done.get(ref) is Outcome.APPLIED for ref in _dependencies(change))


def _delete_referrers(plan: Plan) -> dict[Ref, list[Ref]]:
    """For each resource, the deletes in the plan of resources that refer to it."""
    found: dict[Ref, list[Ref]] = {}
    for change in plan.of(Action.DELETE):
        for dependency in _dependencies(change):
            found.setdefault(dependency, []).append((change.kind, change.key))
    return found


def _blocked(change: Change, done: Mapping[Ref, Outcome],
             referrers: Mapping[Ref, list[Ref]]) -> Result | None:
    if change.action is Action.DELETE:
        waiting = referrers.get((change.kind, change.key), [])
    else:
        waiting = sorted(_dependencies(change))
    for kind, key in waiting:
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
