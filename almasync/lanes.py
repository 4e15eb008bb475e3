"""Which of a plan's changes may be written at the same time.

A plan is cut into waves: runs of consecutive changes of one kind and one direction (the
deletes of a kind, or its creates and updates). A wave starts only when the one before it
has settled, so the order across kinds that plans document (deletes first, in reverse
dependency order, then creates and updates in dependency order) holds exactly as when one
change is written at a time.

Within a wave, changes are grouped into lanes. Two changes share a lane when they write
the same thing in Alma (``KindHandler.write_target``: every declaration of one code table,
for instance, since each is a read of the whole table and a PUT of it; every set, since
each is found by a search of the list that any set's write changes) or when one depends
on the other (``KindHandler.dependencies``, or a delete waiting on the delete of a
resource that refers to it). A lane is written one change at a time, in plan order; the
lanes of a wave run side by side.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

from almasync.kinds import HANDLERS
from almasync.model import Key, Kind
from almasync.plan.changes import Action, Change

Ref = tuple[Kind, Key]
#: A lane: indices into the plan's changes, in plan order.
Lane = list[int]


def dependencies(change: Change) -> set[Ref]:
    """The resources ``change`` refers to (what it is written after)."""
    fields = change.before if change.action is Action.DELETE else change.after
    return set(HANDLERS[change.kind].dependencies(change.key, fields or {}))


def delete_referrers(changes: Sequence[Change]) -> dict[Ref, list[Ref]]:
    """For each resource, the deletes among ``changes`` of resources that refer to it."""
    found: dict[Ref, list[Ref]] = {}
    for change in changes:
        if change.action is Action.DELETE:
            for dependency in dependencies(change):
                found.setdefault(dependency, []).append((change.kind, change.key))
    return found


def waiting_on(change: Change, referrers: Mapping[Ref, list[Ref]]) -> list[Ref]:
    """What must have applied before ``change`` may be written: for a delete, the deletes
    of what refers to it; otherwise what it refers to."""
    if change.action is Action.DELETE:
        return list(referrers.get((change.kind, change.key), []))
    return sorted(dependencies(change))


def write_target(change: Change) -> Hashable:
    """What in Alma the write of ``change`` changes (see ``KindHandler.write_target``)."""
    fields = change.before if change.action is Action.DELETE else change.after
    return change.kind, HANDLERS[change.kind].write_target(change.key, fields or {})


def waves(changes: Sequence[Change]) -> list[list[Lane]]:
    """The plan's waves, in plan order, each as its lanes (ordered by their first change)."""
    referrers = delete_referrers(changes)
    found: list[list[Lane]] = []
    start = 0
    for end in range(1, len(changes) + 1):
        if end == len(changes) or _wave(changes[end]) != _wave(changes[start]):
            found.append(_lanes(changes, range(start, end), referrers))
            start = end
    return found


def _wave(change: Change) -> tuple[Kind, bool]:
    return change.kind, change.action is Action.DELETE


def _lanes(changes: Sequence[Change], indices: range,
           referrers: Mapping[Ref, list[Ref]]) -> list[Lane]:
    """Union-find over one wave: same write target, or one waits on the other."""
    parent = {index: index for index in indices}

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    def join(one: int, other: int) -> None:
        first, second = root(one), root(other)
        parent[max(first, second)] = min(first, second)

    at = {(changes[index].kind, changes[index].key): index for index in indices}
    by_target: dict[Hashable, int] = {}
    for index in indices:
        change = changes[index]
        join(index, by_target.setdefault(write_target(change), index))
        for ref in (*dependencies(change), *referrers.get((change.kind, change.key), [])):
            if ref in at:
                join(index, at[ref])
    lanes: dict[int, Lane] = {}
    for index in indices:
        lanes.setdefault(root(index), []).append(index)
    return sorted(lanes.values())
