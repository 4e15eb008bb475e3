"""Rollback: the plan that undoes exactly what an apply's journal says took effect.

Every change the journal marks ``started`` or ``unknown`` is settled first by reading Alma.
Only writes that took effect are undone: a resource the apply created is deleted, an
update is set back (a table gets back its changed rows and loses the rows the apply added;
nothing else in it moves), a deleted resource is created again from its saved state. A
resource that changed since the apply is a conflict: reported and left alone unless
``force``. A rollback never deletes what the apply did not create.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from almasync import engine
from almasync.alma.client import AlmaClient
from almasync.apply import absent, took_effect
from almasync.journal import SENSITIVE, Journal, State
from almasync.kinds import HANDLERS, rank
from almasync.kinds.table_rows import ROWS, TableHandler, row_key
from almasync.model import Fields, Key, Kind
from almasync.plan.changes import ABSENT, Action, Change, FieldDiff, order_key
from almasync.plan.differ import field_diffs, fingerprint
from almasync.plan.plan import Plan

MAY_HAVE_HAPPENED = (State.STARTED, State.UNKNOWN)


@dataclass
class Undo:
    """The undo plan, and what was found on the way."""

    plan: Plan
    #: Resources changed since the apply, left alone (unless forced).
    conflicts: list[str] = field(default_factory=list)
    #: "May have happened" writes and what reading Alma showed.
    settled: list[str] = field(default_factory=list)
    #: Writes that took effect but need no undo any more (already as before).
    nothing_to_do: list[str] = field(default_factory=list)


def plan_undo(client: AlmaClient, journal: Journal, *, force: bool = False) -> Undo:
    """Read Alma for every change that may have taken effect and plan its undo."""
    entries = [(change, state, saved) for change, state, saved in journal.entries()
               if state is State.APPLIED or state in MAY_HAVE_HAPPENED]
    current: Mapping[Kind, Mapping[Key, Fields]] = {}
    if entries:
        current = engine.read_touched(client, Plan(tuple(c for c, _, _ in entries)))
    undo = Undo(Plan(()))
    changes = []
    for change, state, saved in entries:
        live = current.get(change.kind, {}).get(change.key)
        if state in MAY_HAVE_HAPPENED:
            happened = _settle(change, saved, live)
            undo.settled.append(f"{change.name} ({state.value}): "
                                + ("Alma shows it done" if happened else
                                   "Alma shows it was not done" if happened is False else
                                   "Alma shows neither it nor the state before it"))
            if happened is None:
                undo.conflicts.append(f"{change.name}: the write may have happened, and "
                                      "Alma holds another state than before or after it; "
                                      "left alone")
                continue
            if not happened:
                continue
        if _already_undone(change, saved, live):
            undo.nothing_to_do.append(f"{change.name}: already as before the apply")
            continue
        if not _as_written(change, live):
            undo.conflicts.append(f"{change.name} changed in Alma since the apply"
                                  + ("; undone anyway (--force)" if force else
                                     "; left alone (--force undoes it anyway)"))
            if not force:
                continue
        made = _undo(change, saved, live)
        if made is not None:
            changes.append(made)
    changes.sort(key=lambda c: order_key(c, rank(c.kind)))
    plan = journal.plan()
    # The live counts of the apply being undone, so percentage caps judge the rollback
    # against the same institution rather than against nothing.
    undo.plan = Plan(tuple(changes), live_counts=dict(plan.live_counts),
                     target=dict(plan.target))
    return undo


def _settle(change: Change, saved: Fields | None, live: Fields | None) -> bool | None:
    """Whether a write that may have happened did: True, False, or None when Alma shows
    neither the state before it nor the state after it."""
    if took_effect(change, live, exact=True):
        return True
    if change.action is Action.CREATE:
        return False if absent(live) else None
    if change.action is Action.DELETE:
        return False  # still there
    if live is not None and saved is not None and _same(change, saved, live):
        return False
    return None


def _same(change: Change, saved: Fields, live: Fields) -> bool:
    """Whether ``live`` holds the saved values of what ``change`` writes."""
    handler = HANDLERS[change.kind]
    restored = _restorable(saved)
    if isinstance(handler, TableHandler):
        written = change.after or {}
        if handler.added_rows(written, live) != handler.added_rows(written, restored):
            return False
    want, have = handler.comparable(handler.restoring(change.after or {}, restored), live)
    return want == have


def _already_undone(change: Change, saved: Fields | None, live: Fields | None) -> bool:
    if change.action is Action.CREATE:
        return absent(live)
    if change.action is Action.DELETE:
        return False
    return live is not None and saved is not None and _same(change, saved, live)


def _as_written(change: Change, live: Fields | None) -> bool:
    """Whether the resource is still as the apply left it."""
    return took_effect(change, live, exact=True)


def _restorable(saved: Fields) -> dict[str, object]:
    return {k: v for k, v in saved.items() if v != SENSITIVE}


def _undo(change: Change, saved: Fields | None, live: Fields | None) -> Change | None:
    if change.action is Action.CREATE:
        fields = dict(live or change.after or {})
        return Change(Action.DELETE, change.kind, change.key, fields, None, (),
                      fingerprint(fields))
    if saved is None:
        return None
    restored = _restorable(saved)
    if change.action is Action.DELETE:
        return Change(Action.CREATE, change.kind, change.key, None, restored)
    handler = HANDLERS[change.kind]
    written = change.after or {}
    back = handler.restoring(written, restored)
    if isinstance(handler, TableHandler):
        return Change(Action.UPDATE, change.kind, change.key, dict(live or {}), back,
                      _table_diffs(handler, written, back, live), revert=written)
    want, have = handler.comparable(back, live)
    return Change(Action.UPDATE, change.kind, change.key, dict(have), back,
                  field_diffs(want, have), revert=written)


def _table_diffs(handler: TableHandler, written: Fields, back: Fields,
                 live: Fields | None) -> tuple[FieldDiff, ...]:
    """The rows a table's rollback changes: rows set back, rows removed."""
    want, have = handler.comparable(back, live)
    diffs = list(field_diffs(want, have))
    columns = handler.key_columns(written)
    current = {row_key(row, columns): row for row in (live or {}).get(ROWS, [])}
    restored = {row_key(row, columns) for row in back.get(ROWS, [])}
    for row in written.get(ROWS, []):
        key = row_key(row, columns)
        if key not in restored and key in current:
            diffs.append(FieldDiff(f"rows[{key}]", dict(current[key]), ABSENT))
    return tuple(sorted(diffs, key=lambda d: d.path))
