"""Open hours: ``/conf/open-hours?scope=SCOPE``, keyed by scope (institution or library code).

Config shape: ``open_hours: {SCOPE: [entries]}``, or ``{SCOPE: {manage: [types], entries:
[...]}}``. Alma keeps one list per scope and a PUT replaces the whole list. A scope's
declared entries are authoritative only for the record types they use, plus those named in
``manage`` (standard hours, exceptions, events; see :mod:`open_hours_entries`): every live
entry of another type is written back exactly as read, in the same PUT. ``[]`` declares
that the scope has no entries of its own at all.

Entries Alma marks ``inherited`` belong to the institution, not to the scope read: they are
never compared and never written back. Prune removes a library's own list (the library then
inherits the institution's hours) and never touches the institution's.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Hashable, Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from almasync.alma.client import AlmaClient
from almasync.config.validation import validate_model
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import ConfigError, Problem
from almasync.kinds import open_hours_entries as entries_
from almasync.kinds.base import Declared, FieldsModel, KindHandler, LiveQuery, not_a_mapping
from almasync.kinds.open_hours_entries import LIST, MANAGED, STANDARD, own_entries
from almasync.kinds.references import References
from almasync.kinds.wire import parses, plain_date, unwrap
from almasync.model import Fields, Key, Kind, Resource

PATH = "/conf/open-hours"
_HOUR = re.compile(r"^\d{2}:\d{2}$")
_WEEKDAY_SCHEMA = {"enum": list(entries_.WEEKDAYS), "type": "string"}
_DAY_SCHEMA = {"anyOf": [_WEEKDAY_SCHEMA, {"type": "array", "items": _WEEKDAY_SCHEMA,
                                           "minItems": 1}]}
Weekday = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]

__all__ = ["OpenHoursHandler", "own_entries"]


class OpenHourEntry(FieldsModel):
    """One declared entry: standard hours (WEEK), an exception, or an event."""

    type: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$",
                      description="WEEK (standard hours), EXCEPTION, or an event's type code "
                      "exactly as Alma shows it (see `almasync export`)")
    status: Literal["OPEN", "CLOSE"] | None = Field(default=None,
                                                    description="default OPEN (not events)")
    from_hour: str | None = Field(default=None, description="HH:MM, 24-hour")
    to_hour: str | None = Field(default=None, description="HH:MM, 24-hour")
    desc: str = ""
    day: Annotated[list[Weekday], WithJsonSchema(_DAY_SCHEMA)] | None = Field(
        default=None, description="WEEK only: the weekday, or a list of weekdays (one record "
        "per day)")
    from_date: str | None = Field(default=None, description="YYYY-MM-DD: the first day of an "
                                  "exception or event; for WEEK the first day it is valid")
    to_date: str | None = Field(default=None, description="YYYY-MM-DD: the last day "
                                "(exceptions and events: default from_date)")

    @field_validator("from_hour", "to_hour")
    @classmethod
    def _hour(cls, value: str | None) -> str | None:
        if value is not None and (not _HOUR.match(value)
                                  or not parses(dt.time.fromisoformat, value)):
            raise ValueError("expected a time as HH:MM (24-hour), e.g. 07:30")
        return value

    @field_validator("from_date", "to_date")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        return None if value is None else plain_date(value)

    @field_validator("day", mode="before")
    @classmethod
    def _one_day(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("day")
    @classmethod
    def _days(cls, value: list[str] | None) -> list[str] | None:
        if isinstance(value, list) and not value:
            raise ValueError("name at least one weekday")
        if isinstance(value, list) and len(set(value)) != len(value):
            raise ValueError("a weekday is named twice")
        return value

    @model_validator(mode="after")
    def _shape(self) -> OpenHourEntry:
        hours = (self.from_hour is None, self.to_hour is None)
        if self.type == STANDARD:
            if self.day is None or hours != (False, False):
                raise ValueError("a WEEK entry takes day and from_hour, to_hour")
            if (self.from_date is None) != (self.to_date is None):
                raise ValueError("a WEEK entry takes both from_date and to_date (the dates "
                                 "it is valid) or neither (Alma's dates are kept)")
        else:
            if self.from_date is None or self.day is not None:
                raise ValueError(f"{_a(self.type)} entry takes from_date (and to_date), no day")
            if self.type == entries_.EXCEPTION and hours != (False, False):
                raise ValueError("an EXCEPTION entry takes from_hour and to_hour")
            if hours[0] != hours[1]:
                raise ValueError(f"{_a(self.type)} entry takes both from_hour and to_hour, "
                                 "or neither")
        if self.to_date and self.from_date and self.to_date < self.from_date:
            raise ValueError(f"to_date {self.to_date} is before from_date {self.from_date}")
        if self.to_hour and self.from_hour and self.to_hour < self.from_hour:
            raise ValueError(f"to_hour {self.to_hour} is before from_hour {self.from_hour}")
        return self


def _a(code: str) -> str:
    return f"{'an' if code[:1] in 'AEIOU' else 'a'} {code}"


TypeCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]


class OpenHoursFields(FieldsModel):
    """A scope's entries: the file writes the list itself under the scope, or a mapping
    ``{manage: [types], entries: [...]}`` that also names types it decides without
    declaring any entry of them."""

    open_hour: list[OpenHourEntry]
    manage: list[TypeCode] | None = Field(
        default=None, description="record types this scope decides even when no entry uses "
        "them (their live entries that no entry declares are removed)")


def read_scope(client: AlmaClient, scope: str) -> dict[str, Any]:
    """Alma's answer for one scope, as read."""
    return dict(client.get(PATH, {"scope": scope}) or {})


def institution_code(refs: References) -> str:
    return str(unwrap(refs.general().get("institution")) or "")


class OpenHoursHandler(KindHandler):
    kind: ClassVar[Kind] = Kind.OPEN_HOURS
    model: ClassVar[type[FieldsModel]] = OpenHoursFields

    def write_target(self, key: Key, fields: Fields) -> Hashable:
        """Every scope: they are one path (``/conf/open-hours?scope=``), and a library's
        list shows the institution's entries as inherited, so the scopes are written one
        at a time, each from a read that holds the writes before it."""
        return "/conf/open-hours"

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        problem = not_a_mapping(node, path, doc, "scopes (the institution code or library "
                                "codes) to their lists")
        if problem:
            yield problem
            return
        for scope, value in node.items():
            where, name = (*path, scope), f"open_hours.{scope}"
            raw: dict[str, Any] = {}
            if isinstance(value, dict):
                unknown = [k for k in value if k not in ("manage", "entries")]
                for key in unknown:
                    yield Problem(doc.mark((*where, key)), f"{name}.{key}: unknown key; a "
                                  "scope holds a list of entries, or a mapping with manage "
                                  "(types) and entries")
                if unknown:
                    continue
                raw["manage"] = value.get("manage", [])
                value = value.get("entries", [])
                where, name = (*where, "entries"), f"{name}.entries"
            if not isinstance(value, list):
                yield Problem(doc.mark(where, value=True), f"{name}: expected a list of "
                              "entries ([] for none of its own)")
                continue
            # Entries are validated here, each at its own line: the loader validates the
            # wrapper {open_hour: [...]}, a path the file itself does not have.
            problems = _entry_problems(value, where, doc, name)
            if problems:
                yield from problems
                continue
            yield Declared((str(scope),), {LIST: value, **raw}, (*path, scope),
                           f"open_hours.{scope}")

    def fields_of(self, model: FieldsModel) -> dict[str, Any]:
        assert isinstance(model, OpenHoursFields)
        records = [record for entry in model.open_hour
                   for record in entries_.declared_records(entry.model_dump(mode="json"))]
        if model.manage is None:
            managed = entries_.managed_types(records)
        else:
            managed = sorted({*model.manage, *(r["type"] for r in records)})
        return {LIST: records, MANAGED: managed}

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        schema = OpenHoursFields.model_json_schema(ref_template="#/$defs/{model}")
        listed = schema["properties"][LIST]
        mapping = {"type": "object", "additionalProperties": False,
                   "properties": {"manage": schema["properties"]["manage"]["anyOf"][0],
                                  "entries": listed}}
        return {"type": "object", "description": "scope (institution code or library code) "
                "-> its entries, or {manage: [types], entries: [...]}",
                "additionalProperties": {"anyOf": [listed, mapping]}}

    def comparable(self, desired: Fields, live: Fields | None) -> tuple[Fields, Fields]:
        return entries_.comparable(desired.get(LIST, []), (live or {}).get(LIST, []),
                                   desired.get(MANAGED))

    def live_view(self, desired: Fields, live: Fields | None) -> Fields:
        """The scope's own live entries of the types the declaration manages."""
        managed = desired.get(MANAGED)
        return {LIST: [entry for entry in (live or {}).get(LIST, [])
                       if entries_.manages(managed, entry["type"])]}

    def restoring(self, written: Fields, saved: Fields) -> dict[str, Any]:
        """The saved entries of the types the write managed; the others were never
        touched."""
        managed = written.get(MANAGED)
        return {LIST: [e for e in saved.get(LIST, []) if entries_.manages(managed, e["type"])],
                MANAGED: list(managed) if managed is not None else [entries_.ALL]}

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
        read = dict(client.map(lambda s: (s, read_scope(client, s)), sorted(scopes)))
        _check_types(query.declared, client, institution, read)
        live: dict[Key, Fields] = {}
        for scope in sorted(scopes):
            key, entries = (scope,), own_entries(read[scope])
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
        """Read the scope, then PUT its whole list: the declared entries of the managed
        types, every other own entry exactly as read. A list left empty is a DELETE."""
        live = read_scope(client, key[0])
        written = entries_.write_list(live, fields.get(LIST) or [], fields.get(MANAGED))
        if not written:
            self.delete(client, key)
            return
        client.put(PATH, {LIST: written}, {"scope": key[0]})

    def delete(self, client: AlmaClient, key: Key) -> None:
        client.delete(PATH, {"scope": key[0]})

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        return {key[0]: entries_.exported(resources[key].fields.get(LIST, []))
                for key in sorted(resources)}


def _entry_problems(entries: list[Any], where: NodePath, doc: YamlDoc,
                    name: str) -> list[Problem]:
    """Schema problems of each entry, with its own marks, entries declared twice, and a
    weekday given standard hours twice."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    weekdays: dict[str, int] = {}
    for index, raw in enumerate(entries):
        entry, errors = validate_model(OpenHourEntry, raw, doc, (*where, index),
                                       f"{name}[{index}]")
        problems.extend(errors)
        if entry is None:
            continue
        here = doc.mark((*where, index))
        for record in entries_.declared_records(entry.model_dump(mode="json")):
            same = json.dumps(record, sort_keys=True)
            if same in first and first[same] != index:
                problems.append(Problem(here, f"{name}[{index}]: the same entry as "
                                        f"{name}[{first[same]}] at "
                                        f"{doc.mark((*where, first[same]))}"))
                break
            first.setdefault(same, index)
            day = record.get("day") if record["type"] == STANDARD else None
            if day in weekdays and weekdays[day] != index:
                problems.append(Problem(here, f"{name}[{index}]: {day} already has standard "
                                        f"hours at {doc.mark((*where, weekdays[day]))}; Alma "
                                        "keeps one standard-hours entry per weekday"))
                break
            if day:
                weekdays.setdefault(day, index)
    return problems


def _check_types(declared: Mapping[Key, Resource], client: AlmaClient, institution: str,
                 read: dict[str, dict[str, Any]]) -> None:
    """Stop when a file uses an event type code Alma has not shown: the code of an event
    is taken from Alma's answers (a library's answer shows the institution's entries too),
    never guessed."""
    wanted = {e["type"] for r in declared.values() for e in r.fields.get(LIST, [])
              if entries_.is_event(e["type"])}
    seen = set().union(*(entries_.types_seen(body) for body in read.values()))
    if wanted - seen and institution not in read:
        read[institution] = read_scope(client, institution)
        seen |= entries_.types_seen(read[institution])
    problems = [
        Problem(resource.mark, f"open_hours.{key[0]}: type {type_!r} is not a record type "
                "Alma shows (standard hours are WEEK, exceptions EXCEPTION; event codes "
                f"seen: {', '.join(sorted(c for c in seen if entries_.is_event(c))) or 'none'})."
                " An event's code is taken from Alma: `almasync export --kinds open_hours` "
                "writes the events Alma holds")
        for key, resource in sorted(declared.items())
        for type_ in sorted({e["type"] for e in resource.fields.get(LIST, [])} - seen)
        if entries_.is_event(type_)]
    if problems:
        raise ConfigError(problems)
