"""What code tables and mapping tables share: whole-table reads and writes, merged by row.

Alma has no call that creates or deletes a table: a table is read with GET and written
with a PUT that replaces every row. A declaration names some of a table's rows; almasync
reads the table, changes the declared rows in place, appends declared rows Alma lacks,
keeps every other row exactly as Alma returned it, and PUTs the whole table back.

Identity: a declaration is keyed by the table's name plus, when given, the library it
customises (``scope:``) and the language of its descriptions (``lang:``, code tables only).
The key parts are ``NAME``, ``scope=LIB`` and ``lang=xx``, so ``code_table
ItemPolicy/scope=LAW`` names the Law Library's customisation of ``ItemPolicy``.

Plans compare rows by row key (``rows[GRAD].description``), never by position, and only
the rows and fields a file declares.
"""

from __future__ import annotations

import difflib
from abc import abstractmethod
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

from almasync.alma.client import AlmaClient
from almasync.alma.payload import as_list
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import AlmaError, ConfigError, Mark, Problem
from almasync.kinds.base import (
    Capabilities,
    Declared,
    FieldsModel,
    KindHandler,
    LiveQuery,
    not_a_mapping,
)
from almasync.kinds.references import References
from almasync.kinds.wire import strip_output_only
from almasync.model import Fields, Key, Kind, Resource

ROWS = "rows"
#: Fields of a declaration that are part of its key rather than compared.
KEY_FIELDS = ("scope", "lang")
_SCOPE, _LANG = "scope=", "lang="


@dataclass(frozen=True)
class TableId:
    """One table declaration's identity: name, library customised, description language."""

    name: str
    scope: str | None = None
    lang: str | None = None

    @classmethod
    def of(cls, key: Key) -> TableId:
        parts = {part.partition("=")[0]: part.partition("=")[2] for part in key[1:]}
        return cls(key[0], parts.get("scope") or None, parts.get("lang") or None)

    @property
    def key(self) -> Key:
        return (self.name,
                *((_SCOPE + self.scope,) if self.scope else ()),
                *((_LANG + self.lang,) if self.lang else ()))

    def params(self) -> dict[str, str]:
        """Query parameters of the GET that reads exactly this declaration's rows."""
        out = {"scope": self.scope} if self.scope else {}
        return {**out, "lang": self.lang} if self.lang else out

    def __str__(self) -> str:
        where = f" for library {self.scope}" if self.scope else ""
        return self.name + where + (f" in language {self.lang}" if self.lang else "")


def row_key(row: Mapping[str, Any], columns: Sequence[str]) -> str:
    """The text a row is known by in plans: its key columns' values, joined by ``|``."""
    if len(columns) == 1:
        value = row.get(columns[0])
        return "" if value is None else str(value)
    return "|".join("" if row.get(c) is None else str(row[c]) for c in columns)


def row_keys(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[str]:
    """:func:`row_key` of each row, in order (one pass, for tables of thousands of rows)."""
    if len(columns) != 1:
        return [row_key(row, columns) for row in rows]
    column = columns[0]
    return [value if type(value) is str else "" if value is None else str(value)
            for value in [row.get(column) for row in rows]]


def rows_of(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A table's rows as Alma returns them (``row`` is absent when the table is empty)."""
    return [row for row in as_list(payload.get("row")) if isinstance(row, dict)]


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass(frozen=True)
class _Note:
    """What ``check_references`` learnt about one declaration, for ``read_live`` to point
    at: where it is declared, and rows that must already exist in Alma."""

    mark: Mark | None
    columns: tuple[str, ...]
    must_exist: frozenset[str] = frozenset()


class TableHandler(KindHandler):
    """A kind whose resources are Alma tables (code tables, mapping tables)."""
    #: Alma ships the tables: they are changed, never created or deleted.
    capabilities: ClassVar[Capabilities] = Capabilities.fixed()

    api_path: ClassVar[str]
    list_key: ClassVar[str]
    noun: ClassVar[str]
    #: Whether declarations may carry ``lang:`` (Alma translates code tables only).
    languages: ClassVar[bool] = False
    #: Alma's error codes for "not customisable" and "scope not legal" (they differ by kind).
    not_customisable: ClassVar[str]
    bad_scope: ClassVar[str]
    #: Further refusals of a PUT this kind can meet -> what the user should do about them.
    more_refusals: ClassVar[Mapping[str, str]] = {}
    #: The arguments and result of the last :meth:`comparable` (see there).
    _last_compared: tuple[Any, Any, tuple[Fields, Fields]] | None = None

    # -- hooks for the two kinds -----------------------------------------------------

    @abstractmethod
    def key_columns(self, fields: Fields) -> tuple[str, ...]:
        """The columns that identify a row of a declaration (validated or not yet)."""

    @abstractmethod
    def normalise_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """One of Alma's rows -> the declared-row form (plain values, booleans as bool)."""

    @abstractmethod
    def export_rows(self, table: TableId, fields: Fields) -> dict[str, Any]:
        """The declaration body (``rows`` and any row-key setting) for live ``fields``."""

    def row_problems(self, raw: Mapping[str, Any], row: Mapping[str, Any], at: NodePath,
                     doc: YamlDoc, label: str, columns: tuple[str, ...]) -> Sequence[Problem]:
        """Shape problems of one declared row that need the row's own marks; ``columns``
        are the declaration's key columns. Called for every row of every table: a row
        without problems should cost next to nothing."""
        return ()

    def table_problems(self, raw: Mapping[str, Any], where: NodePath, doc: YamlDoc,
                       label: str) -> Iterator[Problem]:
        """Problems across the rows of one declaration (e.g. two default rows)."""
        return iter(())

    def settle_view(self, want: dict[str, dict[str, Any]], have: dict[str, dict[str, Any]],
                    live: Mapping[str, Mapping[str, Any]]) -> None:
        """Add to both sides of a comparison the undeclared rows a write would change."""

    def settle_rows(self, rows: list[dict[str, Any]],
                    declared: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Adjust merged rows for what a declaration implies about other rows."""
        return rows

    def must_exist(self, table: TableId, resource: Resource,
                   resources: Mapping[Key, Resource]) -> frozenset[str]:
        """Row keys of ``resource`` that must already be live (nothing, by default)."""
        return frozenset()

    def put_params(self, table: TableId, current: Mapping[str, Any]) -> dict[str, str]:
        return {}

    # -- config side -----------------------------------------------------------------

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        top = self.kind.config_key
        problem = not_a_mapping(node, path, doc, "table names to tables")
        if problem:
            yield problem
            return
        for name, value in node.items():
            if isinstance(value, list) and not value:
                yield Problem(doc.mark((*path, name), value=True), f"{top}.{name}: expected a "
                              "table (a mapping with rows) or a list of them, one per scope"
                              + ("/lang" if self.languages else ""))
            entries = ([((*path, name, i), f"{top}.{name}[{i}]", raw)
                        for i, raw in enumerate(value)] if isinstance(value, list)
                       else [((*path, name), f"{top}.{name}", value)])
            for where, label, raw in entries:
                if isinstance(raw, dict):
                    yield from self._rows_problems(raw, where, doc, label)
                yield Declared(self._key_of(str(name), raw), raw, where, label)

    def _key_of(self, name: str, raw: Any) -> Key:
        if not isinstance(raw, dict):
            return (name,)
        lang = _text(raw.get("lang")) if self.languages else None
        return TableId(name, _text(raw.get("scope")), lang).key

    def _rows_problems(self, raw: Mapping[str, Any], where: NodePath, doc: YamlDoc,
                       label: str) -> Iterator[Problem]:
        """Row checks done here rather than in ``check`` because only the document knows
        where each row is: two rows with one key, and the kind's own row checks."""
        rows = raw.get(ROWS)
        if not isinstance(rows, list):
            return
        columns = self.key_columns(raw)
        single = columns[0] if len(columns) == 1 else None
        check = self.row_problems
        first: dict[str, int] = {}
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                continue
            at = (*where, ROWS, index)
            yield from check(raw, row, at, doc, label, columns)
            # The model (or row_problems) reports a missing or odd key.
            if single is not None:  # the common case, without a call per row
                key = row.get(single)
                if not isinstance(key, str):
                    continue
            elif all(isinstance(row.get(c), str) for c in columns):
                key = row_key(row, columns)
            else:
                continue
            if key in first:
                line = doc.mark((*where, ROWS, first[key])).line
                yield Problem(doc.mark(at), f"{label}.rows.{index}: row {key} is declared "
                              f"twice in this table (first at line {line})")
            first.setdefault(key, index)
        yield from self.table_problems(raw, where, doc, label)

    def fields_of(self, model: FieldsModel) -> dict[str, Any]:
        fields = model.model_dump(mode="json", exclude_unset=True)
        return {name: value for name, value in fields.items() if name not in KEY_FIELDS}

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object",
                "description": "table name -> the table, or a list of declarations of it "
                               "(one per scope" + ("/lang" if self.languages else "") + ")",
                "additionalProperties": {"anyOf": [
                    fields, {"type": "array", "items": fields, "minItems": 1}]}}

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        by_name: dict[str, list[dict[str, Any]]] = {}
        for key in sorted(resources):
            table = TableId.of(key)
            head = {"scope": table.scope} if table.scope else {}
            head.update({"lang": table.lang} if table.lang else {})
            body = {**head, **self.export_rows(table, resources[key].fields)}
            by_name.setdefault(table.name, []).append(body)
        return {name: bodies[0] if len(bodies) == 1 and not set(bodies[0]) & set(KEY_FIELDS)
                else bodies for name, bodies in by_name.items()}

    # -- comparison ------------------------------------------------------------------

    def comparable(self, desired: Fields, live: Fields | None) -> tuple[Fields, Fields]:
        """``{"rows": {row key: declared fields}}`` on both sides, for the declared rows
        that differ from Alma, plus undeclared rows a write would change (``settle_view``).
        A declared row Alma lacks is in ``want`` only."""
        last = self._last_compared
        if last is not None and last[0] is desired and last[1] is live:
            return last[2]
        columns = self.key_columns(desired)
        live_rows: dict[str, Mapping[str, Any]] = {}
        current_rows = (live or {}).get(ROWS, [])
        for key, row in zip(row_keys(current_rows, columns), current_rows, strict=True):
            live_rows.setdefault(key, row)
        want: dict[str, dict[str, Any]] = {}
        have: dict[str, dict[str, Any]] = {}
        declared = desired.get(ROWS, [])
        for key, row in zip(row_keys(declared, columns), declared, strict=True):
            fields = {name: value for name, value in row.items() if name not in columns}
            want[key] = fields
            current = live_rows.get(key)
            if current is not None:
                have[key] = {name: current.get(name) for name in fields}
        self.settle_view(want, have, live_rows)
        # Rows that already match say nothing; leaving them out keeps the diff of a
        # thousand-row table proportional to what changed.
        same = [key for key, fields in want.items() if have.get(key) == fields]
        for key in same:
            del want[key], have[key]
        # A plan asks again for the same pair (live_view); a big table is compared once.
        self._last_compared = (desired, live, ({ROWS: want}, {ROWS: have}))
        return {ROWS: want}, {ROWS: have}

    def live_view(self, desired: Fields, live: Fields | None) -> Fields:
        """``{"rows": [...]}`` as declared: the live rows the declaration names, and those
        a write would change (a moved default), each with its key columns and the fields
        compared, in the table's order."""
        columns = self.key_columns(desired)
        compared = self.comparable(desired, live)[1][ROWS]
        declared_rows = desired.get(ROWS, [])
        declared = dict(zip(row_keys(declared_rows, columns), declared_rows, strict=True))
        rows = []
        current_rows = (live or {}).get(ROWS, [])
        for key, row in zip(row_keys(current_rows, columns), current_rows, strict=True):
            if key in declared or key in compared:
                names = [n for n in declared.get(key, {}) if n not in columns]
                names += [n for n in compared.get(key, {}) if n not in names]
                rows.append({**{c: row.get(c) for c in columns},
                             **{n: row.get(n) for n in names}})
        return {ROWS: rows}

    def dependencies(self, key: Key, fields: Fields) -> Iterator[tuple[Kind, Key]]:
        """A translation waits for its table's own declaration, which may add its rows."""
        table = TableId.of(key)
        if table.lang:
            yield self.kind, TableId(table.name, table.scope).key

    def write_target(self, key: Key, fields: Fields) -> Hashable:
        """The table by name: every scope and language of it is read and PUT whole through
        one path, so no two of its declarations are written at once."""
        return TableId.of(key).name

    # -- Alma side -------------------------------------------------------------------

    def _path(self, name: str) -> str:
        return f"{self.api_path}/{quote(name, safe='')}"

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        """Scopes must be libraries. Whether each table exists is learnt by reading it in
        ``read_live``, which reports a missing one at its declaration (``query.declared``)."""
        problems: list[Problem] = []
        scoped = {key: TableId.of(key).scope for key in resources if TableId.of(key).scope}
        libraries = refs.libraries() if scoped else {}
        for key, scope in scoped.items():
            if scope not in libraries:
                resource = resources[key]
                problems.append(Problem(
                    resource.marks.get("scope", resource.mark),
                    f"{self.noun} {key[0]}: scope {scope!r} is not a library in Alma "
                    f"(libraries: {', '.join(sorted(libraries))}); leave scope out to "
                    "declare the institution's table"))
        return problems

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        notes = {key: _Note(r.mark, self.key_columns(r.fields),
                            self.must_exist(TableId.of(key), r, query.declared))
                 for key, r in query.declared.items()}
        tables = {TableId.of(key) for key in query.wanted}
        if query.everything:
            tables |= {TableId(name) for name in self._names(client, refs)}
        ordered = sorted(tables, key=lambda table: table.key)
        fetched = client.map(lambda table: self._fetch(client, table), ordered)
        live: dict[Key, Fields] = {}
        problems: list[Problem] = []
        for table, outcome in zip(ordered, fetched, strict=True):
            note = notes.get(table.key)
            if isinstance(outcome, AlmaError):
                if note is not None:  # declared: say so at its place; otherwise just absent
                    problems.append(Problem(note.mark,
                                            self._unreadable(client, refs, table, outcome)))
                continue
            rows = [self.normalise_row(row) for row in rows_of(outcome)]
            live[table.key] = {ROWS: rows}
            if note is not None and note.must_exist:
                problems.extend(self._missing_rows(table, note, rows))
        if problems:
            raise ConfigError(problems)
        return live

    def _names(self, client: AlmaClient, refs: References) -> list[str]:
        """Every table Alma lists (hidden ones are not listed), read once per run."""
        def load() -> list[str]:
            return [str(entry["name"]) for entry in client.get_list(self.api_path, self.list_key)
                    if entry.get("name")]
        names: list[str] = refs.cached(f"{self.kind.value}:names", load)
        return names

    def _fetch(self, client: AlmaClient, table: TableId) -> dict[str, Any] | AlmaError:
        try:
            body: dict[str, Any] = client.get(self._path(table.name), table.params())
        except AlmaError as exc:
            if exc.status != 400 or exc.exit_code is not AlmaError.exit_code:
                raise  # not a refusal about this table (key, quota, server): stop the run
            return exc
        return body

    def _unreadable(self, client: AlmaClient, refs: References, table: TableId,
                    exc: AlmaError) -> str:
        if exc.code == "90101":
            close = difflib.get_close_matches(table.name, self._names(client, refs), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            return (f"{self.noun} {table.name!r} does not exist in Alma (error 90101); tables "
                    f"cannot be created through the API, check the name (case matters){hint}")
        if exc.code == "90102":
            return (f"{self.noun} {table.name!r} is hidden in Alma (error 90102): it can be "
                    "neither read nor changed through the API; remove this declaration")
        return f"Alma refused to read {self.noun} {table} (error {exc.code}: {exc.alma_message})"

    def _missing_rows(self, table: TableId, note: _Note,
                      rows: Sequence[Mapping[str, Any]]) -> list[Problem]:
        live = {row_key(row, note.columns) for row in rows}
        missing = sorted(note.must_exist - live)
        if not missing:
            return []
        return [Problem(note.mark, f"{self.noun} {table}: no row {', '.join(missing)} in the "
                        "table; a translation describes existing rows only (declare new rows "
                        "in the table's declaration without lang)")]

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        """GET the table (in the declaration's scope and language), merge the declared rows,
        PUT the whole table. Undeclared rows go back exactly as read, bar what a declaration
        implies for them (``settle_rows``: a new default row unsets the old one)."""
        table = TableId.of(key)
        try:
            current = strip_output_only(client.get(self._path(table.name), table.params()))
            body = {**current, "row": self._merged(table, current, fields)}
            if table.scope:  # Alma reads the library a PUT customises from the body
                body["scope"] = {**(current.get("scope") or {}),
                                 "library_id": {"value": table.scope}}
            client.put(self._path(table.name), body, self.put_params(table, current))
        except AlmaError as exc:
            hint = self._refusals().get(exc.code)
            if hint is None:
                raise
            raise AlmaError(exc.status, exc.code, f"{exc.alma_message} {hint}",
                            exc.tracking_id, exc.method, exc.path) from exc

    def _refusals(self) -> dict[str, str]:
        """Alma's error codes for a PUT it refuses -> what the user should do about it."""
        return {
            self.not_customisable: "Only customisable tables can be changed; remove this "
                                   "declaration.",
            "90102": "Hidden tables cannot be changed through the API; remove this declaration.",
            self.bad_scope: "This table cannot be customised per library; remove its scope.",
            "90101": "The API cannot create tables; check the name.",
            **self.more_refusals,
        }

    def _merged(self, table: TableId, current: Mapping[str, Any],
                fields: Fields) -> list[dict[str, Any]]:
        columns = self.key_columns(fields)
        declared = {row_key(row, columns): row for row in fields.get(ROWS, [])}
        merged: list[dict[str, Any]] = []
        for row in rows_of(current):
            wanted = declared.pop(row_key(self.normalise_row(row), columns), None)
            merged.append(row if wanted is None else {**row, **wanted})
        if not table.lang:  # a translation never adds rows; see _missing_rows
            merged.extend(dict(row) for row in declared.values())
        return self.settle_rows(merged, fields.get(ROWS, []))

    # -- rollback ----------------------------------------------------------------------

    def restoring(self, written: Fields, saved: Fields) -> dict[str, Any]:
        """The rows to put back after an update of ``written`` over the live table
        ``saved``: the saved state of each written row that existed, and of each other row
        the write changed by implication (a new default row unsets the old one). Written
        rows that did not exist are not here: :meth:`revert` removes them."""
        columns = self.key_columns(written)
        old = {row_key(row, columns): dict(row) for row in saved.get(ROWS, [])}
        declared = [row_key(row, columns) for row in written.get(ROWS, [])]
        implied = self.settle_rows([dict(row) for row in old.values()],
                                   written.get(ROWS, []))
        touched = [key for key in declared if key in old]
        touched += [row_key(row, columns) for row in implied
                    if row_key(row, columns) not in declared
                    and row != old.get(row_key(row, columns))]
        kept = {name: value for name, value in written.items() if name != ROWS}
        return {**kept, ROWS: [old[key] for key in touched]}

    def added_rows(self, written: Fields, saved: Fields) -> list[str]:
        """Row keys an update of ``written`` added to the live table ``saved``."""
        columns = self.key_columns(written)
        old = {row_key(row, columns) for row in saved.get(ROWS, [])}
        return [key for key in (row_key(row, columns) for row in written.get(ROWS, []))
                if key not in old]

    def revert(self, client: AlmaClient, key: Key, written: Fields, restored: Fields) -> None:
        """GET the table, drop the rows ``written`` added, give the rows in ``restored``
        their saved values, PUT it back; every other row goes back exactly as read."""
        table = TableId.of(key)
        columns = self.key_columns(written)
        back = {row_key(row, columns): row for row in restored.get(ROWS, [])}
        added = {row_key(row, columns) for row in written.get(ROWS, [])} - set(back)
        current = strip_output_only(client.get(self._path(table.name), table.params()))
        rows = []
        for row in rows_of(current):
            found = row_key(self.normalise_row(row), columns)
            if found in added:
                continue
            rows.append({**row, **back[found]} if found in back else row)
        body = {**current, "row": rows}
        if table.scope:
            body["scope"] = {**(current.get("scope") or {}),
                             "library_id": {"value": table.scope}}
        client.put(self._path(table.name), body, self.put_params(table, current))
