"""The values every layer shares: kinds, keys and resources.

Desired state (from files) and live state (from Alma) are both sets of :class:`Resource`
normalised through the same per-kind handler, so comparing them is plain value comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from almasync.errors import Mark

Key = tuple[str, ...]
Fields = Mapping[str, Any]


class Kind(Enum):
    """Every configuration kind almasync manages. The value (singular) is the ``kind`` of
    plan and journal JSON; people read and write :attr:`config_key` (``locations``), the
    name of the kind in the files, in ``--target``, ``--kinds`` and every message."""

    LOCATION = "location"
    CODE_TABLE = "code_table"
    MAPPING_TABLE = "mapping_table"
    LICENSE_TERM = "license_term"
    LETTER = "letter"
    REMINDER = "reminder"
    SET = "set"
    INTEGRATION_PROFILE = "integration_profile"
    OPEN_HOURS = "open_hours"
    # Read-only configuration: exported and compared, never written (Alma's API cannot).
    LIBRARY = "library"
    CIRC_DESK = "circulation_desk"
    DEPARTMENT = "department"
    PRINTER = "printer"
    DEPOSIT_PROFILE = "deposit_profile"
    IMPORT_PROFILE = "import_profile"
    GENERAL = "general_configuration"

    @property
    def config_key(self) -> str:
        """The top-level key of this kind in a config file."""
        return _CONFIG_KEYS[self]


_CONFIG_KEYS = {
    Kind.LOCATION: "locations",
    Kind.CODE_TABLE: "code_tables",
    Kind.MAPPING_TABLE: "mapping_tables",
    Kind.LICENSE_TERM: "license_terms",
    Kind.LETTER: "letters",
    Kind.REMINDER: "reminders",
    Kind.SET: "sets",
    Kind.INTEGRATION_PROFILE: "integration_profiles",
    Kind.OPEN_HOURS: "open_hours",
    Kind.LIBRARY: "libraries",
    Kind.CIRC_DESK: "circulation_desks",
    Kind.DEPARTMENT: "departments",
    Kind.PRINTER: "printers",
    Kind.DEPOSIT_PROFILE: "deposit_profiles",
    Kind.IMPORT_PROFILE: "import_profiles",
    Kind.GENERAL: "general",
}


#: Characters that make a key part be written in double quotes (see :func:`format_key`).
KEY_SPECIALS = frozenset('/:"\\')


def format_key(key: Key) -> str:
    """A key as text: parts joined by ``/``; a part holding ``/``, ``:``, ``"`` or ``\\`` is
    written in double quotes, with ``"`` and ``\\`` escaped by a backslash. The text reads
    back as the same tuple with :func:`parse_key` (``--target``), so a set named
    ``New acquisitions 2025/26`` is ``"New acquisitions 2025/26"``, never two parts."""
    return "/".join(_quote_part(part) for part in key)


def _quote_part(part: str) -> str:
    if not part or KEY_SPECIALS.intersection(part):
        return '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return part


def parse_key(text: str) -> Key:
    """The tuple :func:`format_key` wrote; ValueError saying what is wrong otherwise. An
    unquoted part runs to the next ``/`` and is taken as it is."""
    parts: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            part, i = _quoted(text, i + 1)
            if i < n and text[i] != "/":
                raise ValueError(f"{text!r}: a quoted key part must end at / or the end")
        else:
            end = text.find("/", i)
            end = n if end < 0 else end
            part = text[i:end]
            if not part:
                raise ValueError(f"{text!r}: empty key part")
            i = end
        parts.append(part)
        if i >= n:
            return tuple(parts)
        i += 1  # the "/"
        if i >= n:
            raise ValueError(f"{text!r}: empty key part after the last /")


def _quoted(text: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise ValueError(f"{text!r}: unclosed double quote")


@dataclass(frozen=True)
class Resource:
    """One resource in normalised form.

    ``fields`` holds plain JSON values (no ``{"value","desc"}`` wrappers). For desired
    resources it holds only what the file declares; ``mark`` is where it is declared.
    """

    kind: Kind
    key: Key
    fields: Fields
    mark: Mark | None = field(default=None, compare=False)
    marks: Mapping[str, Mark] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return f"{self.kind.config_key} {format_key(self.key)}"
