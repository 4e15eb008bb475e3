"""Libraries: ``/conf/libraries`` (GET only), keyed by library code.

Config shape: ``libraries: {CODE: {name, description, resource_sharing, campus, proxy,
default_location}}``. The list holds full objects. ``id``, ``path`` and the counts of
locations and desks are left out: Alma derives them, and a count changes with every
location created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field

from almasync.alma.client import AlmaClient
from almasync.kinds.base import FieldsModel, LiveQuery
from almasync.kinds.readonly.base import ReadOnlyHandler
from almasync.kinds.references import References
from almasync.model import Kind


class LibraryFields(FieldsModel):
    """A library as Alma shows it (read-only)."""

    name: str | None = None
    description: str | None = None
    resource_sharing: bool | None = Field(None, description="a resource-sharing library")
    campus: str | None = Field(None, description="campus code")
    proxy: str | None = None
    default_location: str | None = Field(None, description="location code")


class LibraryHandler(ReadOnlyHandler):
    kind: ClassVar[Kind] = Kind.LIBRARY
    model: ClassVar[type[FieldsModel]] = LibraryFields
    list_path: ClassVar[str] = "/conf/libraries"
    list_key: ClassVar[str] = "library"
    booleans: ClassVar[frozenset[str]] = frozenset({"resource_sharing"})
    keys_are: ClassVar[str] = "library codes"

    def entries(self, client: AlmaClient, query: LiveQuery,
                refs: References) -> Sequence[Mapping[str, Any]]:
        return list(refs.libraries().values())  # the run's one read of the list
