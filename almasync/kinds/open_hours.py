"""Open hours: ``/conf/open-hours?scope=SCOPE``, keyed by scope (institution or library code).

Config shape: ``open_hours: {SCOPE: [entries]}``. Alma keeps one list per scope and a PUT
replaces the whole list, so the declared list is the scope's whole list. The comparison is
order-insensitive (Alma does not give the order a meaning) and entry by entry: an entry is
named by what it covers (``WEEK MON-FRI``, ``EXCEPTION 2026-12-24..2026-12-26``), so a plan
shows ``open_hour[WEEK MON-FRI].to_hour: "22:00" -> "20:00"``.

Entries Alma marks ``inherited`` belong to the institution, not to the scope read, and are
neither compared nor sent back. Prune removes a library's own list (the library then inherits
the institution's hours) and never touches the institution's.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from almasync.alma.client import AlmaClient
from almasync.config.validation import validate_model
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import Problem
from almasync.kinds.base import Declared, FieldsModel, KindHandler, LiveQuery, not_a_mapping
from almasync.kinds.references import References
from almasync.kinds.wire import as_bool, parses, plain_date, unwrap, wrap
from almasync.model import Fields, Key, Kind, Resource

PATH = "/conf/open-hours"
LIST = "open_hour"
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_HOUR = re.compile(r"^\d{2}:\d{2}$")
Weekday = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]


class OpenHourEntry(FieldsModel):
    """One entry of a scope's list: a weekly pattern (WEEK) or dated exception (EXCEPTION)."""

    type: Literal["WEEK", "EXCEPTION"]
    status: Literal["OPEN", "CLOSE"] = "OPEN"
    from_hour: str = Field(description="HH:MM, 24-hour")
    to_hour: str = Field(description="HH:MM, 24-hour")
    desc: str = ""
    day: list[Weekday] | None = Field(default=None, min_length=1,
                                      description="WEEK only: the days it applies to")
    from_date: str | None = Field(default=None, description="EXCEPTION only: YYYY-MM-DD")
    to_date: str | None = Field(default=None, description="EXCEPTION only: YYYY-MM-DD "
                                "(default: from_date)")

    @field_validator("from_hour", "to_hour")
    @classmethod
    def _hour(cls, value: str) -> str:
        if not _HOUR.match(value) or not parses(dt.time.fromisoformat, value):
            raise ValueError("expected a time as HH:MM (24-hour), e.g. 07:30")
        return value

    @field_validator("from_date", "to_date")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        return None if value is None else plain_date(value)

    @model_validator(mode="after")
    def _shape(self) -> OpenHourEntry:
        if self.type == "WEEK" and (self.day is None or self.from_date or self.to_date):
            raise ValueError("a WEEK entry takes day (a list of weekdays) and no dates")
        if self.type == "EXCEPTION" and (self.from_date is None or self.day is not None):
            raise ValueError("an EXCEPTION entry takes from_date (and to_date), no day")
        if self.to_date and self.from_date and self.to_date < self.from_date:
            raise ValueError(f"to_date {self.to_date} is before from_date {self.from_date}")
        if self.to_hour < self.from_hour:
            raise ValueError(f"to_hour {self.to_hour} is before from_hour {self.from_hour}")
        return self


class OpenHoursFields(FieldsModel):
    """A scope's whole list (the file writes the list itself under the scope)."""

    open_hour: list[OpenHourEntry]





def canonical(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One entry in the form both sides are compared in: every field present, days in week
    order, a missing to_date equal to from_date, no dates on WEEK entries."""
    out: dict[str, Any] = {"type": entry["type"], "status": entry.get("status") or "OPEN",
                           "desc": entry.get("desc") or "",
                           "from_hour": entry.get("from_hour") or "",
                           "to_hour": entry.get("to_hour") or ""}
    if out["type"] == "WEEK":
        days = set(entry.get("day") or ())
        out["day"] = [d for d in WEEKDAYS if d in days]
    else:
        out["from_date"] = entry.get("from_date") or ""
        out["to_date"] = entry.get("to_date") or out["from_date"]
    return out


def normalise(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Alma's entry JSON -> canonical form (plain codes, dates without ``Z``)."""
    days = entry.get("day") or []
    plain = {
        "type": unwrap(entry.get("type")), "status": unwrap(entry.get("status")),
        "desc": entry.get("desc"), "from_hour": entry.get("from_hour"),
        "to_hour": entry.get("to_hour"),
        "day": [str(unwrap(d)) for d in (days if isinstance(days, list) else [days])],
        "from_date": str(entry.get("from_date") or "").removesuffix("Z"),
        "to_date": str(entry.get("to_date") or "").removesuffix("Z"),
    }
    return canonical(plain)


def to_wire(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical entry -> Alma's JSON (coded values wrapped, dates as Alma prints them)."""
    out: dict[str, Any] = {"type": wrap(entry["type"]), "status": wrap(entry["status"]),
                           "desc": entry["desc"], "from_hour": entry["from_hour"],
                           "to_hour": entry["to_hour"]}
    if entry["type"] == "WEEK":
        out["day"] = [wrap(d) for d in entry["day"]]
    else:
        out["from_date"] = f"{entry['from_date']}Z"
        out["to_date"] = f"{entry['to_date']}Z"
    return out


def _days(days: Sequence[str]) -> str:
    """``[MONDAY..FRIDAY, SUNDAY]`` -> ``MON-FRI,SUN``: runs of three or more become ranges."""
    index = sorted(WEEKDAYS.index(d) for d in days)
    runs: list[list[int]] = []
    for i in index:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = []
    for run in runs:
        names = [WEEKDAYS[i][:3] for i in run]
        parts.append(f"{names[0]}-{names[-1]}" if len(run) >= 3 else ",".join(names))
    return ",".join(parts)


def label(entry: Mapping[str, Any]) -> str:
    """What an entry covers, e.g. ``WEEK MON-FRI`` or ``EXCEPTION 2026-12-24..2026-12-26``."""
    if entry["type"] == "WEEK":
        return f"WEEK {_days(entry['day'])}"
    dates = entry["from_date"]
    if entry["to_date"] != dates:
        dates += f"..{entry['to_date']}"
    return f"EXCEPTION {dates}"


def labelled(entries: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Entries keyed ``open_hour[LABEL]`` with the fields the label does not show, so a
    changed hour is one field's change; entries sharing a label (two intervals on one day)
    are told apart by ``#2``, ``#3`` in order of their hours."""
    out: dict[str, dict[str, Any]] = {}
    ordered = sorted(entries, key=lambda e: (label(e), e["from_hour"], e["to_hour"],
                                             json.dumps(e, sort_keys=True)))
    for entry in ordered:
        base = label(entry)
        name, n = f"{LIST}[{base}]", 1
        while name in out:
            n += 1
            name = f"{LIST}[{base} #{n}]"
        out[name] = {field: entry[field] for field in ("from_hour", "to_hour", "status", "desc")}
    return out


def own_entries(body: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A scope's own entries from Alma's answer, canonical. The list key is absent when
    empty and may hold one object; entries marked ``inherited`` are the institution's."""
    entries = (body or {}).get(LIST) or []
    if isinstance(entries, dict):
        entries = [entries]
    return [normalise(e) for e in entries if as_bool(e.get("inherited")) is not True]


def read_scope(client: AlmaClient, scope: str) -> list[dict[str, Any]]:
    return own_entries(client.get(PATH, {"scope": scope}))


def institution_code(refs: References) -> str:
    return str(unwrap(refs.general().get("institution")) or "")


class OpenHoursHandler(KindHandler):
    kind: ClassVar[Kind] = Kind.OPEN_HOURS
    model: ClassVar[type[FieldsModel]] = OpenHoursFields

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        problem = not_a_mapping(node, path, doc, "scopes (the institution code or library "
                                "codes) to their lists")
        if problem:
            yield problem
            return
        for scope, entries in node.items():
            where, name = (*path, scope), f"open_hours.{scope}"
            if not isinstance(entries, list):
                yield Problem(doc.mark(where, value=True), f"{name}: expected the scope's "
                              "whole list of entries ([] for none of its own)")
                continue
            # Entries are validated here, each at its own line: the loader validates the
            # wrapper {open_hour: [...]}, a path the file itself does not have.
            problems = _entry_problems(entries, where, doc, name)
            if problems:
                yield from problems
                continue
            yield Declared((str(scope),), {LIST: entries}, where, name)

    def fields_of(self, model: FieldsModel) -> dict[str, Any]:
        assert isinstance(model, OpenHoursFields)
        return {LIST: [canonical(e.model_dump(mode="json")) for e in model.open_hour]}

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        listed = OpenHoursFields.model_json_schema(ref_template="#/$defs/{model}")
        return {"type": "object", "description": "scope (institution code or library code) "
                "-> the scope's whole list of entries",
                "additionalProperties": listed["properties"][LIST]}

    def comparable(self, desired: Fields, live: Fields | None) -> tuple[Fields, Fields]:
        return labelled(desired.get(LIST, [])), labelled((live or {}).get(LIST, []))

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        if not resources:
            return []
        institution, libraries = institution_code(refs), refs.libraries()
        return [
            Problem(resource.mark, f"open_hours scope {key[0]!r} is neither the institution "
                    f"({institution}) nor a library of it (libraries: "
                    f"{', '.join(sorted(libraries))})")
            for key, resource in resources.items()
            if key[0] != institution and key[0] not in libraries
        ]

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        """Declared scopes (even with an empty list, so that ``[]`` compares), the libraries
        in prune scope, and every scope for drift and export. An undeclared institution
        scope is in view only where prune cannot select it: its hours are never pruned."""
        institution, libraries = institution_code(refs), set(refs.libraries())
        declared = {key[0] for key in query.wanted}
        scopes = set(declared)
        if query.prune is True:
            scopes |= libraries
        elif isinstance(query.prune, frozenset):
            scopes |= query.prune & libraries
        if query.everything:
            scopes |= {institution, *libraries}
        read = client.map(lambda s: (s, read_scope(client, s)), sorted(scopes))
        live: dict[Key, Fields] = {}
        for scope, entries in read:
            key = (scope,)
            # Wherever prune could select it, an undeclared institution scope stays out of
            # view: deleting its hours would leave every inheriting library without any.
            hidden = scope == institution and not (
                query.detail or (query.everything and not self.prunable(key, query.prune)))
            if scope in declared or (entries and not hidden):
                live[key] = {LIST: entries}
        return live

    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        self.update(client, key, fields)

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        """PUT the whole declared list; an empty list removes the scope's own hours."""
        entries = fields.get(LIST) or []
        if not entries:
            self.delete(client, key)
            return
        client.put(PATH, {LIST: [to_wire(e) for e in entries]}, {"scope": key[0]})

    def delete(self, client: AlmaClient, key: Key) -> None:
        client.delete(PATH, {"scope": key[0]})

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        return {key[0]: [_exported(e) for e in resources[key].fields.get(LIST, [])]
                for key in sorted(resources)}


def _entry_problems(entries: list[Any], where: NodePath, doc: YamlDoc,
                    name: str) -> list[Problem]:
    """Schema problems of each entry, with its own marks, and entries declared twice."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for index, raw in enumerate(entries):
        entry, errors = validate_model(OpenHourEntry, raw, doc, (*where, index),
                                       f"{name}[{index}]")
        problems.extend(errors)
        if entry is None:
            continue
        same = json.dumps(canonical(entry.model_dump(mode="json")), sort_keys=True)
        if same in first:
            problems.append(Problem(doc.mark((*where, index)), f"{name}[{index}]: the same "
                                    f"entry as {name}[{first[same]}] at "
                                    f"{doc.mark((*where, first[same]))}"))
        first.setdefault(same, index)
    return problems


def _exported(entry: Mapping[str, Any]) -> dict[str, Any]:
    order = ("type", "desc", "day", "from_date", "to_date", "from_hour", "to_hour", "status")
    return {name: entry[name] for name in order if entry.get(name) not in (None, "")}
