"""Alma's JSON conventions: value/desc pairs, list envelopes, paging and input coercion."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from almasync.emulator.errors import AlmaError

JsonDict = dict[str, Any]

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
PARAM_INVALID = "40166410"

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})Z?$")


def vd(value: str, table: Mapping[Any, str] | None = None, desc: str | None = None) -> JsonDict:
    """``{"value": v, "desc": label}``; an empty value gets ``desc: null`` as Alma does."""
    if desc is None and table is not None and value != "":
        desc = table.get(value, value)
    return {"value": value, "desc": desc if value != "" else None}


def vbool(value: bool, table: Mapping[bool, str]) -> JsonDict:
    """A boolean rendered as ``{"value": true|false, "desc": ...}`` (letters, sets)."""
    return {"value": value, "desc": table[value]}


def vbool_text(value: bool, table: Mapping[bool, str]) -> JsonDict:
    """A boolean as the string ``"true"|"false"`` in ``{"value", "desc"}``, the way Alma
    sends letter flags (FACTS section 8)."""
    return {"value": bool_text(value), "desc": table[value]}


def vlink(value: str, link: str) -> JsonDict:
    return {"value": value, "link": link}


def bool_text(value: bool) -> str:
    return "true" if value else "false"


def envelope(key: str, items: Sequence[JsonDict], total: int | None = None) -> JsonDict:
    """``{"<key>": [...], "total_record_count": N}``; the array key is absent when empty."""
    body: JsonDict = {}
    if items:
        body[key] = list(items)
    body["total_record_count"] = len(items) if total is None else total
    return body


def paging(args: Mapping[str, str]) -> tuple[int, int]:
    """``limit`` (0-100, default 10) and ``offset`` (>= 0, default 0) from the query."""
    limit = _int_arg(args, "limit", DEFAULT_LIMIT)
    offset = _int_arg(args, "offset", 0)
    if not 0 <= limit <= MAX_LIMIT:
        raise AlmaError(
            PARAM_INVALID, f"Parameter value invalid: limit={limit}. Valid values are 0-100."
        )
    if offset < 0:
        raise AlmaError(PARAM_INVALID, f"Parameter value invalid: offset={offset}.")
    return limit, offset


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise AlmaError(PARAM_INVALID, f"Parameter value invalid: {name}={raw}.") from None


def paged(
    key: str,
    items: Sequence[Any],
    args: Mapping[str, str],
    render: Callable[[Any], JsonDict] | None = None,
) -> JsonDict:
    """A paged list envelope over the whole filtered list; ``render`` decorates the page only."""
    limit, offset = paging(args)
    page = items[offset : offset + limit]
    return envelope(key, [render(i) for i in page] if render else list(page), total=len(items))


def unwrap(value: Any) -> Any:
    """Input side: ``{"value": x, ...}`` and bare ``x`` are the same."""
    if isinstance(value, dict):
        return value.get("value")
    return value


def text(value: Any, default: str = "") -> str:
    """A code or string field from input (bare or wrapped); numbers become strings."""
    value = unwrap(value)
    if value is None:
        return default
    if isinstance(value, bool):
        return bool_text(value)
    if isinstance(value, (str, int, float)):
        return str(value)
    raise AlmaError(PARAM_INVALID, f"Parameter value invalid: expected text, got {value!r}.")


def flag(value: Any, field: str, default: bool, code: str = PARAM_INVALID) -> bool:
    """A boolean from input: true/false, "true"/"false", or either wrapped in ``{"value"}``."""
    value = unwrap(value)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise AlmaError(code, f"Parameter value invalid: {field}={value!r}.")


def alma_date(value: Any, field: str, code: str = PARAM_INVALID) -> str:
    """A date from input (``YYYY-MM-DD`` with or without ``Z``) as Alma prints it (``...Z``)."""
    raw = text(value)
    match = _DATE.match(raw)
    if not match:
        raise AlmaError(code, f"Parameter value invalid: {field}={raw!r} (expected YYYY-MM-DD).")
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}Z"


def plain_date(value: str) -> str:
    """``2026-01-02Z`` -> ``2026-01-02``."""
    return value[:-1] if value.endswith("Z") else value


def bare_singletons(value: Any) -> Any:
    """Every one-element list in ``value`` replaced by its element, at any depth: how
    Alma's XML-to-JSON conversion may render a repeated element that occurs once (FACTS
    section 8). ``value`` itself is not changed."""
    if isinstance(value, dict):
        return {k: bare_singletons(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [bare_singletons(v) for v in value]
        return items[0] if len(items) == 1 else items
    return value


def body_list(body: Mapping[str, Any], key: str) -> list[Any]:
    """A repeated element from input: a list, a single object, or absent."""
    value = body.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


def require_mapping(value: Any, what: str) -> JsonDict:
    if not isinstance(value, dict):
        raise AlmaError("402119", f"General error: {what} must be an object.")
    return value


@functools.lru_cache(maxsize=65536)
def seg(value: str) -> str:
    """A path segment for a ``link``, percent-encoded."""
    return quote(value, safe="")
