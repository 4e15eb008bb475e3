"""Read YAML keeping line and column of every key and value.

With :mod:`almasync.config.yamlevents` (reading) and :mod:`almasync.config.yamlwrite`
(writing), the only modules that import ruamel.yaml (:mod:`almasync.config.yamlfast`
reads plain block YAML without it, typing scalars as ``yamlevents`` does). It hands back
plain Python data (dicts, lists, str, int, float, bool, None; dates become ISO strings) and
the places of its keys and values, so later checks can point at ``file:line:col``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from almasync.config.yamlevents import ConversionError, MarkNode, build, mark_at
from almasync.config.yamlfast import read_fast
from almasync.config.yamllimits import MAX_BYTES, YamlLimitError, decode, watch
from almasync.errors import Mark, Problem

NodePath = tuple[str | int, ...]


@dataclass
class YamlDoc:
    """One parsed file: plain data plus the places of its keys and values.

    ``marks`` is the tree of places beside ``data`` (see
    :class:`~almasync.config.yamlevents.MarkNode`); ``grafts`` name subtrees whose places
    are in another document (an environment overlay's fields over the common file's).
    """

    name: str
    data: Any
    root: Path | None = None
    marks: MarkNode | None = None
    grafts: dict[NodePath, tuple[YamlDoc, NodePath]] = field(default_factory=dict)
    #: Whether the text holds ``${`` anywhere (no ``${VAR}`` to replace otherwise).
    variables: bool = True

    def mark(self, path: Sequence[str | int], *, value: bool = False) -> Mark:
        """The mark of ``path``, or of its nearest ancestor that has one."""
        for prefix, (other, at) in self.grafts.items():
            if tuple(path[:len(prefix)]) == prefix and len(path) >= len(prefix):
                return other.mark((*at, *path[len(prefix):]), value=value)
        node, place = self.marks, -1
        for part in path:
            if node is None:
                break
            entry = node.find(part)
            if entry < 0:
                break
            place = node.place(entry, value)
            node = node.kids.get(entry)
        return mark_at(self.name, place) if place >= 0 else Mark(self.name, 1, 1)

    def field_marks(self, path: NodePath, names: Iterable[str]) -> dict[str, Mark]:
        """``{name: self.mark((*path, name))}`` for the keys ``names`` of the mapping at
        ``path``, walking to it once rather than once per name."""
        names = list(names)
        node = self.marks if not self.grafts else None
        for part in path:
            if node is None:
                break
            entry = node.find(part)
            node = node.kids.get(entry) if entry >= 0 else None
        if node is None:
            return {name: self.mark((*path, name)) for name in names}
        out = {}
        for name in names:
            entry = node.find(name)
            out[name] = (mark_at(self.name, node.place(entry, False)) if entry >= 0
                         else self.mark((*path, name)))
        return out

    def grafted(self, path: NodePath, other: YamlDoc, other_path: NodePath) -> YamlDoc:
        """This document with the places under ``path`` taken from ``other_path`` of
        ``other``."""
        return YamlDoc(self.name, self.data, self.root, self.marks,
                       {**self.grafts, path: (other, other_path)},
                       self.variables or other.variables)


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def read_yaml(path: Path, name: str, root: Path | None = None) -> YamlDoc:
    """Parse ``path``; a syntax error raises :class:`YamlSyntaxError` with its position.

    Bytes and events pass the limits of :mod:`almasync.config.yamllimits` (size, encoding,
    NUL bytes, nesting, aliases). Plain block YAML (what ``export`` writes) is read a line
    at a time by :mod:`almasync.config.yamlfast`, to the same result; any other text,
    including anything nested deeper than the limit, is read from parser events. The
    events come from ruamel's C parser when it is installed; where that YAML 1.1 scanner
    refuses valid YAML 1.2, such as a URL inside a flow mapping, ruamel's own parser reads
    it. :func:`almasync.config.yamlevents.build` turns the events into plain data and the
    place of every key and value.
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
        text = decode(data, name)
        del data
        value, marks, variables = _build(text, name)
    except (YamlLimitError, ConversionError) as exc:
        raise YamlSyntaxError(exc.problem) from None
    return YamlDoc(name, value, root, marks, variables=variables)


def _build(text: str, name: str) -> tuple[Any, MarkNode | None, bool]:
    """Data and places of ``text``: the line reader of plain block YAML first, then the
    events of the C parser, then those of ruamel's YAML 1.2 parser when the C parser
    refuses the text (every error comes from the event readers)."""
    fast = read_fast(text)
    return fast if fast is not None else _build_from_events(text, name)


def _build_from_events(text: str, name: str) -> tuple[Any, MarkNode | None, bool]:
    """Data and places of ``text`` from parser events, or its located error."""
    for pure in (False, True):
        yaml = YAML(typ="safe", pure=pure)
        try:
            return build(watch(yaml.parse(text), name), name, reused_anchors=pure)
        except MarkedYAMLError as exc:
            if not pure:
                continue
            raise YamlSyntaxError(_syntax_problem(exc, text, name)) from None
        except YAMLError as exc:
            if not pure:
                continue
            raise YamlSyntaxError(Problem(Mark(name, 1, 1), f"YAML error: {exc}")) from None
        except AssertionError as exc:  # ruamel's own check of a %YAML 1.3 directive
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
