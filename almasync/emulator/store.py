"""The emulator's in-memory institution: plain dicts per kind, guarded by one lock.

Records are kept in a *stored form* (bare codes, real booleans, no ``desc`` and no ``link``);
handlers decorate them on the way out. Tests may read or change these dicts directly; hold
``store.lock`` while doing so on a running emulator.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass
class Store:
    """Everything one emulated institution holds. Keys of each mapping are natural keys."""

    institution: Record = field(default_factory=dict)
    fulfillment_units: dict[str, str] = field(default_factory=dict)
    remote_storages: dict[str, str] = field(default_factory=dict)
    campuses: dict[str, str] = field(default_factory=dict)
    libraries: dict[str, Record] = field(default_factory=dict)
    locations: dict[str, dict[str, Record]] = field(default_factory=dict)
    circ_desks: dict[str, dict[str, Record]] = field(default_factory=dict)
    departments: dict[str, Record] = field(default_factory=dict)
    printers: dict[str, Record] = field(default_factory=dict)
    code_tables: dict[str, Record] = field(default_factory=dict)
    mapping_tables: dict[str, Record] = field(default_factory=dict)
    letters: dict[str, Record] = field(default_factory=dict)
    license_terms: dict[str, Record] = field(default_factory=dict)
    reminders: dict[str, Record] = field(default_factory=dict)
    sets: dict[str, Record] = field(default_factory=dict)
    integration_profiles: dict[str, Record] = field(default_factory=dict)
    jobs: dict[str, Record] = field(default_factory=dict)
    job_instances: dict[str, Record] = field(default_factory=dict)
    open_hours: dict[str, list[Record]] = field(default_factory=dict)
    #: The type code open-hours events are served and accepted under (FACTS 8 has not seen
    #: Alma's code); stored event entries have type ``EVENT`` whatever this is.
    open_hours_event_type: str = "EVENT"
    relations: dict[str, list[Record]] = field(default_factory=dict)
    deposit_profiles: dict[str, Record] = field(default_factory=dict)
    import_profiles: dict[str, Record] = field(default_factory=dict)
    fees: list[Record] = field(default_factory=list)
    workflows: dict[str, Record] = field(default_factory=dict)
    workflow_runs: list[Record] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1), repr=False, compare=False
    )

    @property
    def institution_code(self) -> str:
        return str(self.institution.get("code", ""))

    def rename_institution(self, code: str) -> None:
        """Give the institution another code (as a sandbox refresh or a second institution in
        the same state would have); what is scoped to the institution moves with it."""
        with self.lock:
            old = self.institution_code
            self.institution["code"] = code
            if old != code and old in self.open_hours:
                self.open_hours[code] = self.open_hours.pop(old)

    def new_id(self) -> str:
        """A fresh system id shaped like Alma's (digits ending in the institution suffix)."""
        with self.lock:
            n = next(self._ids)
        return f"{7_000_000_000 + n}0005501"

    def scope_exists(self, scope: str) -> bool:
        """True for the institution code and for every library code."""
        return scope == self.institution_code or scope in self.libraries
