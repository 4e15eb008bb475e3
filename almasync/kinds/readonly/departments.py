"""Departments: ``/conf/departments`` (GET only; every type, full view), keyed by code.

Config shape: ``departments: {CODE: {name, type, description, work_days, printer, owner,
served_libraries: [LIBRARY, ...], operators: [PRIMARY_ID, ...]}}``. ``owner`` is a library
code or the institution's code. The JSON names of the nested repeated parts are not
verified from public sources: both ``{library: [...]}`` and a bare list are read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field

from almasync.alma.client import AlmaClient
from almasync.errors import Problem
from almasync.kinds.base import FieldsModel, LiveQuery
from almasync.kinds.readonly.base import ReadOnlyHandler, unknown_libraries, values
from almasync.kinds.references import References
from almasync.kinds.wire import unwrap
from almasync.model import Key, Kind, Resource


class DepartmentFields(FieldsModel):
    """A department as Alma shows it (read-only)."""

    name: str | None = None
    type: str | None = Field(None, description="e.g. AcqWorkOrder, DIGI")
    description: str | None = None
    work_days: int | None = None
    printer: str | None = None
    owner: str | None = Field(None, description="library code, or the institution code")
    served_libraries: list[str] | None = Field(None, description="library codes")
    operators: list[str] | None = Field(None, description="users' primary ids")


class DepartmentHandler(ReadOnlyHandler):
    kind: ClassVar[Kind] = Kind.DEPARTMENT
    model: ClassVar[type[FieldsModel]] = DepartmentFields
    list_path: ClassVar[str] = "/conf/departments"
    list_key: ClassVar[str] = "department"
    keys_are: ClassVar[str] = "department codes"

    def entries(self, client: AlmaClient, query: LiveQuery,
                refs: References) -> Sequence[Mapping[str, Any]]:
        return client.get_list(self.list_path, self.list_key,
                               {"type": "ALL", "view": "FULL"})

    def normalise(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        nested = ("served_libraries", "operators", "work_days")
        out = super().normalise({k: v for k, v in entry.items() if k not in nested})
        if "work_days" in entry:
            days = unwrap(entry["work_days"])
            out["work_days"] = int(days) if str(days).isdigit() else days
        out["served_libraries"] = values(entry.get("served_libraries"), "library")
        out["operators"] = values(entry.get("operators"), "operator", "primary_id")
        return out

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        if not resources:
            return []
        libraries = refs.libraries()
        institution = frozenset({str(unwrap(refs.general().get("institution")))})
        return [problem for key, resource in sorted(resources.items())
                for problem in unknown_libraries(f"departments.{key[0]}", resource,
                                                 ("served_libraries", "owner"), libraries,
                                                 institution)]
