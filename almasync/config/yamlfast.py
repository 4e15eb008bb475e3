"""Plain block YAML -> the result of :func:`almasync.config.yamlevents.build`, fast.

Parser events cost most of reading a large file: ruamel creates a Python object per event
before any consumer sees it. Most files (every file ``export`` writes, most written by
hand) use a small, strict part of YAML that can be read a line at a time with one regular
expression, without tokens or events:

- block mappings and block sequences, also a sequence at its key's indent (``key:`` then
  ``- item``), items that open a mapping or a sequence on their own line (``- a: 1``,
  ``- - x``), and empty values (``key:``, ``-``);
- one-line scalars: plain, single-quoted, double-quoted without ``\\`` escapes, and the
  empty flow collections ``{}`` and ``[]``;
- blank lines, comment lines and trailing `` # comments``.

:func:`read_fast` returns exactly what ``build`` returns for the events of ruamel's C
parser: the same data (typed by the same :class:`~almasync.config.yamlevents._Scalars`),
the same places (``line << 32 | column`` of each key, value and collection start) and the
same ``${`` flag; or None for any text outside that part or in doubt: tabs, other line
breaks, control characters, anchors, aliases, tags, document markers and directives,
block and multi-line scalars, flow collections with content, escapes, complex or long
keys, duplicate keys, nesting deeper than :data:`~almasync.config.yamllimits.MAX_DEPTH`,
a scalar alone on its line. The caller then reads the text with the event reader, which
also reports every error: this reader never reports one.
"""

from __future__ import annotations

import re
from typing import Any

from almasync.config.yamlevents import MarkNode, _Scalars
from almasync.config.yamllimits import MAX_DEPTH
from almasync.gcpause import collection_paused

#: A plain scalar on one line, in a block: no indicator first (``-``, ``?`` and ``:`` only
#: before a non-space), no ``: `` or `` #`` inside, no ``:`` or space at the end.
_PLAIN = r"""(?:[^-?:,\[\]{}\#&*!|>'"%@`\ ]|[-?:](?=[^\ ]))[^\ :]*+
             (?:(?::(?=[^\ ])|\ ++(?=[^\ \#:]|:[^\ ]))[^\ :]*+)*+"""
_QUOTED = r"""'(?:[^']++|'')*+'|"[^"\\]*+\""""
#: One line: indent, sequence entries (``- ``), a key, its ``:`` and the spaces after it,
#: a value, a comment.
_LINE = re.compile(rf"""
    (\ *+)
    ((?:-(?:\ ++|$))*+)
    (?:({_PLAIN}|{_QUOTED}):(?=\ |$)(\ *+))?
    ({_PLAIN}|{_QUOTED}|\{{\}}|\[\])?
    \ *+(?:(?:(?<=\ )|^)\#.*)?$""", re.VERBOSE)
#: A character the line expression must not see: one other than line feed and what YAML
#: calls printable (tabs, ``\\r``, NEL, LS, PS, BOM, control characters...).
_ODD = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                  "\U00010000-\U0010ffff]")
#: Longest key read here: the C scanner gives up a key 1,024 bytes from its start.
_LONGEST_KEY = 200
#: How many distinct lines to remember (``enabled: true`` is read once).
_REMEMBERED = 1 << 16

# Kinds of line: nothing, "key: scalar", "- key: scalar", anything else.
_BLANK, _ENTRY, _ITEM_ENTRY, _OTHER = range(4)
_NONE = object()  # no key, no value
_FLOW_MAP, _FLOW_SEQ = object(), object()  # the values {} and []
_ROOT = object()
#: A line: kind, indent, the "- " marks, key, value, column of the key and of the value
#: (or of an empty value: after the key's ":" or the last "-").
_Line = tuple[int, int, str, Any, Any, int, int]
_BLANK_LINE: _Line = (_BLANK, 0, "", _NONE, _NONE, 0, 0)


class _Outside(Exception):
    """The text is not in the part of YAML this reader knows."""


# An open block collection is a list (cheaper than an object, and there is one per item
# of a long table): its indent, whether it is a mapping, its data, its marks, its entry
# that has a key (or a "-") but no value yet, and where that empty value would be.
_COL, _MAPPING, _DATA, _NODE, _SLOT, _NULL = range(6)
_Frame = list[Any]


def _frame(col: int, mapping: bool) -> _Frame:
    # slot: (key, key place), (None, 0) after a "-", None when no entry is open
    return [col, mapping, {} if mapping else [], MarkNode(mapping), None, 0]


def read_fast(text: str) -> tuple[Any, MarkNode | None, bool] | None:
    """``(data, marks, variables)`` as ``build`` gives them for ``text``, or None when
    ``text`` is not plain block YAML (see the module's docstring).

    The garbage collector pauses meanwhile (:func:`~almasync.gcpause.collection_paused`):
    the reader makes hundreds of thousands of containers, none in a cycle, and collecting
    as they come costs a quarter of the time.
    """
    with collection_paused():
        try:
            return _Reader().read(text)
        except _Outside:
            return None


class _Reader:
    def __init__(self) -> None:
        self.scalars = _Scalars()
        self.stack: list[_Frame] = []
        self.root: Any = _ROOT
        self.root_marks: MarkNode | None = None

    def read(self, text: str) -> tuple[Any, MarkNode | None, bool]:
        """Each line in turn; the two commonest kinds of line are read here, inline."""
        stack = self.stack
        lines: dict[str, _Line] = {}
        remembered = lines.get
        top_col = -1  # the indent of the mapping on top, if it has no open entry
        container: Any = None
        add_key: Any = None
        add_place: Any = None
        for number, text_line in enumerate(text.split("\n")):
            line = remembered(text_line)
            if line is None:
                line = self.parse(text_line)
                if len(lines) < _REMEMBERED:
                    lines[text_line] = line
            kind, col, _, name, data, key_at, value_at = line
            if kind == _ENTRY and col == top_col:  # "key: value" in the open mapping
                if name in container:
                    raise _Outside  # a duplicate key: the event reader says where
                base = number << 32
                add_key(name)
                add_place(base | col)
                add_place(base | value_at)
                container[name] = data
                continue
            if kind == _BLANK:
                continue
            base = number << 32
            if kind == _ITEM_ENTRY and stack:  # "- key: value": a one-entry mapping item
                top = stack[-1]
                while top[_COL] > col and len(stack) > 1:
                    if top[_SLOT] is not None:
                        self.close(top)
                    stack.pop()
                    top = stack[-1]
                if top[_COL] == col and not top[_MAPPING]:
                    if top[_SLOT] is not None:
                        self.close(top)
                    if len(stack) >= MAX_DEPTH:
                        raise _Outside
                    node = MarkNode(True)
                    node.keys.append(name)  # type: ignore[union-attr]
                    add_place = node.places.append
                    add_place(base | key_at)
                    add_place(base | value_at)
                    container = {name: data}
                    items = top[_NODE]
                    items.kids[len(items.places)] = node
                    items.places.append(base | key_at)
                    top[_DATA].append(container)
                    stack.append([key_at, True, container, node, None, 0])
                    top_col, add_key = key_at, node.keys.append  # type: ignore[union-attr]
                    continue
            self.line(base, line)
            if stack and stack[-1][_MAPPING] and stack[-1][_SLOT] is None:
                top_col, container, node = stack[-1][_COL], stack[-1][_DATA], stack[-1][_NODE]
                add_key, add_place = node.keys.append, node.places.append
            else:
                top_col = -1
        while stack:
            self.close(stack.pop())
        if self.root is _ROOT:
            return None, None, self.scalars.variables
        return self.root, self.root_marks, self.scalars.variables

    def parse(self, text: str) -> _Line:
        """One line's parts, its scalars typed."""
        found = _LINE.match(text)
        if found is None or text.startswith(("---", "...")):
            raise _Outside
        if not text.isprintable() and _ODD.search(text):
            raise _Outside
        indent, dashes, key, spaces, value = found.groups()
        if not (dashes or key or value):
            return _BLANK_LINE
        col = len(indent)
        key_at = col + len(dashes)
        known = self.scalars.cache.get  # plain text read before
        if key:
            if len(key) > _LONGEST_KEY:
                raise _Outside
            name = known(key, _NONE)
            if name is _NONE:
                name = self.scalar(key)
            value_at = key_at + len(key) + 1 + (len(spaces) if value else 0)
        else:
            name = _NONE
            value_at = key_at if value else col + dashes.rindex("-") + 1
        data = _NONE
        if value:
            data = known(value, _NONE)
            if data is _NONE:
                data = self.scalar(value)
        if data is _FLOW_MAP or data is _FLOW_SEQ or not key or not value:
            kind = _OTHER
        elif not dashes:
            kind = _ENTRY
        else:
            kind = _ITEM_ENTRY if dashes == "- " else _OTHER
        return kind, col, dashes, name, data, key_at, value_at

    def scalar(self, text: str) -> Any:
        first = text[0]
        if first == "'":
            return self.scalars.text(text[1:-1].replace("''", "'"))
        if first == '"':
            return self.scalars.text(text[1:-1])
        if text == "{}":
            return _FLOW_MAP
        if text == "[]":
            return _FLOW_SEQ
        return self.scalars.plain(text)

    def line(self, base: int, line: _Line) -> None:
        """Any line that holds something."""
        _, col, dashes, name, data, key_at, value_at = line
        stack = self.stack
        top: _Frame | None
        while stack:  # close what this line's indent ends
            top = stack[-1]
            if top[_COL] > col or (top[_COL] == col and not top[_MAPPING] and not dashes):
                self.close(stack.pop())
            else:
                break
        top = stack[-1] if stack else None
        into: _Frame | None = None  # the open collection that takes the line's first entry
        if top is not None and top[_COL] == col and (top[_MAPPING] or dashes):
            if top[_MAPPING] and dashes:  # a sequence at its key's indent
                if top[_SLOT] is None:
                    raise _Outside
            else:
                self.close(top)
                into = top
        elif (top is not None and top[_SLOT] is None) or (top is None
                                                          and self.root is not _ROOT):
            raise _Outside  # under an entry that has its value: a scalar's next line
        if dashes:
            for offset, char in enumerate(dashes):
                if char == "-":
                    if into is None or offset:
                        into = self.open(into if offset else top, False, base | col + offset)
                    into[_SLOT], into[_NULL] = (None, 0), base | col + offset + 1
        if name is not _NONE:
            if into is None or dashes:
                into = self.open(into if dashes else top, True, base | key_at)
            if name in into[_DATA]:
                raise _Outside
            into[_SLOT], into[_NULL] = (name, base | key_at), base | value_at
            if data is not _NONE:
                self.put(into, data, base | value_at)
        elif data is not _NONE:
            if dashes:
                self.put(into, data, base | value_at)  # type: ignore[arg-type]
            elif top is None and (data is _FLOW_MAP or data is _FLOW_SEQ):
                self.root, self.root_marks = self.flow(data)
            else:
                raise _Outside  # a scalar alone on its line

    def open(self, parent: _Frame | None, mapping: bool, place: int) -> _Frame:
        """A new collection at ``place``: the value of ``parent``'s open entry, or the
        document."""
        if len(self.stack) >= MAX_DEPTH:
            raise _Outside  # the event reader refuses it, at its place
        frame = _frame(place & 0xFFFFFFFF, mapping)
        if parent is None:
            if self.root is not _ROOT:
                raise _Outside
            self.root, self.root_marks = frame[_DATA], frame[_NODE]
        else:
            self._put(parent, frame[_DATA], frame[_NODE], place)
        self.stack.append(frame)
        return frame

    def flow(self, data: Any) -> tuple[Any, MarkNode]:
        if len(self.stack) >= MAX_DEPTH:
            raise _Outside
        mapping = data is _FLOW_MAP
        return ({} if mapping else []), MarkNode(mapping)

    def put(self, frame: _Frame, data: Any, place: int) -> None:
        """Give ``frame``'s open entry a scalar or an empty flow collection."""
        if data is _FLOW_MAP or data is _FLOW_SEQ:
            self._put(frame, *self.flow(data), place)
        else:
            self._put(frame, data, None, place)

    @staticmethod
    def _put(frame: _Frame, data: Any, marks: MarkNode | None, place: int) -> None:
        node = frame[_NODE]
        if frame[_MAPPING]:
            name, key_place = frame[_SLOT]
            if marks is not None:
                node.kids[len(node.keys)] = marks
            node.keys.append(name)
            node.places.append(key_place)
            node.places.append(place)
            frame[_DATA][name] = data
        else:
            if marks is not None:
                node.kids[len(node.places)] = marks
            node.places.append(place)
            frame[_DATA].append(data)
        frame[_SLOT] = None

    def close(self, frame: _Frame) -> None:
        """An entry still open when its collection ends has the empty value."""
        if frame[_SLOT] is not None:
            self._put(frame, self.scalars.plain(""), None, frame[_NULL])
