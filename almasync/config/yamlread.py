"""Read YAML keeping line and column of every key and value.

The only module that imports ruamel.yaml. It hands back plain Python data (dicts, lists,
str, int, float, bool, None; dates become ISO strings) and an index of positions keyed by
the path of each node, so later checks can point at ``file:line:col``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from almasync.errors import Mark, Problem

NodePath = tuple[str | int, ...]


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

    The document is composed into nodes by ruamel's C parser when it is installed (the
    round-trip loader is an order of magnitude slower on big tables) and converted here,
    recording the mark of every key and value on the way.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlSyntaxError(Problem(Mark(name, 1, 1), f"cannot read file: {exc}")) from exc
    yaml = YAML(typ="safe", pure=False)
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(name, mark.line + 1, mark.column + 1) if mark else Mark(name, 1, 1)
        message = " ".join(str(part).strip() for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(Problem(where, f"YAML syntax error: {message}")) from exc
    except YAMLError as exc:
        raise YamlSyntaxError(Problem(Mark(name, 1, 1), f"YAML error: {exc}")) from exc
    doc = YamlDoc(name, None, root)
    if node is not None:
        doc.data = _Converter(doc, yaml.constructor).convert(node, ())
    return doc


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
        except (ValueError, YAMLError) as exc:
            raise YamlSyntaxError(Problem(self.mark(node), f"invalid value {node.value!r}: "
                                          f"{exc}")) from exc
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        return value


def dump_yaml(data: Any) -> str:
    """Render plain data as block-style YAML (used by ``export``)."""
    yaml = YAML(typ="safe", pure=False)
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()
