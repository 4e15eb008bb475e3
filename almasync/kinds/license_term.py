"""License terms: ``/conf/license-terms[/{code}]``, keyed by term code.

Config shape: ``license_terms: {CODE: {name, description, type, value_type}}``. Alma creates
with POST, replaces the whole term on PUT (omitted fields fall back to defaults), and deletes
with DELETE; not-found is HTTP 400 with code ``403400``. Empty ``{"value": null}`` objects
make Alma fail with a server error, so they are stripped from every body sent. Deletes happen
only inside ``prune: license_terms`` (``true``, or a list of term codes).

Only ``code`` and ``name`` are evidenced (FACTS section 8); ``description``, ``type`` and
``value_type`` are unverified guesses, so every write carries back whatever else Alma holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import Problem
from almasync.kinds.base import Declared, FieldsModel, KindHandler, LiveQuery, not_a_mapping
from almasync.kinds.references import References
from almasync.kinds.wire import strip_output_only, unwrap, wrap
from almasync.model import Fields, Key, Kind, Resource

BASE = "/conf/license-terms"
#: Fields Alma wraps as ``{"value", "desc"}`` (codes of Alma's license term code tables).
CODED = frozenset({"type", "value_type"})


def _optional(schema: dict[str, Any]) -> None:
    # Omitted means "Alma's default", not an empty code; the schema should not suggest "".
    schema.pop("default", None)


class LicenseTermFields(FieldsModel):
    """A license term as declared in a config file (Alma's field names, plain values).
    ``null`` is not accepted: Alma would store its default and every plan would differ."""

    name: str = Field(min_length=1, description="The term's name, shown in license forms")
    description: str = ""
    type: str = Field("", min_length=1, json_schema_extra=_optional,
                      description="Term type code, e.g. USAGE, RESTRICTION, PERPETUAL, ILL, "
                                  "NOTES; omit it to let Alma choose")
    value_type: str = Field("", min_length=1, json_schema_extra=_optional,
                            description="Value type code, e.g. PERMITTED_PROHIBITED, YES_NO, "
                                        "FREE_TEXT, NUMERIC, DATE; omit it to let Alma choose")


FIELD_NAMES = tuple(LicenseTermFields.model_fields)


def _path(code: str | None = None) -> str:
    return f"{BASE}/{quote(code, safe='')}" if code is not None else BASE


def normalise(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Alma's license term JSON -> the declared-field form (plain values, ``""`` for empty)."""
    out: dict[str, Any] = {}
    for name in FIELD_NAMES:
        if name in payload:
            value = unwrap(payload[name])
            out[name] = "" if value is None else value
    return out


def to_wire(fields: Fields) -> dict[str, Any]:
    """Declared fields -> Alma's JSON form."""
    return {name: wrap(value) if name in CODED else value for name, value in fields.items()}


def strip_empty(payload: Any) -> Any:
    """Drop ``None`` values and ``{"value": null|""}`` objects everywhere: Alma answers a
    body holding them with a server error instead of treating them as absent."""
    if isinstance(payload, Mapping):
        out = {}
        for key, value in payload.items():
            if value is None or (isinstance(value, Mapping) and "value" in value
                                 and value["value"] in (None, "")):
                continue
            out[key] = strip_empty(value)
        return out
    if isinstance(payload, list):
        return [strip_empty(item) for item in payload]
    return payload


class LicenseTermHandler(KindHandler):
    kind: ClassVar[Kind] = Kind.LICENSE_TERM
    model: ClassVar[type[FieldsModel]] = LicenseTermFields

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        problem = not_a_mapping(node, path, doc, "term codes to their fields")
        if problem:
            yield problem
            return
        for code, raw in node.items():
            if str(code).strip() != str(code) or not str(code):
                yield Problem(doc.mark((*path, code)), f"license_terms: term code {code!r} is "
                              "empty or has leading or trailing spaces")
                continue
            yield Declared((str(code),), raw, (*path, code), f"license_terms.{code}")

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "description": "license term code -> fields",
                "additionalProperties": fields}

    def comparable(self, desired: Fields, live: Fields | None) -> tuple[Fields, Fields]:
        # Alma may leave an empty description out of a term; declaring "" matches that.
        want, have = super().comparable(desired, live)
        if "description" in have and have["description"] is None:
            have = {**have, "description": ""}
        return want, have

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        """One list call; a term whose list entry lacks a declared field (a brief entry) is
        read again in full."""
        live: dict[Key, Fields] = {(str(entry["code"]),): normalise(entry)
                for entry in client.get_list(BASE, "license_term")}
        incomplete = [key for key, fields in live.items()
                      if not query.wanted.get(key, frozenset()) <= fields.keys()
                      or (query.detail and not set(FIELD_NAMES) <= fields.keys())]
        for key, fields in client.map(lambda k: (k, normalise(client.get(_path(k[0])))),
                                      incomplete):
            live[key] = fields
        return live

    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        client.post(BASE, strip_empty({"code": key[0], **to_wire(fields)}))

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        current = strip_output_only(client.get(_path(key[0])))
        client.put(_path(key[0]), strip_empty({**current, **to_wire(fields)}))

    def delete(self, client: AlmaClient, key: Key) -> None:
        client.delete(_path(key[0]))

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        """Every term with its non-empty fields, by code."""
        return {key[0]: {name: resources[key].fields[name] for name in FIELD_NAMES
                         if resources[key].fields.get(name) not in (None, "")}
                for key in sorted(resources)}
