"""Code tables: ``/conf/code-tables/{name}`` (GET and whole-table PUT), rows keyed by code.

Config shape: ``code_tables: {NAME: {rows: [{code, description, enabled, default}]}}``,
optionally with ``scope: LIBRARY`` (that library's customisation) and ``lang: xx`` (the
descriptions in another language); a table declared more than once takes a list of such
mappings. Merging rows, identity and the Alma side are in :mod:`almasync.kinds.table_rows`.

At most one row is the default: declaring a new default moves it, so the plan shows the old
default row turning ``default: false`` even when the file does not declare that row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field

from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import Problem
from almasync.kinds.base import FieldsModel
from almasync.kinds.table_rows import ROWS, TableHandler, TableId
from almasync.kinds.wire import as_bool, unwrap
from almasync.model import Fields, Key, Kind, Resource

COLUMNS = ("code",)
#: What a translation (a declaration with ``lang:``) may say about a row.
TRANSLATED = frozenset({"code", "description"})


class CodeRow(FieldsModel):
    """One row; the defaults are what Alma gives a new row."""

    code: str = Field(min_length=1, description="the row's code, its key in the table")
    description: str = Field("", description="the label shown in Alma (in `lang`, if given)")
    enabled: bool = Field(True, description="false hides the row from Alma's pick lists")
    default: bool = Field(False, description="the table's default row (at most one)")


class CodeTableFields(FieldsModel):
    """One declaration of a code table: some of its rows, for one scope and language."""

    scope: str | None = Field(None, min_length=1, description="library code: declare this "
                              "library's customisation; leave out for the institution")
    lang: str | None = Field(None, pattern=r"^[a-z]{2}$", description="two-letter language "
                             "code: the rows give descriptions in that language only")
    rows: list[CodeRow] = Field(description="the rows to manage, keyed by code; rows not "
                                "listed are kept as they are in Alma")


class CodeTableHandler(TableHandler):
    kind: ClassVar[Kind] = Kind.CODE_TABLE
    model: ClassVar[type[FieldsModel]] = CodeTableFields
    api_path: ClassVar[str] = "/conf/code-tables"
    list_key: ClassVar[str] = "code_table"
    noun: ClassVar[str] = "code table"
    languages: ClassVar[bool] = True
    not_customisable: ClassVar[str] = "90123"
    bad_scope: ClassVar[str] = "90121"
    more_refusals: ClassVar[Mapping[str, str]] = {
        "90122": "A table has at most one default row."}

    def key_columns(self, fields: Fields) -> tuple[str, ...]:
        return COLUMNS

    def normalise_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out = {name: unwrap(row[name]) for name in ("code", "description") if name in row}
        out.update({name: as_bool(row[name]) for name in ("enabled", "default") if name in row})
        return out

    def row_problems(self, raw: Mapping[str, Any], row: Mapping[str, Any], at: NodePath,
                     doc: YamlDoc, label: str, columns: tuple[str, ...]) -> Sequence[Problem]:
        """A translation sets descriptions only: ``enabled`` and ``default`` are the same in
        every language, so they belong to the declaration without ``lang``."""
        if raw.get("lang") in (None, ""):
            return ()
        index = at[-1]
        return [Problem(doc.mark((*at, name)), f"{label}.rows.{index}.{name}: a "
                        f"translation (lang: {raw['lang']}) sets descriptions only; "
                        f"declare {name} where the table is declared without lang")
                for name in row if name not in TRANSLATED]

    def table_problems(self, raw: Mapping[str, Any], where: NodePath, doc: YamlDoc,
                       label: str) -> Iterator[Problem]:
        rows = raw.get(ROWS) or []
        defaults = [(i, row) for i, row in enumerate(rows)
                    if isinstance(row, dict) and row.get("default") is True]
        for index, row in defaults[1:]:
            yield Problem(doc.mark((*where, ROWS, index, "default")),
                          f"{label}.rows.{index}: rows {defaults[0][1].get('code')} and "
                          f"{row.get('code')} are both default: true; a table has at most "
                          "one default row (Alma refuses a second with error 90122)")

    def settle_view(self, want: dict[str, dict[str, Any]], have: dict[str, dict[str, Any]],
                    live: Mapping[str, Mapping[str, Any]]) -> None:
        """A new default takes the flag from the live default row: show that row too."""
        chosen = {code for code, row in want.items() if row.get("default") is True}
        if not chosen:
            return
        for code, row in live.items():
            if row.get("default") is True and code not in chosen:
                want[code] = {**want.get(code, {}), "default": False}
                have[code] = {**have.get(code, {}), "default": True}

    def settle_rows(self, rows: list[dict[str, Any]],
                    declared: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        chosen = {row["code"] for row in declared if row.get("default") is True}
        if not chosen:
            return rows
        return [{**row, "default": False}
                if as_bool(row.get("default")) is True and row.get("code") not in chosen
                else row for row in rows]

    def must_exist(self, table: TableId, resource: Resource,
                   resources: Mapping[Key, Resource]) -> frozenset[str]:
        """A translation's rows must be live, or added by the table's own declaration."""
        if not table.lang:
            return frozenset()
        base = resources.get(TableId(table.name, table.scope).key)
        added = {row["code"] for row in base.fields.get(ROWS, [])} if base else set()
        return frozenset(row["code"] for row in resource.fields.get(ROWS, [])) - added

    def put_params(self, table: TableId, current: Mapping[str, Any]) -> dict[str, str]:
        """Write the language that was read: the declared one, else the one Alma answered
        in (its GET and PUT defaults differ: "" and "en")."""
        lang = table.lang or unwrap(current.get("language"))
        return {"lang": str(lang)} if lang else {}

    def export_rows(self, table: TableId, fields: Fields) -> dict[str, Any]:
        names = ("code", "description") if table.lang else ("code", "description", "enabled")
        rows = []
        for row in fields.get(ROWS, []):
            out = {name: row[name] for name in names if name in row}
            if not table.lang and row.get("default") is True:
                out["default"] = True  # false is the rule; writing it on every row is noise
            rows.append(out)
        return {ROWS: rows}
