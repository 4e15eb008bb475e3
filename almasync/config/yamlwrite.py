"""Plain data -> block-style YAML text (what ``export`` writes).

The data (dicts, lists, str, int, float, bool, None) is turned into emitter events here and
handed straight to ruamel's emitter (the C one of ruamel.yaml.clib when installed), so no
node tree is built and no representer runs: the events are the ones ruamel's safe dumper
would produce, so the text is the same, byte for byte. Any other type goes through
ruamel's own dumper as before.

Every string another YAML reader could take for something else (a number, a boolean, a
date, null; :data:`NOT_TEXT`) is single-quoted, so an exported file means the same to
every tool.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.emitter import Emitter
from ruamel.yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from ruamel.yaml.main import CEmitter  # type: ignore[attr-defined]  # None without the clib
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import Resolver

WIDTH = 100
#: Plain scalars that some YAML reader takes for something other than text: YAML 1.1
#: booleans (yes/no/on/off/y/n), null, numbers with leading zeros, underscores, octal or hex,
#: sexagesimal times (10:00 is 600 in YAML 1.1), dates, infinities, merge and value keys.
NOT_TEXT = re.compile(r"""
    (?: y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE
      | on|On|ON|off|Off|OFF|~|null|Null|NULL|=|<<
      | [-+]?\.?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
      | [-+]?0[box][0-9a-fA-F_]+
      | [-+]?[0-9][0-9_]*(?::[0-9]+)+(?:\.[0-9_]*)?
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt\s].*)?
    )""", re.VERBOSE)

_STR, _INT, _FLOAT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_BOOL, _NULL = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
#: The dumper's implicit resolvers: first character -> [(tag, pattern)].
_RESOLVERS: dict[Any, list[tuple[str, re.Pattern[str]]]] = {
    first: [(str(tag), pattern) for tag, pattern in patterns]
    for first, patterns in Resolver().yaml_implicit_resolvers.items()}
_INF = SafeRepresenter.inf_value


class _QuotingRepresenter(SafeRepresenter):
    """ruamel's safe representer, quoting as :data:`NOT_TEXT` says (for the fallback)."""

    def represent_str(self, data: str) -> Any:
        if NOT_TEXT.fullmatch(data):
            return self.represent_scalar(_STR, data, style="'")
        return super().represent_str(data)


_QuotingRepresenter.add_representer(str, _QuotingRepresenter.represent_str)


def _resolves_to(text: str) -> str:
    for tag, pattern in _RESOLVERS.get(text[:1] if text else "", ()):
        if pattern.match(text):
            return tag
    return _STR


class _Unplain(Exception):
    """The data holds a value of a type the event writer does not know."""


class _Writer:
    """Emits the events of one document; scalar events are cached per distinct value."""

    def __init__(self, emit: Callable[[Any], None]) -> None:
        self.emit = emit
        self.strings: dict[str, ScalarEvent] = {}

    def scalar(self, value: Any) -> ScalarEvent:
        kind = type(value)
        if kind is str:
            event = self.strings.get(value)
            if event is None:
                style = "'" if NOT_TEXT.fullmatch(value) else None
                event = ScalarEvent(None, _STR, (_resolves_to(value) == _STR, True), value,
                                    style=style)
                if len(value) <= 64:
                    self.strings[value] = event
            return event
        if kind is bool:
            text, tag = ("true" if value else "false"), _BOOL
        elif kind is int:
            text, tag = str(value), _INT
        elif kind is float:
            if value != value:
                text = ".nan"
            elif value == _INF:
                text = ".inf"
            elif value == -_INF:
                text = "-.inf"
            else:
                text = repr(value).lower()
            tag = _FLOAT
        elif value is None:
            text, tag = "null", _NULL
        else:
            raise _Unplain(kind.__name__)
        return ScalarEvent(None, tag, (_resolves_to(text) == tag, False), text)

    def node(self, value: Any) -> None:
        emit = self.emit
        kind = type(value)
        if kind is dict:
            emit(MappingStartEvent(None, _MAP, True, flow_style=False))
            for key, item in value.items():
                emit(self.scalar(key))
                if type(item) is dict or type(item) is list:
                    self.node(item)
                else:
                    emit(self.scalar(item))
            emit(MappingEndEvent())
        elif kind is list:
            emit(SequenceStartEvent(None, _SEQ, True, flow_style=False))
            for item in value:
                if type(item) is dict or type(item) is list:
                    self.node(item)
                else:
                    emit(self.scalar(item))
            emit(SequenceEndEvent())
        else:
            emit(self.scalar(value))


def dump_yaml(data: Any) -> str:
    """Render plain data as block-style YAML (used by ``export``)."""
    stream = io.StringIO()
    if CEmitter is not None:
        emitter: Any = CEmitter(stream, width=WIDTH, allow_unicode=True)
    else:  # pragma: no cover
        emitter = Emitter(stream, width=WIDTH, allow_unicode=True)
    try:
        emitter.emit(StreamStartEvent())
        emitter.emit(DocumentStartEvent(explicit=False))
        _Writer(emitter.emit).node(data)
        emitter.emit(DocumentEndEvent(explicit=False))
        emitter.emit(StreamEndEvent())
    except _Unplain:
        return _ruamel_dump(data)
    return stream.getvalue()


def _ruamel_dump(data: Any) -> str:
    yaml = YAML(typ="safe", pure=False)
    yaml.Representer = _QuotingRepresenter
    yaml.default_flow_style = False
    yaml.width = WIDTH
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()
