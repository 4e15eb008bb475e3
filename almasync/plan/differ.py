"""The differ: desired vs live resources -> changes. The only module that uses DeepDiff."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from almasync.kinds.base import KindHandler
from almasync.model import Fields, Key, Resource
from almasync.plan.changes import ABSENT, Action, Change, FieldDiff

_PATH_PART = re.compile(r"\[(?:'((?:[^'\\]|\\.)*)'|(\d+))\]")


def fingerprint(fields: Fields | None) -> str | None:
    """A stable digest of a live resource's normalised fields."""
    if fields is None:
        return None
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def field_diffs(desired: Fields, live: Fields) -> tuple[FieldDiff, ...]:
    """Field-level differences between two normalised mappings, sorted by path. A field
    whose value is a list of plain values (a set's members) differs as one value: the
    renderers show it as counts and the ids added and removed."""
    if _same(desired, live):
        return ()  # most resources of a plan are unchanged: DeepDiff only for the others
    out: list[FieldDiff] = []
    desired, live = dict(desired), dict(live)
    for name in [n for n in desired if _plain_list(desired[n]) and _plain_list(live.get(n))]:
        wanted, current = desired.pop(name), live.pop(name)
        if wanted != current:
            out.append(FieldDiff(name, current, wanted))
    from deepdiff import DeepDiff  # imported by the plans that change something

    diff = DeepDiff(live, desired, verbose_level=2, threshold_to_diff_deeper=0,
                    ignore_order=False)
    for path, change in diff.get("values_changed", {}).items():
        out.append(FieldDiff(_readable(path), change["old_value"], change["new_value"]))
    for path, change in diff.get("type_changes", {}).items():
        out.append(FieldDiff(_readable(path), change["old_value"], change["new_value"]))
    for path, value in diff.get("dictionary_item_added", {}).items():
        out.append(FieldDiff(_readable(path), ABSENT, value))
    for path, value in diff.get("dictionary_item_removed", {}).items():
        out.append(FieldDiff(_readable(path), value, ABSENT))
    for path, value in diff.get("iterable_item_added", {}).items():
        out.append(FieldDiff(_readable(path), ABSENT, value))
    for path, value in diff.get("iterable_item_removed", {}).items():
        out.append(FieldDiff(_readable(path), value, ABSENT))
    return tuple(sorted(out, key=lambda d: d.path))


def _same(a: Any, b: Any) -> bool:
    """Equal with equal types throughout (``1``, ``1.0`` and ``True`` differ, as they do
    to DeepDiff)."""
    if type(a) is not type(b):
        return isinstance(a, Mapping) and isinstance(b, Mapping) and _same_mapping(a, b)
    if isinstance(a, dict):
        return _same_mapping(a, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _same_mapping(a: Mapping[Any, Any], b: Mapping[Any, Any]) -> bool:
    return a.keys() == b.keys() and all(_same(value, b[key]) for key, value in a.items())


def _plain_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, (str, int, float, bool)) or item is None for item in value)


def _readable(path: str) -> str:
    """DeepDiff's ``root['rows']['GRAD']['enabled']`` -> ``rows[GRAD].enabled``."""
    text = ""
    parent: str | int | None = None
    for match in _PATH_PART.finditer(path):
        part: str | int = match.group(1) if match.group(1) is not None else int(match.group(2))
        if isinstance(part, int) or parent == "rows":
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
        parent = part
    return text


def diff_kind(handler: KindHandler, desired: Mapping[Key, Resource],
              live: Mapping[Key, Fields], prune: bool | frozenset[str]) -> list[Change]:
    """Changes for one kind: creates and updates for declared resources, deletes for live
    resources in prune scope that no file declares."""
    changes: list[Change] = []
    for key, resource in desired.items():
        current = live.get(key)
        if current is None:
            changes.append(Change(Action.CREATE, handler.kind, key, None,
                                  dict(resource.fields), (), None, resource.mark))
            continue
        want, have = handler.comparable(resource.fields, current)
        diffs = field_diffs(want, have)
        if diffs:
            before = handler.live_view(resource.fields, current)
            changes.append(Change(Action.UPDATE, handler.kind, key, before,
                                  dict(resource.fields), diffs, fingerprint(have),
                                  resource.mark))
    for key, current in live.items():
        if key not in desired and handler.prunable(key, prune):
            changes.append(Change(Action.DELETE, handler.kind, key, dict(current), None, (),
                                  fingerprint(current)))
    return changes


def unmanaged(desired: Mapping[Key, Resource], live: Mapping[Key, Any]) -> list[Key]:
    """Live keys no file declares."""
    return sorted(key for key in live if key not in desired)
