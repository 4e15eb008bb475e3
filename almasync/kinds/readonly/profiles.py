"""Deposit profiles (``/conf/deposit-profiles``, paged, keyed by code) and metadata import
profiles (``/conf/md-import-profiles``, keyed by Alma's profile id, since they have no
code), both GET only.

Config shapes: ``deposit_profiles: {CODE: {name, description, status, user_groups}}`` and
``import_profiles: {ID: {name, description, type, ie_type, status, originating_system}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from almasync.kinds.base import FieldsModel
from almasync.kinds.readonly.base import ReadOnlyHandler, values
from almasync.model import Kind


class DepositProfileFields(FieldsModel):
    """A deposit profile as Alma shows it (read-only)."""

    name: str | None = None
    description: str | None = None
    status: str | None = None
    user_groups: list[str] | None = None


class ImportProfileFields(FieldsModel):
    """A metadata import profile as Alma shows it (read-only)."""

    name: str | None = None
    description: str | None = None
    type: str | None = None
    ie_type: str | None = None
    status: str | None = None
    originating_system: str | None = None


class DepositProfileHandler(ReadOnlyHandler):
    kind: ClassVar[Kind] = Kind.DEPOSIT_PROFILE
    model: ClassVar[type[FieldsModel]] = DepositProfileFields
    list_path: ClassVar[str] = "/conf/deposit-profiles"
    list_key: ClassVar[str] = "deposit_profile"
    paged: ClassVar[bool] = True
    keys_are: ClassVar[str] = "deposit profile codes"

    def normalise(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        out = super().normalise(entry)
        out["user_groups"] = values(entry.get("user_group"), "user_group")
        return out


class ImportProfileHandler(ReadOnlyHandler):
    kind: ClassVar[Kind] = Kind.IMPORT_PROFILE
    model: ClassVar[type[FieldsModel]] = ImportProfileFields
    list_path: ClassVar[str] = "/conf/md-import-profiles"
    list_key: ClassVar[str] = "import_profile"
    key_field: ClassVar[str] = "id"
    keys_are: ClassVar[str] = "import profile ids"


def import_profile_ids(refs: Any) -> frozenset[str]:
    """The ids of the institution's import profiles (for ``post_apply`` checks)."""
    def load() -> frozenset[str]:
        entries = refs.client.get_list(ImportProfileHandler.list_path,
                                       ImportProfileHandler.list_key)
        return frozenset(str(e["id"]) for e in entries)
    result: frozenset[str] = refs.cached("import_profile_ids", load)
    return result
