"""Circulation desks: ``/conf/libraries/{library}/circ-desks/`` (GET only), keyed
(library, code).

Config shape: ``circulation_desks: {LIBRARY: {CODE: {name, description, primary,
reading_room, locations: [LOCATION, ...]}}}``. The list is paged. ``locations`` are the codes
of the library's locations the desk serves, in Alma's order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import Problem
from almasync.kinds.base import Declared, FieldsModel, LiveQuery, by_library
from almasync.kinds.readonly.base import READ_ONLY_NOTE, ReadOnlyHandler, values
from almasync.kinds.references import References
from almasync.model import Key, Kind, Resource


class CircDeskFields(FieldsModel):
    """A circulation desk as Alma shows it (read-only)."""

    name: str | None = None
    description: str | None = None
    primary: bool | None = None
    reading_room: bool | None = None
    locations: list[str] | None = None


def desks_path(library: str) -> str:
    # The trailing slash is the path as Ex Libris' specification spells it.
    return f"/conf/libraries/{quote(library, safe='')}/circ-desks/"


def desks_of(refs: References, library: str) -> list[Any]:
    """A library's circulation desks as Alma lists them, read once per run (the desk kind
    and the reference checks of mapping tables both need them)."""
    desks: list[Any] = refs.cached(f"circ_desks {library}", lambda: refs.client.get_list(
        desks_path(library), "circ_desk", paged=True))
    return desks


def desk_codes(refs: References,
               libraries: Iterable[str] | None = None) -> dict[str, frozenset[str]]:
    """Library code -> the codes of its circulation desks (one paged list per library), for
    ``libraries`` (those of Alma's that are named; default: every library)."""
    known = set(refs.libraries())
    named = sorted(known if libraries is None else known & set(libraries))
    listed = refs.client.map(lambda lib: (lib, desks_of(refs, lib)), named)
    return {lib: frozenset(str(d["code"]) for d in desks) for lib, desks in listed}


class CircDeskHandler(ReadOnlyHandler):
    kind: ClassVar[Kind] = Kind.CIRC_DESK
    model: ClassVar[type[FieldsModel]] = CircDeskFields
    list_key: ClassVar[str] = "circ_desk"
    booleans: ClassVar[frozenset[str]] = frozenset({"primary", "reading_room"})

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        return by_library(node, path, doc, "circulation desks", "desk")

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "readOnly": True,
                "description": "library code -> desk code -> fields. " + READ_ONLY_NOTE,
                "additionalProperties": {"type": "object", "additionalProperties": fields}}

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        tree: dict[str, dict[str, Any]] = {}
        for key in sorted(resources):
            tree.setdefault(key[0], {})[key[1]] = self.exported_fields(resources[key].fields)
        return tree

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        if not resources:
            return []
        libraries = refs.libraries()
        return [Problem(resource.mark, f"circulation desk {key[1]!r} is under library "
                        f"{key[0]!r}, which does not exist in Alma (libraries: "
                        f"{', '.join(sorted(libraries))})")
                for key, resource in sorted(resources.items()) if key[0] not in libraries]

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Any]:
        libraries = refs.libraries()
        wanted = sorted(libraries if query.everything
                        else {key[0] for key in query.wanted} & set(libraries))
        listed = client.map(lambda lib: (lib, desks_of(refs, lib)), wanted)
        live: dict[Key, Any] = {(lib, str(d["code"])): self.normalise(d) for lib, desks in listed
                for d in desks}
        if query.everything:
            return live
        return {key: fields for key, fields in live.items() if key in query.wanted}

    def normalise(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        out = super().normalise({k: v for k, v in entry.items() if k != "locations"})
        out["locations"] = values(entry.get("location"), "location", "location_code")
        return out
