"""How the renderers shorten canonical values for people: a long text (a letter's XSL) as a
summary and a unified diff, a list of ids (a set's members) as counts with the first few ids
added and removed. The plan file holds the values themselves; only output is shortened."""

from __future__ import annotations

import difflib
import hashlib
from typing import Any

#: Lines of context around each change in a text diff, and lines shown before it is cut.
DIFF_CONTEXT = 1
DIFF_MAX_LINES = 12
#: Ids shown of those added and of those removed.
SHOWN = 5


def is_text(value: Any) -> bool:
    """A value shown as lines of text rather than one quoted string."""
    return isinstance(value, str) and "\n" in value


def is_id_list(path: str, value: Any) -> bool:
    """A field that is a list of plain values (a set's members): shown as counts."""
    return ("." not in path and "[" not in path and isinstance(value, list)
            and all(isinstance(item, (str, int)) for item in value))


def text_summary(text: str) -> str:
    """A short stand-in for a whole text: its length in lines and a digest."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"template of {len(text.splitlines())} lines, sha256 {digest}"


def text_diff(before: str, after: str) -> str:
    """A unified diff of two texts, a few lines of context, cut after a dozen lines; each
    hunk starts with ``@@``."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="",
                                      n=DIFF_CONTEXT))[2:]
    if not lines:
        return "only the line break at the end differs"
    if len(lines) > DIFF_MAX_LINES:
        lines = [*lines[:DIFF_MAX_LINES], f"... {len(lines) - DIFF_MAX_LINES} more diff lines"]
    return "\n".join(lines)


def text_change(before: Any, after: Any) -> tuple[Any, Any]:
    """``(before, after)`` of a changed text as shown: the live text's summary, and the
    unified diff from it to the declared text."""
    if isinstance(before, str) and isinstance(after, str):
        return text_summary(before), text_diff(before, after)
    return (text_summary(before) if isinstance(before, str) else before,
            text_summary(after) if isinstance(after, str) else after)


def list_change(path: str, before: Any, after: Any) -> tuple[str, str]:
    """``(before, after)`` of a changed list as shown: ``2 members`` and ``3 members; +2
    (991236, 991237); -1 (991235)``."""
    live = [str(item) for item in before] if isinstance(before, list) else []
    wanted = [str(item) for item in after] if isinstance(after, list) else []
    present, declared = set(live), set(wanted)
    added = [item for item in dict.fromkeys(wanted) if item not in present]
    removed = sorted(present - declared)
    shown_after = f"{len(declared)} {path}"
    for sign, ids in (("+", added), ("-", removed)):
        if ids:
            more = ", ..." if len(ids) > SHOWN else ""
            shown_after += f"; {sign}{len(ids)} ({', '.join(ids[:SHOWN])}{more})"
    return f"{len(live)} {path}", shown_after


def shown(path: str, before: Any, after: Any) -> tuple[Any, Any]:
    """One field difference as people see it (text and Markdown output alike)."""
    if is_text(before) or is_text(after):
        return text_change(before, after)
    if is_id_list(path, before) and is_id_list(path, after):
        return list_change(path, before, after)
    return before, after
