"""The entries of one open-hours scope: what they are, how they are named and compared,
and how a write keeps what the files do not manage.

A scope's list holds three kinds of record (FACTS 8): standard hours (``WEEK``, one record
per weekday, valid between two dates), exceptions (``EXCEPTION``, dated), and events (such
as End of Semester). Alma's code for an event was never seen, so any type code other than
``WEEK`` and ``EXCEPTION`` is an event, and a file may use only the event codes Alma itself
has shown.

Entries have no ids; an entry is named by what it covers: ``WEEK MONDAY``,
``EXCEPTION 2026-12-24..2026-12-26``, ``EVENT 2026-12-18``. Entries sharing a name (two
exceptions on the same dates) are told apart by ``#2``, ``#3`` in order of their hours.

Canonical form: plain codes, dates without Alma's ``Z``, ``day`` a single weekday. Fields a
file may leave out while Alma keeps its own value (the validity dates of standard hours, the
hours and status of an event) are absent from a declared entry when undeclared; a live entry
holds every field Alma gave.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from almasync.alma.payload import as_list
from almasync.kinds.wire import as_bool, unwrap, wrap

LIST = "open_hour"
MANAGED = "managed_types"
#: ``managed_types`` of a scope declared as ``[]``: every type, events included.
ALL = "ALL"
STANDARD = "WEEK"
EXCEPTION = "EXCEPTION"
KNOWN_TYPES = (STANDARD, EXCEPTION)
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
#: Every field of an entry, in the order export writes them.
FIELDS = ("type", "desc", "day", "from_date", "to_date", "from_hour", "to_hour", "status")
_HOURS = ("from_hour", "to_hour", "status")
_DATES = ("from_date", "to_date")


def is_event(type_: str) -> bool:
    return type_ not in KNOWN_TYPES


def kept_if_undeclared(type_: str) -> tuple[str, ...]:
    """Fields a declaration may leave out so that Alma's values stay: the validity dates of
    standard hours (Alma fills them), the hours and status of an event."""
    if type_ == STANDARD:
        return _DATES
    if is_event(type_):
        return _HOURS
    return ()


def _identity(type_: str) -> tuple[str, ...]:
    return ("type", "day") if type_ == STANDARD else ("type", "from_date", "to_date")


# -- reading -------------------------------------------------------------------------------


def raw_entries(body: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [e for e in as_list((body or {}).get(LIST)) if isinstance(e, dict)]


def is_inherited(raw: Mapping[str, Any]) -> bool:
    return as_bool(raw.get("inherited")) is True


def type_of(raw: Mapping[str, Any]) -> str:
    return str(unwrap(raw.get("type")) or "")


def normalise(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Alma's entry JSON -> canonical form, with every field Alma gave."""
    type_ = type_of(raw)
    out: dict[str, Any] = {"type": type_, "desc": str(raw.get("desc") or "")}
    if type_ == STANDARD:
        days = [str(unwrap(d)) for d in as_list(raw.get("day"))]
        out["day"] = days[0] if len(days) == 1 else days
    for name in _DATES:
        if raw.get(name):
            out[name] = str(raw[name]).removesuffix("Z")
    if not is_event(type_) or "from_hour" in raw or "to_hour" in raw:
        out["from_hour"] = str(raw.get("from_hour") or "")
        out["to_hour"] = str(raw.get("to_hour") or "")
    status = unwrap(raw.get("status"))
    if status or not is_event(type_):
        out["status"] = str(status or "OPEN")
    if type_ != STANDARD and "from_date" in out:
        out.setdefault("to_date", out["from_date"])
    return out


def own_entries(body: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A scope's own entries, canonical; entries marked ``inherited`` are another scope's."""
    return [normalise(e) for e in raw_entries(body) if not is_inherited(e)]


def types_seen(body: Mapping[str, Any] | None) -> set[str]:
    """Every record type code in an answer, inherited entries included."""
    return {type_of(e) for e in raw_entries(body)}


# -- declaring -----------------------------------------------------------------------------


def declared_records(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One declared entry (a model dump) -> canonical records: standard hours for several
    days become one record per day; defaults filled in; fields Alma keeps left out."""
    type_ = entry["type"]
    base: dict[str, Any] = {"type": type_, "desc": entry.get("desc") or ""}
    for name in (*_DATES, *_HOURS):
        if entry.get(name) is not None:
            base[name] = entry[name]
    if not is_event(type_):
        base.setdefault("status", "OPEN")
    if type_ != STANDARD:
        base.setdefault("to_date", base["from_date"])
        return [base]
    days = entry["day"] if isinstance(entry["day"], list) else [entry["day"]]
    return [{**base, "day": day} for day in WEEKDAYS if day in days]


def managed_types(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """The types a declared list is authoritative for: those it uses; all for ``[]``."""
    return sorted({e["type"] for e in entries}) if entries else [ALL]


def manages(managed: Iterable[str] | None, type_: str) -> bool:
    """Missing ``managed_types`` (a rollback of a deleted scope) means every type."""
    chosen = set(managed) if managed is not None else {ALL}
    return ALL in chosen or type_ in chosen


# -- naming and comparing ------------------------------------------------------------------


def label(entry: Mapping[str, Any]) -> str:
    """What an entry covers: ``WEEK MONDAY``, ``EXCEPTION 2026-12-24..2026-12-26``."""
    if entry["type"] == STANDARD:
        day = entry.get("day")
        return f"{STANDARD} {day if isinstance(day, str) else ','.join(day or [])}"
    dates = str(entry.get("from_date") or "")
    if entry.get("to_date") and entry["to_date"] != dates:
        dates += f"..{entry['to_date']}"
    return f"{entry['type']} {dates}"


def named(entries: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Entries keyed ``open_hour[LABEL]``; entries sharing a label are numbered ``#2``...
    in order of their hours."""
    out: dict[str, Mapping[str, Any]] = {}
    ordered = sorted(entries, key=lambda e: (label(e), str(e.get("from_hour", "")),
                                             str(e.get("to_hour", "")),
                                             json.dumps(e, sort_keys=True)))
    for entry in ordered:
        base = label(entry)
        name, n = f"{LIST}[{base}]", 1
        while name in out:
            n += 1
            name = f"{LIST}[{base} #{n}]"
        out[name] = entry
    return out


def _details(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an entry that its label does not show."""
    hidden = _identity(entry["type"])
    return {k: entry[k] for k in FIELDS if k in entry and k not in hidden}


def comparable(declared: Sequence[Mapping[str, Any]], live: Sequence[Mapping[str, Any]],
               managed: Iterable[str] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sides of a scope's comparison, restricted to the managed types. A live entry
    that matches a declared one shows only the fields the declaration gives, so Alma's
    validity dates (and an event's hours) are never a change unless declared."""
    managed = list(managed) if managed is not None else None
    want = {name: _details(e) for name, e in named(declared).items()}
    have: dict[str, Any] = {}
    for name, entry in named([e for e in live if manages(managed, e["type"])]).items():
        details = _details(entry)
        if name in want:
            details = {k: details.get(k) for k in want[name]}
        have[name] = details
    return want, have


# -- writing -------------------------------------------------------------------------------


def to_wire(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical entry -> Alma's JSON (coded values wrapped, dates as Alma prints them)."""
    out: dict[str, Any] = {"type": wrap(entry["type"]), "desc": entry.get("desc", "")}
    if entry["type"] == STANDARD:
        out["day"] = wrap(entry["day"])
    for name in _DATES:
        if entry.get(name):
            out[name] = f"{entry[name]}Z"
    for name in ("from_hour", "to_hour"):
        if name in entry:
            out[name] = entry[name]
    if "status" in entry:
        out["status"] = wrap(entry["status"])
    return out


def write_list(live_body: Mapping[str, Any] | None, declared: Sequence[Mapping[str, Any]],
               managed: Iterable[str] | None) -> list[dict[str, Any]]:
    """The scope's list to PUT: every own live entry of a type the files do not manage,
    exactly as read; of the managed types, the declared entries, where one is unchanged the
    live entry exactly as read, where changed the declared values with Alma's own for the
    fields the declaration leaves out. Inherited entries are never written back. Entries
    keep Alma's order; added entries go last."""
    managed = list(managed) if managed is not None else None
    live_raw = [e for e in raw_entries(live_body) if not is_inherited(e)]
    managed_raw = [e for e in live_raw if manages(managed, type_of(e))]
    by_name = {name: raw for name, raw in _named_raw(managed_raw).items()}
    want = named(declared)
    placed: dict[int, dict[str, Any]] = {}
    for name, raw in by_name.items():
        if name in want:
            placed[id(raw)] = _merged(want[name], raw)
    out: list[dict[str, Any]] = []
    for raw in live_raw:
        if not manages(managed, type_of(raw)):
            out.append(raw)
        elif id(raw) in placed:
            out.append(placed[id(raw)])
    out.extend(to_wire(entry) for name, entry in want.items() if name not in by_name)
    return out


def _named_raw(raws: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Live entries under the names their canonical forms get."""
    pairs = [(normalise(raw), raw) for raw in raws]
    canon = named([c for c, _ in pairs])
    by_identity = {id(c): raw for c, raw in pairs}
    return {name: by_identity[id(c)] for name, c in canon.items()}


def _merged(declared: Mapping[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """A declared entry matched to a live one: the live entry exactly as read when nothing
    declared differs, else the declared values plus Alma's for the fields left out."""
    live = normalise(raw)
    if all(live.get(k) == v for k, v in declared.items()):
        return raw
    filled = dict(declared)
    for name in kept_if_undeclared(declared["type"]):
        if name not in filled and name in live:
            filled[name] = live[name]
    return to_wire(filled)


def exported(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A scope's own entries as a file declares them: standard hours that differ only in
    their day are one entry with a list of days (at the place of the first), ``desc``
    left out when empty."""
    out: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for entry in entries:
        item = {k: entry[k] for k in FIELDS if entry.get(k) not in (None, "")}
        if entry["type"] == STANDARD and isinstance(entry.get("day"), str):
            rest = json.dumps({k: v for k, v in item.items() if k != "day"}, sort_keys=True)
            if rest in groups:
                groups[rest]["day"].append(entry["day"])
                continue
            item["day"] = [entry["day"]]
            groups[rest] = item
        out.append(item)
    for item in groups.values():
        item["day"] = [d for d in WEEKDAYS if d in item["day"]]
        if len(item["day"]) == 1:
            item["day"] = item["day"][0]
    return out
