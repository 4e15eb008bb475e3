"""The no-op write: declare exactly what is live, build each kind's write, compare.

Rule one of PRODUCT.md §4 is "keep what you do not manage": a write carries back every live
field and entry the file does not declare. Its sharpest form is a declaration of nothing
new: the write a kind builds for it must be the live object minus what Alma owns (``link``,
the ``desc`` labels of coded values, stamps), unchanged; or no write at all. What Alma owns
may be sent back or left out alike. Two more liberties, both Alma's own: an empty coded
value may be left out, and one element may travel as a list of one or as a bare object.

The kinds' own update code builds the bodies. A
:class:`~almasync.doctor.client.RecordingClient` reads from Alma (or the emulator, or a
replay of recorded captures) like any read-only client, and keeps every write it is asked
for instead of sending it, so the check never changes anything.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from almasync.doctor.client import Exchange, RecordingClient
from almasync.kinds import ORDER
from almasync.kinds.base import KindHandler, LiveQuery
from almasync.kinds.mapping_table import DEFAULT_KEY, unique_key
from almasync.kinds.references import References
from almasync.kinds.reminder import STAMPS
from almasync.kinds.table_rows import ROWS
from almasync.model import Fields, Key, Kind

#: Top-level fields Alma sets itself, per kind: a write may leave them out.
OWNED_BY_ALMA: Mapping[Kind, frozenset[str]] = {
    Kind.REMINDER: STAMPS,
    Kind.SET: frozenset({"number_of_members", "created_by", "created_date", "status_date"}),
}
#: Declared fields the live form carries only for almasync's own use (not declarable).
_NOT_DECLARABLE = frozenset({"customized", "id"})


def alma_labels_removed(kind: Kind, payload: Any) -> Any:
    """``payload`` without what Alma owns and derives: ``link`` anywhere, the ``desc``
    label of a coded value, the fields of :data:`OWNED_BY_ALMA`, and the ``inherited``
    mark of open-hours entries. A write may carry them back or leave them out alike, so
    both sides are compared without them."""
    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            coded = "value" in value
            return {k: walk(v) for k, v in value.items()
                    if k != "link" and not (coded and k == "desc")}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value
    out = walk(payload)
    if isinstance(out, dict):
        for name in OWNED_BY_ALMA.get(kind, ()):
            out.pop(name, None)
        if kind is Kind.OPEN_HOURS and "open_hour" in out:
            entries = out["open_hour"]
            out["open_hour"] = [{k: v for k, v in e.items() if k != "inherited"}
                                if isinstance(e, Mapping) else e
                                for e in (entries if isinstance(entries, list) else [entries])]
    return out


def without_alma_fields(kind: Kind, payload: Any) -> Any:
    """What a write of ``payload`` must hold (compared after :func:`alma_labels_removed`):
    for open hours only the scope's own entries, since inherited ones belong to the
    institution and are never written into a library's list."""
    if kind is Kind.OPEN_HOURS and isinstance(payload, Mapping) and "open_hour" in payload:
        entries = payload["open_hour"]
        payload = {**payload, "open_hour": [
            e for e in (entries if isinstance(entries, list) else [entries])
            if not (isinstance(e, Mapping) and str(e.get("inherited")).lower() == "true")]}
    return alma_labels_removed(kind, payload)


def declarable(handler: KindHandler, fields: Fields) -> dict[str, Any]:
    """The declaration of exactly what is live: the live fields a file may declare (for
    mapping tables, with the key columns export would write)."""
    out = {name: copy.deepcopy(value) for name, value in fields.items()
           if name not in _NOT_DECLARABLE and name in handler.model.model_fields}
    if handler.kind is Kind.MAPPING_TABLE:
        key = unique_key(out.get(ROWS, []))
        if key != DEFAULT_KEY:
            out["key"] = list(key)
    return out


@dataclass
class Finding:
    """A write that is not the live object, or a kind that could not be checked."""

    kind: Kind
    key: Key
    message: str


@dataclass
class Outcome:
    """What the no-op check found for one kind."""

    kind: Kind
    checked: int = 0
    writes: int = 0
    findings: list[Finding] = field(default_factory=list)


def _same_target(write: Exchange, read: Exchange) -> bool:
    # A code table is written with the language it was read in, which the GET may not name.
    def strip(params: Mapping[str, str]) -> dict[str, str]:
        return {k: v for k, v in params.items() if k not in ("lang", "limit", "offset")}
    return read.path == write.path and strip(read.params) == strip(write.params)


def is_empty(value: Any) -> bool:
    """``None``, or a coded value without a code (``{"value": ""}``, ``{"value": null}``):
    Alma reads such a field and an absent one alike, and refuses some of them in a write
    (license terms), so a write may leave them out."""
    return value is None or (isinstance(value, Mapping) and set(value) <= {"value", "desc"}
                             and value.get("value") in (None, ""))


def difference(expected: Any, sent: Any, where: str = "", values: bool = True) -> str | None:
    """The first place two JSON values differ, e.g. ``row[3].enabled: true -> "true"``.
    A bare object and a list of that one object are the same (Alma's JSON gives one
    element either way); an empty value (:func:`is_empty`) may be left out. Without
    ``values`` the answer names the place only (doctor's output never quotes a value: it
    may be a credential)."""
    if isinstance(expected, Mapping) and isinstance(sent, list) and len(sent) == 1:
        sent = sent[0]
    elif isinstance(sent, Mapping) and isinstance(expected, list) and len(expected) == 1:
        expected = expected[0]
    if isinstance(expected, Mapping) and isinstance(sent, Mapping):
        for name in [*expected, *(n for n in sent if n not in expected)]:
            if name not in sent:
                if is_empty(expected[name]):
                    continue
                return f"{where}{name}: left out of the write"
            if name not in expected:
                added = f" ({json.dumps(sent[name])})" if values else ""
                return f"{where}{name}: added by the write{added}"
            found = difference(expected[name], sent[name], f"{where}{name}.", values)
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(sent, list):
        if len(expected) != len(sent):
            return f"{where.rstrip('.')}: {len(expected)} entries live, {len(sent)} written"
        for index, (a, b) in enumerate(zip(expected, sent, strict=True)):
            found = difference(a, b, f"{where.rstrip('.')}[{index}].", values)
            if found:
                return found
        return None
    if expected != sent:
        if not values:
            return f"{where.rstrip('.')}: the value written is not the live one"
        return f"{where.rstrip('.')}: {json.dumps(expected)} live, {json.dumps(sent)} written"
    return None


def check_kind(client: RecordingClient, handler: KindHandler, refs: References,
               values: bool = True) -> Outcome:
    """Read every live resource of a kind, declare each exactly as
    read, run the kind's update and compare every write it would send with what was read
    (findings quote the values that differ unless ``values`` is false)."""
    outcome = Outcome(handler.kind)
    live = handler.read_live(client, LiveQuery({}, everything=True, detail=True), refs)
    for key in sorted(live):
        outcome.checked += 1
        start = len(client.writes)
        handler.update(client, key, declarable(handler, live[key]))
        for write in client.writes[start:]:
            outcome.writes += 1
            problem = _judge(handler.kind, write, client.reads, values)
            if problem:
                outcome.findings.append(Finding(handler.kind, key, problem))
    return outcome


def _judge(kind: Kind, write: Exchange, reads: list[Exchange],
           values: bool = True) -> str | None:
    if write.method != "PUT":
        return f"{write.method} {write.path}: a declaration of what is live sent a {write.method}"
    read = next((r for r in reversed(reads) if _same_target(write, r)), None)
    if read is None:
        return f"PUT {write.path}: written without being read first"
    if not isinstance(write.body, Mapping):
        return None if write.body == read.body else f"PUT {write.path}: the body differs"
    found = difference(without_alma_fields(kind, read.body),
                       alma_labels_removed(kind, write.body), values=values)
    return f"PUT {write.path}: {found}" if found else None


def check_all(client: RecordingClient, kinds: set[Kind] | None = None) -> list[Outcome]:
    """:func:`check_kind` for every kind (or those of ``kinds``), in dependency order."""
    refs = References(client)
    # Read-only kinds are never written, so there is no write to check.
    return [check_kind(client, handler, refs) for handler in ORDER
            if not handler.read_only and (kinds is None or handler.kind in kinds)]
