"""Letters: ``/conf/letters[/{code}]``, keyed by letter code; Alma allows GET and PUT only.

Config shape: ``letters: {CODE: {enabled, xsl_file, labels: {label code: text}}}``.
``xsl_file`` names the XSL template in a file relative to the YAML file's folder; it is read
(and checked to be well-formed XML) when the config is loaded. ``labels`` are rows of the
code table the letter points at (a table named after the letter), so they are read and
written through ``/conf/code-tables/{name}``, keeping every row the file does not declare.

Alma's quirks modelled here: letters cannot be created or deleted, so an unknown code is a
config error and ``prune`` never applies; PUT accepts XML only (JSON gets ``60105``) and
replaces the whole letter, so an update GETs the letter, merges and PUTs it back as XML with
the XSL as escaped text; ``description`` is derived from the labels and cannot be declared.
Line endings of templates are normalised to LF on both sides, so a Windows checkout of an
unchanged file plans nothing.
"""

from __future__ import annotations

import difflib
import re
import xml.etree.ElementTree as ET
from collections.abc import Hashable, Iterator, Mapping
from pathlib import Path, PureWindowsPath
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from almasync.alma.client import AlmaClient
from almasync.alma.payload import as_list
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import AlmaError, Mark, Problem
from almasync.kinds.base import (
    Capabilities,
    Declared,
    FieldsModel,
    KindHandler,
    LiveQuery,
    not_a_mapping,
)
from almasync.kinds.code_table import CodeTableHandler
from almasync.kinds.references import References
from almasync.kinds.wire import as_bool, strip_output_only, unwrap
from almasync.model import Fields, Key, Kind, Resource

BASE = "/conf/letters"
#: Both lists: letters proper and the components (header, footer...) they include.
LETTER_TYPES = ("LETTER", "COMPONENT")
EXPORT_FOLDER = "letters"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_POSITION = re.compile(r": line \d+, column \d+$")


def _optional(schema: dict[str, Any]) -> None:
    # Omitted means "leave it as it is in Alma"; the schema should not suggest a default.
    schema.pop("default", None)


class LetterFields(FieldsModel):
    """A letter as declared in a config file; its XSL template is kept in a file."""

    enabled: bool = Field(False, json_schema_extra=_optional,
                          description="Whether Alma sends this letter")
    xsl_file: str = Field("", min_length=1, json_schema_extra=_optional,
                          description="The XSL template: a file path relative to this YAML "
                                      "file's folder, inside the config tree")
    labels: dict[str, str] = Field(default_factory=dict, json_schema_extra=_optional,
                                   description="Label code -> text, rows of the letter's "
                                               "labels code table; other rows are kept")
    # Not written by users (declared() refuses it): filled with the text of ``xsl_file``
    # when the file is loaded; the template is what is compared and sent.
    xsl: SkipJsonSchema[str] = ""


def _path(code: str) -> str:
    return f"{BASE}/{quote(code, safe='')}"


def _table_path(name: str) -> str:
    return f"/conf/code-tables/{quote(name, safe='')}"


def lf(text: str) -> str:
    """CRLF and lone CR -> LF: the form templates are compared and sent in."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -- config side ---------------------------------------------------------------------------

def _with_xsl(raw: dict[Any, Any], path: NodePath, doc: YamlDoc,
              label: str) -> tuple[dict[Any, Any], list[Problem]]:
    """``raw`` with the template of ``xsl_file`` under ``xsl``, and the problems found.
    Fields users may not write are reported here with a message saying what to do."""
    problems: list[Problem] = []
    refused = {"xsl": "keep the template in a file beside the YAML and name it with xsl_file",
               "description": "Alma derives a letter's description from its labels and "
                              "ignores changes to it; change the label text under labels"}
    for field, advice in refused.items():
        if field in raw:
            problems.append(Problem(doc.mark((*path, field)), f"{label}.{field}: {advice}"))
    raw = {k: v for k, v in raw.items() if k not in refused}
    name = raw.get("xsl_file")
    if isinstance(name, str) and name:
        text, problem = read_xsl(doc, name, doc.mark((*path, "xsl_file"), value=True), label)
        if problem is not None:
            problems.append(problem)
        if text is not None:
            raw["xsl"] = text
    return raw, problems


def read_xsl(doc: YamlDoc, name: str, mark: Mark,
             label: str) -> tuple[str | None, Problem | None]:
    """The template ``name`` refers to (relative to ``doc``'s folder), with LF line endings.
    Absolute paths, paths leaving the config tree, missing or unreadable files and
    templates that are not well-formed XML are problems."""
    folder = Path(doc.name).parent
    root = (doc.root or folder).resolve()
    where = f"{label}.xsl_file: {name!r}"
    if Path(name).is_absolute() or PureWindowsPath(name).anchor:
        return None, Problem(mark, f"{where} is absolute; write it relative to the folder of "
                             "this file")
    target = (folder / name).resolve()
    if not target.is_relative_to(root):
        return None, Problem(mark, f"{where} leads outside the config tree {root}; keep XSL "
                             "files inside it")
    if not target.is_file():
        return None, Problem(mark, f"{where}: no such file ({folder / name})")
    try:
        text = lf(target.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, Problem(mark, f"{where}: cannot read it as UTF-8 ({exc})")
    try:
        ET.fromstring(text)
    except ET.ParseError as exc:
        line, col = exc.position
        reason = _POSITION.sub("", str(exc))  # the mark already says where
        return None, Problem(Mark(str(folder / name), line, col + 1),
                             f"{label}: the XSL template is not well-formed XML: {reason}")
    return text, None


# -- Alma side -----------------------------------------------------------------------------

def list_letters(client: AlmaClient) -> dict[str, dict[str, Any]]:
    """Code -> list entry (without XSL) of every letter and letter component."""
    found: dict[str, dict[str, Any]] = {}
    for letter_type in LETTER_TYPES:
        for entry in client.get_list(BASE, "letter", {"type": letter_type}):
            found[str(entry["code"])] = entry
    return found


def _letters(refs: References, client: AlmaClient | None = None) -> dict[str, dict[str, Any]]:
    # One listing per run, shared by the reference checks and the live read. The checks get
    # no client of their own, so they borrow the one References reads through.
    source = client if client is not None else refs.client
    result: dict[str, dict[str, Any]] = refs.cached("letters", lambda: list_letters(source))
    return result


def labels_table(letter: Mapping[str, Any], code: str) -> str:
    """The code table holding a letter's labels (named after the letter unless Alma says)."""
    return str(unwrap(letter.get("labels")) or code)


def normalise(letter: Mapping[str, Any]) -> dict[str, Any]:
    """A letter's JSON -> normalised fields; ``customized`` is kept for export."""
    out = {"enabled": as_bool(letter.get("enabled")),
           "customized": as_bool(letter.get("customized"))}
    if isinstance(letter.get("xsl"), str):
        out["xsl"] = lf(letter["xsl"])
    return out


def read_labels(client: AlmaClient, table: str) -> dict[str, str]:
    """Label code -> text of a letter's labels table ({} when the table does not exist)."""
    try:
        body = client.get(_table_path(table))
    except AlmaError as exc:
        if exc.status == 400 and exc.code == "90101":
            return {}
        raise
    return {str(row.get("code")): str(row.get("description") or "")
            for row in as_list(body.get("row"))}


def letter_xml(letter: Mapping[str, Any]) -> str:
    """A letter's JSON (without ``link``/``desc``) -> the XML body Alma's PUT takes. Text is
    escaped by ElementTree, so the XSL travels as text inside ``<xsl>``."""
    root = ET.Element("letter")
    for name, value in letter.items():
        _append(root, name, value)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def _append(parent: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        # JSON drops Alma's repeated-element wrappers (<rows><row>); XML needs them back.
        holder = ET.SubElement(parent, name + "s")
        for item in value:
            _append(holder, name, item)
        return
    element = ET.SubElement(parent, name)
    if isinstance(value, Mapping) and set(value) != {"value"}:
        for key, item in value.items():
            _append(element, str(key), item)
        return
    value = unwrap(value)
    if value is not None:
        element.text = ("true" if value else "false") if isinstance(value, bool) else str(value)


def _merged(letter: Mapping[str, Any], fields: Fields) -> dict[str, Any] | None:
    """The whole letter with the declared ``enabled``/``xsl``; None when nothing differs."""
    changes = {name: fields[name] for name in ("enabled", "xsl") if name in fields}
    current = normalise(letter)
    if all(current.get(name) == value for name, value in changes.items()):
        return None
    body: dict[str, Any] = strip_output_only(letter)
    body.update(changes)
    return body


def write_labels(client: AlmaClient, table: str, labels: Mapping[str, str]) -> None:
    """Set the declared label texts through the code-table kind, which GETs the table,
    changes those rows, keeps every other row and PUTs the whole table back in the language
    it read. No write when Alma already holds every declared text."""
    current = read_labels(client, table)
    if any(current.get(code) != text for code, text in labels.items()):
        rows = [{"code": code, "description": text} for code, text in labels.items()]
        CodeTableHandler().update(client, (table,), {"rows": rows})


# -- plan display --------------------------------------------------------------------------

def _did_you_mean(code: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(code, list(known), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


class LetterHandler(KindHandler):
    kind: ClassVar[Kind] = Kind.LETTER
    model: ClassVar[type[FieldsModel]] = LetterFields
    capabilities: ClassVar[Capabilities] = Capabilities.fixed()

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        problem = not_a_mapping(node, path, doc, "letter codes to their fields")
        if problem:
            yield problem
            return
        for code, raw in node.items():
            item_path, label = (*path, code), f"letters.{code}"
            if isinstance(raw, dict):
                raw, problems = _with_xsl(raw, item_path, doc, label)
                yield from problems
            yield Declared((str(code),), raw, item_path, label)

    def fields_of(self, model: FieldsModel) -> dict[str, Any]:
        # The path only says where the template is; the template itself is compared.
        fields = super().fields_of(model)
        fields.pop("xsl_file", None)
        return fields

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "description": "letter code -> fields",
                "additionalProperties": fields}

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        letters = _letters(refs)
        problems: list[Problem] = []
        for key, resource in sorted(resources.items()):
            code = key[0]
            if code not in letters:
                problems.append(Problem(resource.mark, f"letter {code!r} does not exist in "
                                        "Alma, and letters cannot be created through the "
                                        f"API{_did_you_mean(code, letters)}"))
            elif resource.fields.get("labels"):
                problems.extend(self._check_labels(resource, labels_table(letters[code], code),
                                                   refs))
        return problems

    def _check_labels(self, resource: Resource, table: str, refs: References) -> list[Problem]:
        mark = resource.marks.get("labels", resource.mark)
        codes = refs.code_table_codes(table)
        if codes is None:
            return [Problem(mark, f"letter {resource.key[0]!r}: its labels code table "
                            f"{table!r} does not exist in Alma")]
        return [Problem(mark, f"letter {resource.key[0]!r}: label {code!r} is not in its "
                        f"labels code table {table!r}{_did_you_mean(code, dict.fromkeys(codes))}")
                for code in sorted(resource.fields["labels"]) if code not in codes]

    def live_view(self, desired: Fields, live: Fields | None) -> Fields:
        """The live values of the declared fields; of the labels, the declared ones only
        (a labels table holds every label of the letter). The template is the whole text:
        the renderers show a summary and a unified diff of it."""
        view = dict(super().live_view(desired, live))
        if "labels" in desired:
            current = (live or {}).get("labels") or {}
            view["labels"] = {code: current.get(code) for code in desired["labels"]}
        return view

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        """List entries, read in full (with XSL) where a template is declared or exported;
        labels where declared. Declared codes Alma does not have are left out."""
        letters = _letters(refs, client)
        keys: set[Key] = {(code,) for code in letters if query.everything}
        keys |= {key for key in query.wanted if key[0] in letters}
        live: dict[Key, Fields] = {key: normalise(letters[key[0]]) for key in keys}
        full = sorted(key for key in keys if "xsl" in query.wanted.get(key, ())
                      or (query.detail and live[key]["customized"]))
        for key, letter in client.map(lambda k: (k, client.get(_path(k[0]))), full):
            live[key] = normalise(letter)
        labelled = sorted(key for key in keys if "labels" in query.wanted.get(key, ()))
        tables = [(key, labels_table(letters[key[0]], key[0])) for key in labelled]
        for key, labels in client.map(lambda kt: (kt[0], read_labels(client, kt[1])), tables):
            live[key] = {**live[key], "labels": labels}
        return live

    def write_target(self, key: Key, fields: Fields) -> Hashable:
        """Every letter: a letter is read through the lists of ``/conf/letters`` (code ->
        entry, by type), which every letter's write changes, and labels go into code
        tables that letters may share; so letters are written one at a time, each from a
        read that holds the writes before it."""
        return BASE

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        """PUT the whole letter as XML when ``enabled`` or the template differ; then the
        declared label texts into the labels code table. Each write is skipped when Alma
        already holds what the file declares."""
        letter = client.get(_path(key[0]))
        body = _merged(letter, fields)
        if body is not None:
            # What the read-back compares: what the file declares (Alma stamps the rest
            # of the letter: updated_by, update_date, customized).
            client.put_xml(_path(key[0]), letter_xml(body),
                           sent={name: body[name] for name in ("enabled", "xsl")
                                 if name in body})
        if fields.get("labels"):
            write_labels(client, labels_table(letter, key[0]), fields["labels"])

    # -- export --------------------------------------------------------------------------

    def is_default(self, key: Key, live: Fields) -> bool:
        """A letter or component as Alma ships it: template not customised and not
        disabled. Export leaves it out and drift does not list it as unmanaged."""
        return not live.get("customized") and live.get("enabled") is not False

    def exported(self, resources: Mapping[Key, Resource]) -> list[Key]:
        """What export writes: letters that differ from what Alma ships, i.e. customized
        templates and disabled letters."""
        return sorted(key for key, r in resources.items()
                      if not self.is_default(key, r.fields))

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        tree: dict[str, dict[str, Any]] = {}
        for key in self.exported(resources):
            fields = resources[key].fields
            entry: dict[str, Any] = {"enabled": fields.get("enabled") is not False}
            if fields.get("customized") and "xsl" in fields:
                entry["xsl_file"] = xsl_file_name(key[0])
            tree[key[0]] = entry
        return tree

    def export_files(self, resources: Mapping[Key, Resource]) -> dict[str, str]:
        """The files :meth:`export` refers to: relative path (from the exported YAML's
        folder) -> text. Export writes them beside the YAML file."""
        return {xsl_file_name(key[0]): resources[key].fields["xsl"]
                for key in self.exported(resources)
                if resources[key].fields.get("customized") and "xsl" in resources[key].fields}


def xsl_file_name(code: str) -> str:
    """Where export puts a letter's template, relative to the YAML file."""
    # Component codes end in .xsl (header.xsl); they get a folder of their own, so a letter
    # "header" and a component "header.xsl" never share a file.
    folder = f"{EXPORT_FOLDER}/components" if code.endswith(".xsl") else EXPORT_FOLDER
    stem = _UNSAFE.sub("_", code.removesuffix(".xsl")).lstrip(".") or "_"
    return f"{folder}/{stem}.xsl"
