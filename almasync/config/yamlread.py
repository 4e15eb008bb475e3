"""Read YAML keeping line and column of every key and value.

The only module that imports ruamel.yaml. It hands back plain Python data (dicts, lists,
str, int, float, bool, None; dates become ISO strings) and an index of positions keyed by
the path of each node, so later checks can point at ``file:line:col``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.representer import SafeRepresenter

from almasync.config.yamllimits import MAX_BYTES, YamlLimitError, decode, watch
from almasync.errors import Mark, Problem

NodePath = tuple[str | int, ...]
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class YamlDoc:
    """One parsed file: plain data plus the marks of its keys and values."""

    name: str
    data: Any
    root: Path | None = None
    key_marks: dict[NodePath, Mark] = field(default_factory=dict)
    value_marks: dict[NodePath, Mark] = field(default_factory=dict)

    def mark(self, path: Sequence[str | int], *, value: bool = False) -> Mark:
        """The mark of ``path``, or of its nearest ancestor that has one."""
        marks = self.value_marks if value else self.key_marks
        probe = tuple(path)
        while probe:
            if probe in marks:
                return marks[probe]
            if value and probe in self.key_marks:
                return self.key_marks[probe]
            probe = probe[:-1]
        return Mark(self.name, 1, 1)


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))




def read_yaml(path: Path, name: str, root: Path | None = None) -> YamlDoc:
    """Parse ``path``; a syntax error raises :class:`YamlSyntaxError` with its position.

    Bytes and events pass the limits of :mod:`almasync.config.yamllimits` first (size,
    encoding, NUL bytes, nesting, aliases). The document is then composed into nodes by
    ruamel's C parser when it is installed (the round-trip loader is an order of magnitude
    slower on big tables); where that YAML 1.1 scanner refuses valid YAML 1.2, such as a
    URL inside a flow mapping, ruamel's own parser reads it. Nodes are converted here,
    recording the mark of every key and value on the way.
    """
    try:
        if path.stat().st_size > MAX_BYTES:
            decode(b" " * (MAX_BYTES + 1), name)  # raises the size message
        data = path.read_bytes()
    except OSError as exc:
        raise YamlSyntaxError(Problem(Mark(name, 1, 1), "cannot read file: "
                                      f"{exc.strerror or exc}")) from exc
    except YamlLimitError as exc:
        raise YamlSyntaxError(exc.problem) from None
    try:
        yaml, node = _compose(decode(data, name), name)
    except YamlLimitError as exc:
        raise YamlSyntaxError(exc.problem) from None
    doc = YamlDoc(name, None, root)
    if node is not None:
        doc.data = _Converter(doc, yaml.constructor).convert(node, ())
    return doc


def _compose(text: str, name: str) -> tuple[YAML, Node | None]:
    """The root node of ``text``: the C parser first, ruamel's YAML 1.2 parser when the C
    parser refuses the text."""
    for pure in (False, True):
        yaml = YAML(typ="safe", pure=pure)
        try:
            for _ in watch(yaml.parse(text), name):
                pass
            return yaml, yaml.compose(text)
        except MarkedYAMLError as exc:
            if not pure:
                continue
            raise YamlSyntaxError(_syntax_problem(exc, text, name)) from None
        except YAMLError as exc:
            if not pure:
                continue
            raise YamlSyntaxError(Problem(Mark(name, 1, 1), f"YAML error: {exc}")) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _syntax_problem(exc: MarkedYAMLError, text: str, name: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    where = Mark(name, mark.line + 1, mark.column + 1) if mark else Mark(name, 1, 1)
    message = " ".join(str(part).strip() for part in (exc.context, exc.problem) if part)
    lines = text.splitlines()
    line = lines[mark.line] if mark and mark.line < len(lines) else ""
    if "\t" in line[: mark.column + 1 if mark else 0] or "\t" in line[: len(line) - len(
            line.lstrip())]:
        where = Mark(name, where.line, line.index("\t") + 1)
        message = "a tab character; YAML indents with spaces, never tabs"
    return Problem(where, f"YAML syntax error: {message}")


class _Converter:
    """Nodes -> plain data, filling the document's marks. Scalars are typed by their
    resolved YAML tag (so an unquoted ``2026-12-01`` is a date, returned as ISO text)."""

    def __init__(self, doc: YamlDoc, constructor: Any) -> None:
        self.doc = doc
        self.constructor = constructor

    def mark(self, node: Node) -> Mark:
        return Mark(self.doc.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: Node, path: NodePath) -> Any:
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.doc.key_marks[child] = self.doc.value_marks[child] = self.mark(item)
                items.append(self.convert(item, child))
            return items
        return self._scalar(node)

    def _mapping(self, node: MappingNode, path: NodePath) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._scalar(key_node)
            child = (*path, key)
            if key in out:
                first = self.doc.key_marks[child]
                raise YamlSyntaxError(Problem(self.mark(key_node), "YAML syntax error: found "
                                              f"duplicate key {key!r} (first at {first})"))
            self.doc.key_marks[child] = self.mark(key_node)
            self.doc.value_marks[child] = self.mark(value_node)
            out[key] = self.convert(value_node, child)
        return out

    def _scalar(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            raise YamlSyntaxError(Problem(self.mark(node), "YAML error: a mapping key must "
                                          "be a plain value"))
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, YAMLError):
            # e.g. 2026-13-01 looks like a date but is none: keep the text, so the field's
            # own check reports it beside every other problem of the file.
            return str(node.value)
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        if isinstance(value, str) and _SURROGATE.search(value):
            # "\ud83d\ude00" (JSON's escape of one character outside the BMP) is two
            # code points to YAML: join each pair, as a JSON reader would.
            try:
                return value.encode("utf-16", "surrogatepass").decode("utf-16")
            except UnicodeDecodeError:
                return value  # a lone surrogate: the field's check reports it
        return value


#: Plain scalars that some YAML reader takes for something other than text: YAML 1.1
#: booleans (yes/no/on/off/y/n), null, numbers with leading zeros, underscores, octal or hex,
#: sexagesimal times (10:00 is 600 in YAML 1.1), dates, infinities, merge and value keys.
_NOT_TEXT = re.compile(r"""
    (?: y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE
      | on|On|ON|off|Off|OFF|~|null|Null|NULL|=|<<
      | [-+]?\.?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
      | [-+]?0[box][0-9a-fA-F_]+
      | [-+]?[0-9][0-9_]*(?::[0-9]+)+(?:\.[0-9_]*)?
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt\s].*)?
    )""", re.VERBOSE)


class _QuotingRepresenter(SafeRepresenter):
    """Quotes every string that another YAML reader could take for a number, a boolean,
    a date or null, so an exported file means the same to every tool."""

    def represent_str(self, data: str) -> Any:
        if _NOT_TEXT.fullmatch(data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return super().represent_str(data)


_QuotingRepresenter.add_representer(str, _QuotingRepresenter.represent_str)


def dump_yaml(data: Any) -> str:
    """Render plain data as block-style YAML (used by ``export``)."""
    yaml = YAML(typ="safe", pure=False)
    yaml.Representer = _QuotingRepresenter
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()
