"""Reminders: ``/conf/reminders[/{reminder_id}]``, keyed (entity_type, entity_id, type, text).

Config shape: ``reminders: [{entity_type, entity_id, type, status, text, reminder_date}]``.
Alma identifies a reminder by a server-assigned id that no file can know, so almasync keys it
on what a person would: the record it is about, its type and its text. ``status`` and
``reminder_date`` are the fields compared; changing them is an update, found by reading and
written back whole to the reminder's id.

Alma's list pages by 10 and, unless told otherwise, shows only reminders dated today; every
read here passes an explicit date window (``from``/``to``, 1900-01-01..2999-12-31 unless
``ALMASYNC_REMINDER_WINDOW`` narrows it) and pages by 100. Whether Alma accepts so wide a
window is not known; when it refuses, the error names the parameters and what to try. The
prune scope of a reminder is its entity (``BIB_MMS/991234``): almasync owns the reminders
of the records the files mention, never those of other records.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote

from pydantic import Field, field_validator

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import (
    AlmaAuthError,
    AlmaError,
    AlmaQuotaError,
    AlmasyncError,
    ConfigError,
    Problem,
)
from almasync.kinds.base import Declared, FieldsModel, KindHandler, LiveQuery
from almasync.kinds.references import References
from almasync.kinds.wire import plain_date, strip_output_only, unwrap, wrap
from almasync.model import Fields, Key, Kind, Resource

log = logging.getLogger("almasync.kinds.reminder")

PATH = "/conf/reminders"
#: The only entity type Alma's list filters on (conf.json: "Valid value is BIB_MMS").
ENTITY_TYPES = ("BIB_MMS",)
#: The date window of every list read; Alma's default window is today only.
WINDOW = ("1900-01-01", "2999-12-31")
#: ``FROM..TO``: a narrower window, for an institution whose Alma refuses the default one.
WINDOW_ENV = "ALMASYNC_REMINDER_WINDOW"
#: Alma's codes for a query parameter it refuses (invalid, missing, not allowed).
PARAMETER_REFUSED = frozenset({"40166410", "40166411", "40166413", "401664"})
#: Up to this many entities, one filtered read per entity is cheaper than reading them all.
ENTITY_READS = 20
IDENTITY = ("entity_type", "entity_id", "type", "text")
COMPARED = ("status", "reminder_date")
#: Stamps Alma sets itself; they are left out of a PUT body.
STAMPS = frozenset({"created_by", "created_date", "last_modified_by", "last_modified_date"})

Entity = tuple[str, str]


class ReminderFields(FieldsModel):
    """One reminder as declared: the first four fields identify it, the others are compared."""

    entity_type: Literal["BIB_MMS"] = Field(
        default="BIB_MMS", description="what the reminder is about; Alma lists only BIB_MMS")
    entity_id: str = Field(min_length=1, description="the record's id, quoted: \"991234\"")
    type: str = Field(min_length=1, description="ReminderTypes code, e.g. GENERAL")
    text: str = Field(min_length=1, description="the reminder's text (part of its identity)")
    status: str | None = Field(default=None, min_length=1,
                               description="ReminderStatuses code; Alma's default is NEW")
    reminder_date: str = Field(description="YYYY-MM-DD")

    @field_validator("entity_id", mode="before")
    @classmethod
    def _quoted_id(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f"entity_id must be a string: quote it, e.g. entity_id: "
                             f"\"{value}\" (ids are text in Alma; YAML reads bare digits "
                             "as a number)")
        return value

    @field_validator("reminder_date")
    @classmethod
    def _date(cls, value: str) -> str:
        return valid_date(value)



def window() -> tuple[str, str]:
    """The date window of every list read: :data:`WINDOW`, or ``ALMASYNC_REMINDER_WINDOW``."""
    text = os.environ.get(WINDOW_ENV, "").strip()
    if not text:
        return WINDOW
    start, sep, end = text.partition("..")
    try:
        chosen = plain_date(start.strip()), plain_date(end.strip())
    except ValueError:
        chosen = ("", "")
    if not sep or not chosen[0] or chosen[0] > chosen[1]:
        raise ConfigError(f"{WINDOW_ENV}={text!r} is not a date window; write it as "
                          "FROM..TO, e.g. 2000-01-01..2099-12-31")
    return chosen


def valid_date(value: str) -> str:
    """``2026-12-01`` or Alma's ``2026-12-01Z`` -> ``2026-12-01``; ValueError otherwise.
    A date outside the read window is refused: almasync could never see it live."""
    plain = plain_date(value)
    start, end = window()
    if not start <= plain <= end:
        narrowed = f" (the reminders window {WINDOW_ENV})" if (start, end) != WINDOW else ""
        raise ValueError(f"expected a date as YYYY-MM-DD between {start} and {end}{narrowed}")
    return plain


def _identity(raw: Mapping[str, Any], index: int) -> Key:
    """The key of a raw list item; an item whose identity fields are unusable gets a key of
    its own, so that its schema errors are reported rather than a false duplicate."""
    values = {"entity_type": "BIB_MMS", **raw}
    parts = [values.get(name) for name in IDENTITY]
    if all(isinstance(p, str | int) and not isinstance(p, bool) and str(p) for p in parts):
        return tuple(str(p) for p in parts)
    return ("", "", "", f"#{index}")


def entity_of(key: Key) -> Entity:
    return key[0], key[1]


def normalise(entry: Mapping[str, Any]) -> tuple[Key, dict[str, Any]]:
    """Alma's reminder JSON -> (key, fields); ``id`` rides along for deletes and export."""
    entity = entry.get("entity") or {}
    key = (str(unwrap(entity.get("entity_type")) or ""), str(entity.get("entity_id") or ""),
           str(unwrap(entry.get("type")) or ""), str(entry.get("text") or ""))
    date = str(entry.get("reminder_date") or "")
    return key, {"status": unwrap(entry.get("status")), "reminder_date": date.removesuffix("Z"),
                 "id": str(entry.get("id", ""))}


def _params(entity_type: str, entity_id: str | None = None) -> dict[str, str]:
    start, end = window()
    params = {"entity_type": entity_type, "from": start, "to": end}
    if entity_id is not None:
        params["entity_id"] = entity_id
    return params


class WindowRefused(AlmasyncError):
    """Alma refused the date window of a reminders list read."""


def _read(client: AlmaClient, params: dict[str, str]) -> list[dict[str, Any]]:
    """One filtered list, all pages; a refused parameter becomes an error that names the
    date window almasync sent and what to try."""
    try:
        return client.get_list(PATH, "reminder", params, paged=True)
    except (AlmaAuthError, AlmaQuotaError):
        raise
    except AlmaError as exc:
        if exc.status != 400 or exc.code not in PARAMETER_REFUSED:
            raise
        sent = f"from={params['from']}&to={params['to']}"
        raise WindowRefused(
            f"Alma refused the reminders list GET {PATH}?{sent} with error {exc.code}: "
            f"{exc.alma_message}. almasync sends the query parameters `from` and `to` (the "
            "reminder date window) so that it sees reminders of every date, since Alma's "
            "default is today only; whether Alma accepts a window this wide is not known. "
            f"Try a narrower window that still holds every reminder date of the records "
            f"your files mention, e.g. {WINDOW_ENV}=2000-01-01..2099-12-31; almasync does "
            "not see reminders dated outside it (see docs/config/reminders.md)") from exc


def read_entity(client: AlmaClient, entity: Entity) -> list[dict[str, Any]]:
    """Every reminder of one record (all dates, all pages)."""
    return _read(client, _params(*entity))


def read_all(client: AlmaClient, entity_types: Iterable[str]) -> list[dict[str, Any]]:
    """Every reminder of the institution of the given entity types (all dates, all pages)."""
    return [entry for et in sorted(set(entity_types)) for entry in _read(client, _params(et))]


def by_identity(entries: Iterable[Mapping[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Key each entry; Alma allows two reminders with one identity, and then the oldest
    (lowest id) is the one almasync manages."""
    live: dict[Key, dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda e: (len(str(e.get("id"))), str(e.get("id")))):
        key, fields = normalise(entry)
        if key in live:
            if live[key]["id"] != fields["id"]:
                log.warning("reminders %s and %s share the identity %s; almasync manages "
                            "the first", live[key]["id"], fields["id"], "/".join(key))
            continue
        live[key] = fields
    return live


def parse_scope(scope: str) -> Entity:
    """A prune scope, ``BIB_MMS/991234`` or just ``991234``, as an entity."""
    entity_type, _, entity_id = scope.rpartition("/")
    return entity_type or ENTITY_TYPES[0], entity_id


class ReminderMissing(AlmaError):
    """The reminder a change was planned for is no longer in Alma."""


class ReminderHandler(KindHandler):
    kind: ClassVar[Kind] = Kind.REMINDER
    model: ClassVar[type[FieldsModel]] = ReminderFields

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        if not isinstance(node, list):
            yield Problem(doc.mark(path, value=True), "reminders: expected a list of "
                          "reminders, each {entity_type, entity_id, type, status, text, "
                          "reminder_date}")
            return
        for index, raw in enumerate(node):
            label = f"reminders[{index}]"
            if not isinstance(raw, dict):
                yield Problem(doc.mark((*path, index), value=True),
                              f"{label}: expected a mapping of fields")
                continue
            yield Declared(_identity(raw, index), raw, (*path, index), label)

    def fields_of(self, model: FieldsModel) -> dict[str, Any]:
        # The identity fields live in the key; only what may change is compared.
        return model.model_dump(mode="json", exclude_unset=True, include=set(COMPARED))

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "array", "items": fields,
                "description": "reminders; identity is (entity_type, entity_id, type, text)"}

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        if not resources:
            return []
        tables = {"type": "ReminderTypes", "status": "ReminderStatuses"}
        codes = {name: refs.known_codes(table) for name, table in tables.items()}
        problems = []
        for key, resource in resources.items():
            values = {"type": key[2], "status": resource.fields.get("status")}
            for name, value in values.items():
                allowed = codes[name]
                if value is None or allowed is None or value in allowed:
                    continue
                problems.append(Problem(
                    resource.marks.get(name, resource.mark),
                    f"reminder {name} {value!r} is not a code of Alma's {tables[name]} code "
                    f"table (codes: {', '.join(sorted(allowed))})"))
        return problems

    def scope_of(self, key: Key) -> str:
        return "/".join(entity_of(key))

    def prunable(self, key: Key, rule: bool | frozenset[str]) -> bool:
        if isinstance(rule, frozenset):
            return self.scope_of(key) in rule or key[1] in rule
        return rule

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        """Declared entities, plus those a prune list names, plus everything for drift and
        export. Under ``prune: true`` only the declared entities are in view, so that
        reminders of records no file mentions are never candidates for deletion."""
        entities = {entity_of(key) for key in query.wanted}
        if isinstance(query.prune, frozenset):
            entities |= {parse_scope(scope) for scope in query.prune}
        types = set(ENTITY_TYPES) | {et for et, _ in entities}
        if query.everything or len(entities) > ENTITY_READS:
            entries = read_all(client, types)
        else:
            batches = client.map(lambda e: read_entity(client, e), sorted(entities))
            entries = [entry for batch in batches for entry in batch]
        live = by_identity(entries)
        return {key: fields for key, fields in live.items()
                if entity_of(key) in entities
                or (query.everything and (query.detail or not self.prunable(key, query.prune)))}

    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        body: dict[str, Any] = {
            "entity": {"entity_type": wrap(key[0]), "entity_id": key[1]},
            "type": wrap(key[2]), "text": key[3]}
        client.post(PATH, {**body, **to_wire(fields)})

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        found = self._find(client, key, "PUT")
        path = f"{PATH}/{quote(found, safe='')}"
        current = strip_output_only(client.get(path))
        kept = {name: value for name, value in current.items() if name not in STAMPS}
        client.put(path, {**kept, **to_wire(fields)})

    def delete(self, client: AlmaClient, key: Key) -> None:
        try:
            found = self._find(client, key, "DELETE")
        except ReminderMissing:
            return  # already gone: what the delete was for
        client.delete(f"{PATH}/{quote(found, safe='')}")

    @staticmethod
    def _find(client: AlmaClient, key: Key, method: str) -> str:
        """The id of the reminder with this identity, read afresh."""
        live = by_identity(read_entity(client, entity_of(key)))
        if key not in live:
            raise ReminderMissing(400, "60177", f"no reminder {'/'.join(key)} exists in Alma "
                                  "any more (deleted since the plan was made?)", None, method,
                                  PATH)
        return str(live[key]["id"])

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        items = []
        for key in sorted(resources):
            fields = resources[key].fields
            item: dict[str, Any] = {"entity_type": key[0], "entity_id": key[1], "type": key[2]}
            if fields.get("status"):
                item["status"] = fields["status"]
            item.update(text=key[3], reminder_date=fields.get("reminder_date"))
            items.append(item)
        return items


def to_wire(fields: Fields) -> dict[str, Any]:
    """Compared fields -> Alma's JSON (coded status, dates as Alma prints them)."""
    out: dict[str, Any] = {}
    if fields.get("status") is not None:
        out["status"] = wrap(fields["status"])
    if fields.get("reminder_date"):
        out["reminder_date"] = f"{fields['reminder_date']}Z"
    return out
