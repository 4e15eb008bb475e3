"""Printers: ``/conf/printers`` (GET only, paged), keyed by printer code.

Config shape: ``printers: {CODE: {name, description, printout_queue, email, library}}``.
Alma addresses a printer by its system id; the code is what an administrator sees, and is
assumed unique in an institution (not verified from public sources).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from almasync.errors import Problem
from almasync.kinds.base import FieldsModel
from almasync.kinds.readonly.base import ReadOnlyHandler, unknown_libraries
from almasync.kinds.references import References
from almasync.model import Key, Kind, Resource


class PrinterFields(FieldsModel):
    """A printer as Alma shows it (read-only)."""

    name: str | None = None
    description: str | None = None
    printout_queue: bool | None = None
    email: str | None = None
    library: str | None = None


class PrinterHandler(ReadOnlyHandler):
    kind: ClassVar[Kind] = Kind.PRINTER
    model: ClassVar[type[FieldsModel]] = PrinterFields
    list_path: ClassVar[str] = "/conf/printers"
    list_key: ClassVar[str] = "printer"
    paged: ClassVar[bool] = True
    booleans: ClassVar[frozenset[str]] = frozenset({"printout_queue"})
    keys_are: ClassVar[str] = "printer codes"

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        if not resources:
            return []
        libraries = refs.libraries()
        return [problem for key, resource in sorted(resources.items())
                for problem in unknown_libraries(f"printers.{key[0]}", resource,
                                                 ("library",), libraries)]
