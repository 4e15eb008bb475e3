"""Limits that make hostile or broken files end fast, with a ``file:line:col`` message.

Two checks run around parsing, apart from it, so that a faster parser can keep them:

- :func:`decode` looks at the raw bytes: size, NUL bytes (binary files), UTF-16/32 byte
  order marks and UTF-8 validity, each with the place of the first bad byte;
- :func:`watch` passes the parser's events through and stops at nesting deeper than
  :data:`MAX_DEPTH`, more than :data:`MAX_ALIASES` aliases, or aliases that would expand
  to more than :data:`MAX_EXPANDED` values (a "billion laughs" file). It keeps no
  recursion of its own, so a file nested 20,000 levels deep is refused, not a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from almasync.errors import Mark, Problem

MAX_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 1_000
MAX_EXPANDED = 100_000

_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16",
}


class YamlLimitError(Exception):
    """A file that almasync refuses to parse, with the place it stopped."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def _place(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def decode(data: bytes, name: str) -> str:
    """The text of a YAML file, or :class:`YamlLimitError` saying why it cannot be one."""
    if len(data) > MAX_BYTES:
        raise YamlLimitError(Problem(Mark(name, 1, 1), f"the file is {len(data):,} bytes; "
                                     f"almasync reads YAML files of at most "
                                     f"{MAX_BYTES // (1024 * 1024)} MiB (split it)"))
    for bom, encoding in _BOMS.items():
        if data.startswith(bom):
            raise YamlLimitError(Problem(Mark(name, 1, 1), f"the file is {encoding}; "
                                         "almasync reads YAML files as UTF-8: save it as "
                                         "UTF-8"))
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _place(data, nul)
        raise YamlLimitError(Problem(Mark(name, line, col), "NUL byte: this is a binary "
                                     "file, not YAML text"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _place(data, exc.start)
        byte = data[exc.start]
        raise YamlLimitError(Problem(Mark(name, line, col), f"byte 0x{byte:02x} is not "
                                     "UTF-8; almasync reads YAML files as UTF-8 (this one "
                                     "may be Latin-1 or Windows-1252): save it as UTF-8"
                                     )) from None
    return text.removeprefix("\ufeff")


def watch(events: Iterable[Any], name: str) -> Iterator[Any]:
    """Yield ``events`` (ruamel parser events) unchanged, stopping at the first limit."""
    depth = 0
    aliases = 0
    expanded = 0
    values = 0
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []
    for event in events:
        kind = type(event).__name__
        if kind == "ScalarEvent":
            values += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1
            if depth > MAX_DEPTH:
                raise _stop(name, event, f"nested more than {MAX_DEPTH} levels deep")
            open_nodes.append((event.anchor, values))
            values += 1
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1
            anchor, start = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = values - start
        elif kind == "AliasEvent":
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _stop(name, event, f"more than {MAX_ALIASES:,} aliases (*name)")
            size = sizes.get(event.anchor, 1)
            values += size
            expanded += size
            if expanded > MAX_EXPANDED:
                raise _stop(name, event, f"aliases expand to more than {MAX_EXPANDED:,} "
                            "values (an alias-expansion bomb?)")
        yield event


def _stop(name: str, event: Any, why: str) -> YamlLimitError:
    mark = event.start_mark
    where = Mark(name, mark.line + 1, mark.column + 1) if mark else Mark(name, 1, 1)
    return YamlLimitError(Problem(where, f"refused: {why}"))
