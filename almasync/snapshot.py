"""Snapshots: the live state of everything an apply changes, saved before it writes, and
the inverse plan that ``almasync rollback`` runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from almasync.errors import ConfigError
from almasync.kinds import HANDLERS, rank
from almasync.model import Fields, Key, Kind
from almasync.plan.changes import Action, Change, order_key
from almasync.plan.differ import field_diffs, fingerprint
from almasync.plan.plan import Plan, changes_from

FORMAT_VERSION = 1
SENSITIVE = "(sensitive)"


def build(plan: Plan, touched: Mapping[Kind, Mapping[Key, Fields]]) -> dict[str, Any]:
    """The snapshot of ``plan``: its changes and the full live state of what they touch.
    Sensitive fields are not kept (a rollback cannot restore a secret)."""
    resources = []
    for change in plan.changes:
        current = touched.get(change.kind, {}).get(change.key)
        hidden = HANDLERS[change.kind].sensitive_fields
        resources.append({
            "kind": change.kind.value, "key_parts": list(change.key),
            "live": None if current is None else
            {k: (SENSITIVE if k in hidden else v) for k, v in current.items()},
        })
    body = plan.to_dict()
    return {"format_version": FORMAT_VERSION, "target": dict(plan.target),
            "plan": body["changes"], "live_counts": body["live_counts"],
            "resources": resources, "applied": None}


def name_for(snapshot: Mapping[str, Any], stamp: str) -> str:
    digest = hashlib.sha256(json.dumps(snapshot["plan"], sort_keys=True).encode()).hexdigest()
    return f"{stamp}-{digest[:8]}.json"


def inverse(snapshot: Mapping[str, Any]) -> Plan:
    """The plan that undoes the applied changes of a snapshot: created resources deleted,
    updated fields set back, deleted resources created again from their saved state."""
    if snapshot.get("format_version") != FORMAT_VERSION:
        raise ConfigError("not an almasync snapshot (or one of another format version)")
    saved = {(r["kind"], tuple(r["key_parts"])): r["live"] for r in snapshot["resources"]}
    applied = snapshot.get("applied")
    try:
        planned = changes_from(snapshot["plan"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"the snapshot is damaged: {exc!r}") from exc
    changes = []
    for change in planned:
        label = "/".join(change.key)
        if applied is not None and label not in applied.get(change.kind.value, []):
            continue
        undo = _undo(change, saved.get((change.kind.value, change.key)))
        if undo is not None:
            changes.append(undo)
    changes.sort(key=lambda c: order_key(c, rank(c.kind)))
    # The live counts of the apply being undone, so percentage caps judge the rollback
    # against the same institution rather than against nothing.
    counts = {Kind(k): int(v) for k, v in snapshot.get("live_counts", {}).items()}
    return Plan(tuple(changes), live_counts=counts, target=dict(snapshot.get("target", {})))


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
