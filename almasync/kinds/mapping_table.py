"""Mapping tables: ``/conf/mapping-tables/{name}`` (GET and whole-table PUT).

Config shape: ``mapping_tables: {NAME: {rows: [{column0, column1, ..., enabled}]}}``, with
an optional ``scope: LIBRARY`` (that library's customisation; a list of mappings declares
several) and ``key: [column0, column1]`` when ``column0`` alone does not identify a row.
Column values are strings, as in Alma (``column1: "TRUE"``, quoted). Merging rows, identity
and the Alma side are in :mod:`almasync.kinds.table_rows`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, field_validator, model_validator

from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import Problem
from almasync.kinds.base import FieldsModel
from almasync.kinds.table_rows import ROWS, TableHandler, TableId, row_key
from almasync.kinds.wire import as_bool, unwrap
from almasync.model import Fields, Kind

_COLUMN = re.compile(r"^column([0-9]+)$")
DEFAULT_KEY = ("column0",)
ColumnName = Annotated[str, Field(pattern=_COLUMN.pattern)]
#: Field names of Alma's rows -> whether each is a column (read once per name).
_IS_COLUMN: dict[str, bool] = {}
#: Column names of rows already found to be columns only.
_COLUMN_NAMES: set[tuple[str, ...]] = set()


class MappingRow(FieldsModel):
    """One row: ``column0``, ``column1``, ... (strings) and ``enabled``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={
        "propertyNames": {"pattern": r"^(column[0-9]+|enabled)$"}})
    # Typed extras: every column is validated as a string, at its own place in the file.
    __pydantic_extra__: dict[str, str] = Field(init=False)

    enabled: bool = Field(True, description="false turns the row off without removing it")

    @model_validator(mode="after")
    def _columns_only(self) -> MappingRow:
        names = tuple(self.__pydantic_extra__)
        if names in _COLUMN_NAMES:
            return self
        unknown = [name for name in names if not _COLUMN.match(name)]
        if not unknown and len(_COLUMN_NAMES) < 64:
            _COLUMN_NAMES.add(names)  # a table's rows mostly have the same columns
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; a row has column0, column1, ... "
                             "and enabled")
        return self


class MappingTableFields(FieldsModel):
    """One declaration of a mapping table: some of its rows, for one scope."""

    scope: str | None = Field(None, min_length=1, description="library code: declare this "
                              "library's customisation; leave out for the institution")
    key: list[ColumnName] = Field(default_factory=lambda: list(DEFAULT_KEY), min_length=1,
                                  description="the columns that identify a row (default: "
                                  "column0)")
    rows: list[MappingRow] = Field(description="the rows to manage, keyed by `key`; rows not "
                                   "listed are kept as they are in Alma")

    @field_validator("key")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a column is named twice")
        return value


def _column_order(name: str) -> int:
    match = _COLUMN.match(name)
    return int(match.group(1)) if match else -1


def unique_key(rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The fewest leading columns whose values tell the rows apart (all of them, when even
    that fails); what ``export`` writes as ``key`` so the exported file plans empty."""
    columns = sorted({name for row in rows for name in row if _COLUMN.match(name)},
                     key=_column_order) or list(DEFAULT_KEY)
    for width in range(1, len(columns) + 1):
        if len({row_key(row, columns[:width]) for row in rows}) == len(rows):
            return tuple(columns[:width])
    return tuple(columns)


class MappingTableHandler(TableHandler):
    kind: ClassVar[Kind] = Kind.MAPPING_TABLE
    model: ClassVar[type[FieldsModel]] = MappingTableFields
    api_path: ClassVar[str] = "/conf/mapping-tables"
    list_key: ClassVar[str] = "mapping_table"
    noun: ClassVar[str] = "mapping table"
    not_customisable: ClassVar[str] = "90125"
    bad_scope: ClassVar[str] = "90127"

    def key_columns(self, fields: Fields) -> tuple[str, ...]:
        key = fields.get("key")
        if isinstance(key, list) and key and all(
                isinstance(c, str) and _COLUMN.match(c) for c in key):
            return tuple(key)
        return DEFAULT_KEY  # not given, or invalid: the model reports an invalid one

    def normalise_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in row.items():
            column = _IS_COLUMN.get(name)
            if column is None:
                column = bool(_COLUMN.match(name))
                if len(_IS_COLUMN) < 1024:
                    _IS_COLUMN[name] = column
            if column:
                if type(value) is not str:  # Alma's columns are text; anything else is rare
                    value = unwrap(value)
                    value = "" if value is None else str(value)
                out[name] = value
        if "enabled" in row:
            out["enabled"] = as_bool(row["enabled"])
        return out

    def row_problems(self, raw: Mapping[str, Any], row: Mapping[str, Any], at: NodePath,
                     doc: YamlDoc, label: str, columns: tuple[str, ...]) -> Sequence[Problem]:
        if len(columns) == 1 and columns[0] in row:
            return ()
        return [Problem(doc.mark(at), f"{label}.rows.{at[-1]}: missing {name}, which "
                        f"identifies the row (key: {', '.join(columns)})")
                for name in columns if name not in row]

    def export_rows(self, table: TableId, fields: Fields) -> dict[str, Any]:
        rows = [dict(row) for row in fields.get(ROWS, [])]
        key = unique_key(rows)
        return {**({"key": list(key)} if key != DEFAULT_KEY else {}), ROWS: rows}
