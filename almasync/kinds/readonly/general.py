"""General configuration: ``/conf/general`` (GET only), one resource keyed ``general``.

Config shape: ``general: {institution, environment_type, network, default_language,
default_currency, timezone, base_url}``. It differs between a sandbox and production (its
``environment_type``), so a tree used for several environments declares it in their
overlays.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import Problem
from almasync.kinds.base import Declared, FieldsModel, LiveQuery
from almasync.kinds.readonly.base import READ_ONLY_NOTE, ReadOnlyHandler
from almasync.kinds.references import References
from almasync.model import Key, Kind, Resource

KEY: Key = ("general",)


class GeneralFields(FieldsModel):
    """The institution's general configuration as Alma shows it (read-only)."""

    institution: str | None = None
    environment_type: str | None = None
    network: str | None = None
    default_language: str | None = None
    default_currency: str | None = None
    timezone: str | None = None
    base_url: str | None = None


class GeneralHandler(ReadOnlyHandler):
    kind: ClassVar[Kind] = Kind.GENERAL
    model: ClassVar[type[FieldsModel]] = GeneralFields

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        yield Declared(KEY, node, path, "general")

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"allOf": [fields], "readOnly": True, "description": READ_ONLY_NOTE}

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        return self.exported_fields(resources[KEY].fields) if KEY in resources else {}

    def entries(self, client: AlmaClient, query: LiveQuery,
                refs: References) -> Sequence[Mapping[str, Any]]:
        return [refs.general()]

    def key_of(self, entry: Mapping[str, Any]) -> Key:
        return KEY
