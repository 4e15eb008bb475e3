"""Read YAML keeping line and column of every key and value.

The only module that imports ruamel.yaml. It hands back plain Python data (dicts, lists,
str, int, float, bool, None; dates become ISO strings) and an index of positions keyed by
the path of each node, so later checks can point at ``file:line:col``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

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
    """Parse ``path``; a syntax error raises :class:`YamlSyntaxError` with its position."""
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlSyntaxError(Problem(Mark(name, 1, 1), f"cannot read file: {exc}")) from exc
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(name, mark.line + 1, mark.column + 1) if mark else Mark(name, 1, 1)
        message = " ".join(str(part).strip() for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(Problem(where, f"YAML syntax error: {message}")) from exc
    except YAMLError as exc:
        raise YamlSyntaxError(Problem(Mark(name, 1, 1), f"YAML error: {exc}")) from exc
    doc = YamlDoc(name, None, root)
    doc.data = _plain(raw, (), doc)
    return doc


def _plain(node: Any, path: NodePath, doc: YamlDoc) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key in node:
            child = (*path, key)
            line, col = node.lc.key(key)
            doc.key_marks[child] = Mark(doc.name, line + 1, col + 1)
            vline, vcol = node.lc.value(key)
            doc.value_marks[child] = Mark(doc.name, vline + 1, vcol + 1)
            out[_scalar(key)] = _plain(node[key], child, doc)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, item in enumerate(node):
            child = (*path, index)
            line, col = node.lc.item(index)
            doc.key_marks[child] = doc.value_marks[child] = Mark(doc.name, line + 1, col + 1)
            items.append(_plain(item, child, doc))
        return items
    return _scalar(node)


def _scalar(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    for base in (int, float, str):
        if isinstance(value, base):
            return base(value)
    return value


def dump_yaml(data: Any) -> str:
    """Render plain data as block-style YAML (used by ``export``)."""
    import io

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()
