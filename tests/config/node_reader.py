"""A second YAML reader for comparison: ruamel composes the node tree, then each node is
converted. It is how almasync read YAML before it built data from parser events (bar two
crashes: a failed tagged value such as ``!!int ''`` and an alias to a failed value); the
equivalence tests hold the event reader to the same data, places and errors."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from almasync.config.yamllimits import YamlLimitError, decode, watch
from almasync.config.yamlread import NodePath, YamlSyntaxError, _syntax_problem
from almasync.errors import Mark, Problem

_SURROGATE = re.compile("[\ud800-\udfff]")
Marks = dict[NodePath, Mark]


def read_nodes(data: bytes, name: str) -> tuple[Any, Marks, Marks]:
    """(data, key marks, value marks) of a file's bytes, or YamlSyntaxError."""
    try:
        text = decode(data, name)
        yaml, node = _compose(text, name)
    except YamlLimitError as exc:
        raise YamlSyntaxError(exc.problem) from None
    converter = _Converter(name, yaml.constructor)
    value = converter.convert(node, ()) if node is not None else None
    return value, converter.key_marks, converter.value_marks


def _compose(text: str, name: str) -> tuple[YAML, Node | None]:
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
    raise AssertionError("unreachable")


class _Converter:
    def __init__(self, name: str, constructor: Any) -> None:
        self.name = name
        self.constructor = constructor
        self.key_marks: Marks = {}
        self.value_marks: Marks = {}

    def mark(self, node: Node) -> Mark:
        return Mark(self.name, node.start_mark.line + 1, node.start_mark.column + 1)

    def convert(self, node: Node, path: NodePath) -> Any:
        if isinstance(node, MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node)
                child = (*path, key)
                if key in out:
                    first = self.key_marks[child]
                    raise YamlSyntaxError(Problem(self.mark(key_node), "YAML syntax error: "
                                                  f"found duplicate key {key!r} (first at "
                                                  f"{first})"))
                self.key_marks[child] = self.mark(key_node)
                self.value_marks[child] = self.mark(value_node)
                out[key] = self.convert(value_node, child)
            return out
        if isinstance(node, SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.key_marks[child] = self.value_marks[child] = self.mark(item)
                items.append(self.convert(item, child))
            return items
        return self._scalar(node)

    def _scalar(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            raise YamlSyntaxError(Problem(self.mark(node), "YAML error: a mapping key must "
                                          "be a plain value"))
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, LookupError, TypeError, YAMLError):
            # ruamel leaves a failed node marked as under construction, and would hand
            # None to the next alias of it: forget it, so every alias reads the text.
            self.constructor.recursive_objects.pop(node, None)
            return str(node.value)
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        if isinstance(value, str) and _SURROGATE.search(value):
            try:
                return value.encode("utf-16", "surrogatepass").decode("utf-16")
            except UnicodeDecodeError:
                return value
        return value
