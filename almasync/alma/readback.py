"""The read-back of writes: what a change wrote (recorded by ``AlmaClient.recording``), and
whether what Alma holds for a written path is what the write sent.

After a write the resource is read again where it went; when every field sent comes back
with the value sent, the write stands (nobody wrote over it in between). The comparison is
of Alma's wire form: a coded ``{"value": x, "desc": ...}`` counts as ``x``, a boolean as
``"true"``/``"false"``, a field sent empty may be left out, Alma's own decorations (``link``,
``desc``) are not compared, and a list holds every entry sent, in order (Alma may show more:
a library's open hours also list the institution's, marked inherited). Anything else is not
a confirmation: the caller then reads the resource in full and compares what it declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Decorations Alma adds to what it answers; never part of what was sent.
DECORATIONS = frozenset({"link", "desc"})


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and value.keys() <= {"value", *DECORATIONS} and "value" in value:
        return _plain(value["value"])
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def echoes(sent: Any, held: Any) -> bool:
    """Whether ``held`` (read from Alma) holds every field of ``sent`` with the value sent."""
    sent, held = _plain(sent), _plain(held)
    if isinstance(sent, dict):
        if not isinstance(held, dict):
            return False
        return all(echoes(value, held[name]) if name in held else _empty(value)
                   for name, value in sent.items() if name not in DECORATIONS)
    if isinstance(sent, list):
        if not isinstance(held, list):
            return False
        entries = iter(held)
        return all(any(echoes(item, other) for other in entries) for item in sent)
    if _empty(sent):
        return _empty(held)
    return bool(sent == held)


@dataclass(frozen=True)
class Written:
    """One write a change made: where it went, what was sent (JSON form), whether a GET of
    ``path`` shows what it wrote (not for a set's members), and whether it created a
    resource whose answer already showed it stored as sent (``answered``)."""

    method: str
    path: str
    params: Mapping[str, Any] | None
    sent: Mapping[str, Any] | None
    readable: bool
    answered: bool = False


class Writes:
    """The writes one thread made within :meth:`AlmaClient.recording`, in order."""

    def __init__(self) -> None:
        self.made: list[Written] = []
