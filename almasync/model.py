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
    """Every configuration kind almasync manages; the value is the singular name."""

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


def format_key(key: Key) -> str:
    return "/".join(key)


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
        return f"{self.kind.value} {format_key(self.key)}"
