"""Code tables and mapping tables: whole-table GET/PUT with scope and language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.render import JsonDict, body_list, envelope, flag, seg, text, unwrap, vd
from almasync.emulator.routing import Handler, Route
from almasync.emulator.store import Record

GENERAL = "402119"
_COLUMN = re.compile(r"^column(\d+)$")


@dataclass(frozen=True)
class TableKind:
    """What differs between code tables and mapping tables."""

    collection: str
    path: str
    list_key: str
    param: str
    empty_name: str
    not_customizable: str
    bad_scope: str


CODE = TableKind(
    "code_tables", "/conf/code-tables", "code_table", "codeTableName", "90100", "90123", "90121"
)
MAPPING = TableKind(
    "mapping_tables",
    "/conf/mapping-tables",
    "mapping_table",
    "mappingTableName",
    "90126",
    "90125",
    "90127",
)


def _tables(ctx: Ctx, kind: TableKind) -> dict[str, Record]:
    tables: dict[str, Record] = getattr(ctx.store, kind.collection)
    return tables


def _find(ctx: Ctx, kind: TableKind) -> Record:
    name = ctx.params[kind.param]
    if not name.strip():
        raise AlmaError(kind.empty_name, "Table name is empty.")
    table = _tables(ctx, kind).get(name)
    if table is None:
        raise AlmaError("90101", f"Table does not exist: {name}.")
    if table.get("hidden"):
        raise AlmaError("90102", f"Requested table is hidden: {name}.")
    return table


def _summary(ctx: Ctx, kind: TableKind, table: Record) -> JsonDict:
    return {
        "name": table["name"],
        "description": table.get("description", ""),
        "sub_system": vd(table.get("sub_system", ""), labels.SUB_SYSTEMS),
        "patron_facing": bool(table.get("patron_facing", False)),
        "link": ctx.link(f"{kind.path}/{seg(table['name'])}"),
    }


def _scope_json(ctx: Ctx, library: str) -> JsonDict:
    inst = ctx.store.institution
    lib_name = ctx.store.libraries[library]["name"] if library else None
    return {
        "institution_id": vd(inst.get("code", ""), desc=inst.get("name")),
        "library_id": vd(library, desc=lib_name),
    }


def _target(table: Record, library: str) -> Record:
    """The rows holder for a scope: the table itself or its library customisation."""
    if library and library in table.get("scopes", {}):
        scoped: Record = table["scopes"][library]
        return scoped
    return table


def table_json(ctx: Ctx, kind: TableKind, table: Record, library: str, lang: str) -> JsonDict:
    body = _summary(ctx, kind, table)
    link = body.pop("link")
    body["language"] = vd(lang or "en", labels.LANGUAGES)
    body["scope"] = _scope_json(ctx, library if library in table.get("scopes", {}) else "")
    holder = _target(table, library)
    if kind is CODE:
        translated = holder.get("translations", {}).get(lang, {}) if lang not in ("", "en") else {}
        rows = [
            {**r, "description": translated.get(r["code"], r["description"])}
            for r in holder["rows"]
        ]
    else:
        rows = [dict(r) for r in holder["rows"]]
    if rows:
        body["row"] = rows
    body["link"] = link
    return body


def list_tables(kind: TableKind) -> Handler:
    def handler(ctx: Ctx) -> Reply:
        items = [_summary(ctx, kind, t) for t in _tables(ctx, kind).values() if not t.get("hidden")]
        return Reply(envelope(kind.list_key, items), root=kind.list_key + "s")

    return handler


def _lang(ctx: Ctx, default: str) -> str:
    lang = ctx.arg("lang", default)
    if lang and lang not in labels.LANGUAGES:
        raise AlmaError("40166411", f"Param value is invalid: lang={lang}.")
    return lang


def get_table(kind: TableKind) -> Handler:
    def handler(ctx: Ctx) -> Reply:
        table = _find(ctx, kind)
        scope = ctx.arg("scope")
        if scope and not ctx.store.scope_exists(scope):
            raise AlmaError("40166411", f"Param value is invalid: scope={scope}.")
        library = scope if scope in ctx.store.libraries else ""
        lang = _lang(ctx, "") if kind is CODE else ""
        return Reply(table_json(ctx, kind, table, library, lang), root=kind.list_key)

    return handler


def _put_scope(ctx: Ctx, kind: TableKind, table: Record, body: JsonDict) -> str:
    """The library a PUT customises ("" for the institution): ``scope`` query, else the body."""
    scope = ctx.arg("scope")
    if not scope and isinstance(body.get("scope"), dict):
        scope = text(body["scope"].get("library_id"))
    if not scope or scope == ctx.store.institution_code:
        return ""
    if scope not in ctx.store.libraries or not table.get("library_scope"):
        raise AlmaError(kind.bad_scope, f"Requested table scope is not legal: {scope}.")
    return scope


def _rows_in(body: JsonDict) -> list[Any]:
    rows = body_list(body, "row")
    if not rows and isinstance(body.get("rows"), dict):
        rows = body_list(body["rows"], "row")
    return rows


def parse_code_rows(raw_rows: list[Any]) -> list[Record]:
    rows: list[Record] = []
    seen: set[str] = set()
    for raw in raw_rows:
        if not isinstance(raw, dict) or not text(raw.get("code")).strip():
            raise AlmaError(GENERAL, "General error: every row needs a code.")
        code = text(raw.get("code")).strip()
        if code in seen:
            raise AlmaError(GENERAL, f"General error: code '{code}' appears twice.")
        seen.add(code)
        rows.append(
            {
                "code": code,
                "description": text(raw.get("description")),
                "default": flag(raw.get("default"), "default", False, GENERAL),
                "enabled": flag(raw.get("enabled"), "enabled", True, GENERAL),
            }
        )
    if sum(1 for r in rows if r["default"]) > 1:
        raise AlmaError("90122", "Multiple default codes.")
    return rows


def parse_mapping_rows(table: Record, raw_rows: list[Any]) -> list[Record]:
    columns = int(table.get("columns", 2))
    rows: list[Record] = []
    for raw in raw_rows:
        if not isinstance(raw, dict):
            raise AlmaError(GENERAL, "General error: a row must be an object.")
        row: Record = {f"column{i}": "" for i in range(columns)}
        for key, value in raw.items():
            match = _COLUMN.match(key)
            if match and int(match.group(1)) >= columns:
                raise AlmaError(
                    GENERAL,
                    f"General error: table {table['name']} has {columns} columns, got {key}.",
                )
            if match:
                row[key] = text(unwrap(value))
        row["enabled"] = flag(raw.get("enabled"), "enabled", True, GENERAL)
        rows.append(row)
    return rows


def _store_code_rows(holder: Record, rows: list[Record], lang: str) -> None:
    """Replace the rows; for a language other than English the descriptions are translations."""
    translations: dict[str, dict[str, str]] = holder.setdefault("translations", {})
    if lang in ("", "en"):
        holder["rows"] = rows
    else:
        english = {r["code"]: r["description"] for r in holder.get("rows", [])}
        translations[lang] = {r["code"]: r["description"] for r in rows}
        holder["rows"] = [
            {**r, "description": english.get(r["code"], r["description"])} for r in rows
        ]
    codes = {r["code"] for r in rows}
    for language, mapping in translations.items():
        translations[language] = {c: d for c, d in mapping.items() if c in codes}


def put_table(kind: TableKind) -> Handler:
    def handler(ctx: Ctx) -> Reply:
        table = _find(ctx, kind)
        if not table.get("customizable", True):
            raise AlmaError(
                kind.not_customizable, f"Requested table is not customizable: {table['name']}."
            )
        body = ctx.body()
        lang = _lang(ctx, "en") if kind is CODE else ""
        library = _put_scope(ctx, kind, table, body)
        holder = table if not library else table.setdefault("scopes", {}).setdefault(library, {})
        if kind is CODE:
            _store_code_rows(holder, parse_code_rows(_rows_in(body)), lang)
        else:
            holder["rows"] = parse_mapping_rows(table, _rows_in(body))
        return Reply(table_json(ctx, kind, table, library, lang), root=kind.list_key)

    return handler


ROUTES = [
    Route("GET", "/conf/code-tables", list_tables(CODE)),
    Route("GET", "/conf/code-tables/{codeTableName}", get_table(CODE)),
    Route("PUT", "/conf/code-tables/{codeTableName}", put_table(CODE)),
    Route("GET", "/conf/mapping-tables", list_tables(MAPPING)),
    Route("GET", "/conf/mapping-tables/{mappingTableName}", get_table(MAPPING)),
    Route("PUT", "/conf/mapping-tables/{mappingTableName}", put_table(MAPPING)),
]
