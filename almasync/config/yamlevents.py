"""Parser events -> plain data, with the place of every key and value.

A single pass over the events of ruamel's parser (C or pure Python) builds the document's
dicts, lists and scalars directly, never ruamel's node tree, and records where each key
and value starts in a compact tree of :class:`MarkNode` beside the data. Scalars are typed
as ruamel's YAML 1.2 safe loader types them, with ruamel's own resolver patterns; the rare
non-text ones (numbers, dates, explicit tags) go through ruamel's safe constructor, once
per distinct text. Unquoted dates become ISO text; a value that looks like a date or a
number but is none stays text. :mod:`almasync.config.yamlfast` reads plain block YAML
without events, to the same result, typing its scalars with the same :class:`_Scalars`.

Errors keep the precedence of a compose-then-convert reader: a parse or limit error
anywhere in the stream first, then a composer error (an undefined alias, a second
document), then the first conversion error of the document (a duplicate key, a key that is
not a plain value).
"""

from __future__ import annotations

import datetime as dt
import re
from array import array
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import ComposerError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from almasync.errors import Mark, Problem

STR = "tag:yaml.org,2002:str"
#: The YAML 1.2 implicit resolvers: first character -> [(tag, pattern)] (compiled now:
#: ruamel's compile on first use, behind a proxy that costs a call per attribute).
_RESOLVERS: dict[Any, list[tuple[str, re.Pattern[str]]]] = {
    first: [(str(tag), re.compile(pattern.pattern, pattern.flags)) for tag, pattern in patterns]
    for first, patterns in VersionedResolver(version=(1, 2)).versioned_resolver.items()}
_SURROGATE = re.compile("[\ud800-\udfff]")
_LOW = 0xFFFFFFFF


class ConversionError(Exception):
    """A document that parses but is not almasync's kind of data, with its place."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


class MarkNode:
    """Where the entries of one mapping or sequence start.

    ``keys`` are a mapping's keys in order (``None`` for a sequence); ``places`` hold, per
    entry, the packed place (``line << 32 | column``, 0-based) of the key and of the value
    (one place per item for a sequence, which is both); ``kids`` maps an entry's index to
    the node of a value that is itself a mapping or a sequence.
    """

    __slots__ = ("index", "keys", "kids", "places")

    def __init__(self, mapping: bool) -> None:
        self.keys: list[Any] | None = [] if mapping else None
        self.places = array("Q")
        self.kids: dict[int, MarkNode] = {}
        self.index: dict[Any, int] | None = None

    def find(self, part: Any) -> int:
        """The index of the entry ``part`` names, or -1."""
        if self.keys is None:
            return part if isinstance(part, int) and 0 <= part < len(self.places) else -1
        if self.index is None:
            if len(self.keys) <= 8:
                try:
                    return self.keys.index(part)
                except (ValueError, TypeError):
                    return -1
            self.index = {key: n for n, key in reversed(list(enumerate(self.keys)))}
        try:
            return self.index.get(part, -1)
        except TypeError:  # an unhashable part names nothing
            return -1

    def place(self, entry: int, value: bool) -> int:
        if self.keys is None:
            return self.places[entry]
        return self.places[2 * entry + (1 if value else 0)]


def mark_at(name: str, place: int) -> Mark:
    return Mark(name, (place >> 32) + 1, (place & _LOW) + 1)


def _place(event: Any) -> int:
    mark = event.start_mark
    return int(mark.line << 32 | mark.column)


class _Scalars:
    """Scalar events -> Python values, cached per distinct plain text."""

    def __init__(self) -> None:
        self.cache: dict[str, Any] = {}
        self.tagged: dict[tuple[str, str], Any] = {}
        self.constructor: Any = None
        #: Whether some text holds ``${`` (a variable to replace, or its escape).
        self.variables = False

    def value(self, event: Any) -> Any:
        text: str = event.value
        tag = event.ctag
        if tag is None or str(tag) == "!":
            return self.plain(text) if event.implicit[0] else self.text(text)
        tag = str(tag)
        return self.text(text) if tag == STR else self.construct(tag, text)

    def plain(self, text: str) -> Any:
        """The value of an untagged plain scalar (empty for an empty value)."""
        found = self.cache.get(text)
        if found is not None or text in self.cache:
            return found
        tag = STR
        for candidate, pattern in _RESOLVERS.get(text[:1] if text else "", ()):
            if pattern.match(text):
                tag = candidate
                break
        found = self.text(text) if tag == STR else self.construct(str(tag), text)
        if len(text) <= 64:
            self.cache[text] = found
        return found

    def text(self, text: str) -> str:
        if "$" in text and "${" in text:
            self.variables = True
        if not text.isascii() and _SURROGATE.search(text):
            # "\ud83d\ude00" (JSON's escape of one character outside the BMP) is two
            # code points to YAML: join each pair, as a JSON reader would.
            try:
                return text.encode("utf-16", "surrogatepass").decode("utf-16")
            except UnicodeDecodeError:
                return text  # a lone surrogate: the field's check reports it
        return text

    def construct(self, tag: str, text: str) -> Any:
        slot = (tag, text)
        if slot in self.tagged:
            return self.tagged[slot]
        if self.constructor is None:
            self.constructor = YAML(typ="safe", pure=True).constructor
        try:
            value = self.constructor.construct_object(ScalarNode(tag, text, None, None),
                                                      deep=True)
        except (ValueError, LookupError, TypeError, YAMLError):
            # e.g. 2026-13-01 looks like a date but is none, !!int '' is no number: keep the
            # text, so the field's own check reports it beside every other problem.
            value = text
        finally:
            self.constructor.constructed_objects.clear()
            self.constructor.recursive_objects.clear()
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        elif isinstance(value, str):
            value = self.text(value)
        self.tagged[slot] = value
        return value


def _copy(value: Any) -> Any:
    """A fresh copy of an anchored value, for each alias to it."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _duplicate(event: Any) -> ComposerError:
    return ComposerError("found duplicate anchor; first occurrence", None,
                         "second occurrence", event.start_mark)


_AWAITING_KEY = object()
_MISSING = object()


def build(events: Iterable[Any], name: str, *,
          reused_anchors: bool = True) -> tuple[Any, MarkNode | None, bool]:
    """The first document of ``events`` as plain data, the places of its entries, and
    whether some text of it holds ``${``.

    Without ``reused_anchors`` an anchor defined twice raises ``ComposerError`` at once,
    as ruamel's C composer does (the caller then reads the text with the pure parser,
    whose composer lets the second definition win, and whose marks may differ slightly).

    Raises ruamel's ``ComposerError`` for an undefined alias or a second document, and
    :class:`ConversionError` for a duplicate key or a key that is not a plain value, each
    only once every event has been read (a parse or limit error comes first).
    """
    scalars = _Scalars()
    cached = scalars.cache.get
    # anchor -> (value, place, marks), or the frame of a collection still open
    anchors: dict[str, Any] = {}
    frame: list[Any] = []
    # Per open collection: [container, marks, pending key, key place, anchor, own place]
    stack: list[list[Any]] = []
    root: Any = None
    root_marks: MarkNode | None = None
    documents = 0
    first_start: Any = None
    composer_error: YAMLError | None = None
    conversion_error: Problem | None = None
    building = True  # false after the first document, or once conversion failed

    def fail(problem: Problem) -> None:
        nonlocal conversion_error, building
        if conversion_error is None:
            conversion_error = problem
        building = False

    def attach(value: Any, place: int, marks: MarkNode | None, plain: bool) -> None:
        """Put a finished value into the innermost open collection."""
        nonlocal root, root_marks
        if not stack:
            root, root_marks = value, marks
            return
        frame = stack[-1]
        container, node = frame[0], frame[1]
        if node.keys is None:
            if marks is not None:
                node.kids[len(node.places)] = marks
            node.places.append(place)
            container.append(value)
        elif frame[2] is _AWAITING_KEY:
            if not plain:
                fail(Problem(mark_at(name, place), "YAML error: a mapping key must be a "
                             "plain value"))
                return
            if value in container:
                first = node.places[2 * node.find(value)]
                fail(Problem(mark_at(name, place), "YAML syntax error: found duplicate key "
                             f"{value!r} (first at {mark_at(name, first)})"))
                return
            frame[2], frame[3] = value, place
        else:
            entry = len(node.keys)
            if marks is not None:
                node.kids[entry] = marks
            node.keys.append(frame[2])
            node.places.append(frame[3])
            node.places.append(place)
            container[frame[2]] = value
            frame[2] = _AWAITING_KEY

    for event in events:
        kind = type(event)
        if kind is ScalarEvent:
            anchor = event.anchor
            if anchor is not None and not reused_anchors and anchor in anchors:
                raise _duplicate(event)
            if not building:
                if anchor is not None:
                    anchors[anchor] = (None, 0, None)
                continue
            value = (cached(event.value, _MISSING) if event.ctag is None
                     and event.implicit[0] else _MISSING)
            if value is _MISSING:
                value = scalars.value(event)
            mark = event.start_mark
            place = mark.line << 32 | mark.column
            if anchor is not None:
                anchors[anchor] = (value, place, None)
            if stack:  # the common cases of attach(), inline
                frame = stack[-1]
                node = frame[1]
                if frame[2] is not _AWAITING_KEY:  # a mapping's value
                    keys = node.keys
                    keys.append(frame[2])
                    node.places.append(frame[3])
                    node.places.append(place)
                    frame[0][frame[2]] = value
                    frame[2] = _AWAITING_KEY
                    continue
                if node.keys is not None and value not in frame[0]:  # a new key
                    frame[2], frame[3] = value, place
                    continue
            attach(value, place, None, True)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None and not reused_anchors and event.anchor in anchors:
                raise _duplicate(event)
            mapping = kind is MappingStartEvent
            if not building:
                frame = [None, None, None, None, event.anchor, 0]
            elif stack and stack[-1][2] is _AWAITING_KEY and stack[-1][1].keys is not None:
                fail(Problem(mark_at(name, _place(event)), "YAML error: a mapping key must "
                             "be a plain value"))
                frame = [None, None, None, None, event.anchor, 0]
            else:
                frame = [{} if mapping else [], MarkNode(mapping), _AWAITING_KEY, 0,
                         event.anchor, _place(event)]
            stack.append(frame)
            if event.anchor is not None:
                # Defined from its start, as ruamel's composers do: an inner node with the
                # same anchor replaces it, an alias inside it is refused (see AliasEvent).
                anchors[event.anchor] = frame
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            frame = stack.pop()
            container, node, _, _, anchor, place = frame
            if anchor is not None and anchors.get(anchor) is frame:
                anchors[anchor] = (container, place, node) if node is not None \
                    else (None, 0, None)
            if building and node is not None:
                attach(container, place, node, False)
        elif kind is AliasEvent:
            entry = anchors.get(event.anchor)
            if (building and type(entry) is list and stack and stack[-1][1].keys is not None
                    and stack[-1][2] is _AWAITING_KEY):
                # A collection as a key of itself: refused as any collection key is.
                fail(Problem(mark_at(name, entry[5]), "YAML error: a mapping key must be a "
                             "plain value"))
                continue
            if type(entry) is not tuple:  # unknown, or still open
                if composer_error is None and documents == 1:
                    composer_error = ComposerError(
                        None, None, f"found undefined alias {event.anchor!r}",
                        event.start_mark)
                building = False
                continue
            if not building:
                continue
            value, place, marks = anchors[event.anchor]
            attach(_copy(value), place, marks, marks is None)
        elif kind is DocumentStartEvent:
            documents += 1
            if documents == 1:
                first_start = event
            else:
                if composer_error is None:
                    composer_error = ComposerError(
                        "expected a single document in the stream",
                        first_start.start_mark, "but found another document",
                        event.start_mark)
                building = False
    if composer_error is not None:
        raise composer_error
    if conversion_error is not None:
        raise ConversionError(conversion_error)
    return root, root_marks, scalars.variables
