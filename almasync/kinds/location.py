"""Locations: ``/conf/libraries/{library}/locations[/{code}]``, keyed (library, code).

Config shape: ``locations: {LIBRARY: {CODE: {fields}}}``. Alma's list of a library's
locations may return brief entries (code, name, external_name, type, map, remote_storage);
a declared field missing from a list entry is read from the location itself rather than
reported as a change. Updates read the whole location, merge the declared fields and PUT it
back, because Alma resets omitted fields to defaults; a coded field whose value is empty is
left out of the body rather than sent as ``{"value": ""}``, which Alma may refuse (FACTS
section 8). Alma's locations have no ``description``: a file that declares one is refused at
the declaring line. ``type`` is checked against the institution's LocationTypes code table
before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import Problem
from almasync.kinds.base import Declared, FieldsModel, KindHandler, LiveQuery, by_library
from almasync.kinds.references import References
from almasync.kinds.wire import as_bool, strip_output_only, unwrap, wrap
from almasync.model import Fields, Key, Kind, Resource

CODED = frozenset({"type", "fulfillment_unit", "accession_placement", "call_number_type"})
BOOLEAN = frozenset({"suppress_from_publishing"})
#: What a brief list entry holds; an entry with nothing more is read again in full.
BRIEF = frozenset({"name", "external_name", "type", "map", "remote_storage"})


class LocationFields(FieldsModel):
    """A location as declared in a config file (Alma's field names, plain values)."""

    name: str = Field(min_length=1)
    type: str = Field(min_length=1, description="LocationTypes code, e.g. OPEN")
    external_name: str | None = None
    fulfillment_unit: str | None = None
    suppress_from_publishing: bool | None = None
    remote_storage: str | None = None
    map: str | None = None
    accession_placement: str | None = None
    call_number_type: str | None = None


FIELD_NAMES = tuple(LocationFields.model_fields)
#: The code table Alma validates ``type`` against (60297 "Location type is not valid").
TYPES_TABLE = "LocationTypes"


def _path(library: str, code: str | None = None) -> str:
    base = f"/conf/libraries/{quote(library, safe='')}/locations"
    return f"{base}/{quote(code, safe='')}" if code is not None else base


def normalise(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Alma's location JSON -> the declared-field form (plain values)."""
    out: dict[str, Any] = {}
    for name in FIELD_NAMES:
        if name not in payload:
            continue
        value = payload[name]
        out[name] = as_bool(value) if name in BOOLEAN else unwrap(value)
    return out


def to_wire(fields: Fields) -> dict[str, Any]:
    """Declared fields -> Alma's JSON form. A coded field declared empty is left out (Alma
    gives an omitted field its default, which for these is empty)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in CODED:
            if value not in (None, ""):
                out[name] = wrap(value)
        elif name in BOOLEAN:
            out[name] = "true" if value else "false"
        else:
            out[name] = value
    return out


def without_empty_codes(body: Mapping[str, Any], also: frozenset[str] | set[str] = frozenset()
                        ) -> dict[str, Any]:
    """A location body (as read) without its coded fields whose value is empty, and
    without the coded fields named in ``also``: echoing ``{"value": ""}`` back is what a
    PUT may be refused for, while leaving a field out gives it Alma's default (empty)."""
    return {name: value for name, value in body.items()
            if not (name in CODED and (name in also or unwrap(value) in (None, "")))}


def update_body(current: Mapping[str, Any], fields: Fields) -> dict[str, Any]:
    """The PUT body that sets the declared ``fields`` of the location read as ``current``:
    every live field kept (Alma resets what a PUT omits), Alma's ``link``/``desc`` and the
    empty coded fields left out, the declared fields in Alma's form."""
    declared_empty = {name for name in CODED if fields.get(name) == ""}
    return {**without_empty_codes(strip_output_only(current), declared_empty),
            **to_wire(fields)}


class LocationHandler(KindHandler):
    kind: ClassVar[Kind] = Kind.LOCATION
    model: ClassVar[type[FieldsModel]] = LocationFields

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        for item in by_library(node, path, doc, "locations", "location"):
            raw = item.raw if isinstance(item, Declared) else None
            if isinstance(item, Declared) and isinstance(raw, dict) and "description" in raw:
                yield Problem(doc.mark((*item.path, "description")),
                              f"{item.label}.description: Alma's locations have no "
                              "description (a location read from Alma never has one, and "
                              "Alma keeps nothing sent there); remove it, and use name or "
                              "external_name for what staff or patrons should see")
                item = Declared(item.key, {k: v for k, v in raw.items() if k != "description"},
                                item.path, item.label)
            yield item

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "description": "library code -> location code -> fields",
                "additionalProperties": {"type": "object", "additionalProperties": fields}}

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        libraries = refs.libraries()
        problems = [
            Problem(resource.mark, f"location {key[1]!r} is under library {key[0]!r}, which "
                    f"does not exist in Alma (libraries: {', '.join(sorted(libraries))})")
            for key, resource in resources.items() if key[0] not in libraries
        ]
        types = refs.known_codes(TYPES_TABLE) if resources else None
        if types is not None:
            problems += [
                Problem(resource.marks.get("type", resource.mark),
                        f"locations.{key[0]}.{key[1]}.type: {wanted!r} is not a code of "
                        f"Alma's {TYPES_TABLE} code table (codes: {', '.join(sorted(types))}); "
                        "Alma would refuse it with 60297 \"Location type is not valid\"")
                for key, resource in sorted(resources.items())
                if (wanted := resource.fields["type"]) not in types]
        return problems

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        libraries = set(refs.libraries())
        wanted_libs = {key[0] for key in query.wanted}
        if query.everything or query.prune is True:
            wanted_libs |= libraries
        elif isinstance(query.prune, frozenset):
            wanted_libs |= query.prune
        libs = sorted(wanted_libs & libraries)
        listed = client.map(lambda lib: (lib, client.get_list(_path(lib), "location")), libs)
        live: dict[Key, Fields] = {}
        for lib, entries in listed:
            for entry in entries:
                live[(lib, entry["code"])] = normalise(entry)
        incomplete = [key for key, fields in live.items()
                      if not query.wanted.get(key, frozenset()) <= fields.keys()
                      or (query.detail and fields.keys() <= BRIEF)]
        for key, fields in client.map(lambda k: (k, normalise(client.get(_path(*k)))),
                                      incomplete):
            live[key] = fields
        return live

    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        client.post(_path(key[0]), {"code": key[1], **to_wire(fields)})

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        client.put(_path(*key), update_body(client.get(_path(*key)), fields))

    def delete(self, client: AlmaClient, key: Key) -> None:
        client.delete(_path(*key))

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        tree: dict[str, dict[str, dict[str, Any]]] = {}
        for key in sorted(resources):
            fields = resources[key].fields
            tree.setdefault(key[0], {})[key[1]] = {
                name: fields[name] for name in FIELD_NAMES
                if fields.get(name) not in (None, "")
            }
        return tree
