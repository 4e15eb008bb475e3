"""Helpers for Alma's JSON conventions, shared by the kind modules.

Alma wraps coded values as ``{"value": X, "desc": label}``, writes some booleans as the
strings ``"true"``/``"false"``, and decorates objects with ``link``. Config files use plain
values; these helpers convert between the two.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

OUTPUT_ONLY = frozenset({"link", "desc"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLAIN = frozenset({str, int, float, bool, type(None)})


def unwrap(value: Any) -> Any:
    """``{"value": X, ...}`` -> X; anything else unchanged."""
    if type(value) in _PLAIN:  # most values (checked first: Mapping's check is slow)
        return value
    if isinstance(value, Mapping) and "value" in value:
        return value["value"]
    return value


def wrap(value: Any) -> dict[str, Any]:
    """X -> ``{"value": X}`` (Alma derives ``desc`` itself and refuses stale ones)."""
    return {"value": value}


def as_bool(value: Any) -> Any:
    """Alma's boolean spellings (True, "true", {"value": "true"}) -> bool; others unchanged."""
    value = unwrap(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def strip_output_only(payload: Any) -> Any:
    """Drop ``link`` and ``desc`` everywhere, so a GET body can be PUT back."""
    if isinstance(payload, Mapping):
        return {k: strip_output_only(v) for k, v in payload.items() if k not in OUTPUT_ONLY}
    if isinstance(payload, list):
        return [strip_output_only(item) for item in payload]
    return payload



def parses(parse: Callable[[str], object], text: str) -> bool:
    """Whether ``parse(text)`` accepts the text (``dt.date.fromisoformat`` and the like)."""
    try:
        parse(text)
    except ValueError:
        return False
    return True


def plain_date(value: str) -> str:
    """``2026-12-24`` or Alma's ``2026-12-24Z`` -> ``2026-12-24``; ValueError otherwise."""
    plain = value.removesuffix("Z")
    if not _DATE.match(plain) or not parses(dt.date.fromisoformat, plain):
        raise ValueError("expected a date as YYYY-MM-DD")
    return plain
