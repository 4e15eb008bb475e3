"""Rollback: the plan that undoes what an apply's journal says took effect."""

from __future__ import annotations

from almasync.journal import SENSITIVE, Journal, State
from almasync.kinds import HANDLERS, rank
from almasync.model import Fields, Kind
from almasync.plan.changes import Action, Change, order_key
from almasync.plan.differ import field_diffs, fingerprint
from almasync.plan.plan import Plan


def inverse(journal: Journal) -> Plan:
    """The plan that undoes the applied changes of a journal: created resources deleted,
    updated fields set back, deleted resources created again from their saved state."""
    changes = []
    for change, state, live in journal.entries():
        if state is not State.APPLIED:
            continue
        undo = _undo(change, live)
        if undo is not None:
            changes.append(undo)
    changes.sort(key=lambda c: order_key(c, rank(c.kind)))
    plan = journal.plan()
    # The live counts of the apply being undone, so percentage caps judge the rollback
    # against the same institution rather than against nothing.
    counts: dict[Kind, int] = dict(plan.live_counts)
    return Plan(tuple(changes), live_counts=counts, target=dict(plan.target))


def _undo(change: Change, live: Fields | None) -> Change | None:
    if change.action is Action.CREATE:
        after = dict(change.after or {})
        return Change(Action.DELETE, change.kind, change.key, after, None, (),
                      fingerprint(after))
    if live is None:
        return None
    restored = {k: v for k, v in live.items() if v != SENSITIVE}
    if change.action is Action.DELETE:
        return Change(Action.CREATE, change.kind, change.key, None, restored)
    handler = HANDLERS[change.kind]
    before = handler.restoring(change.after or {}, restored)
    want, have = handler.comparable(before, change.after or {})
    return Change(Action.UPDATE, change.kind, change.key, dict(have), before,
                  field_diffs(want, have))
