"""Handlers, one module per family of kinds; ``ROUTES`` is every served operation."""

from __future__ import annotations

from almasync.emulator.handlers import (
    hours,
    jobs,
    letters,
    libraries,
    license_terms,
    org,
    profiles,
    reminders,
    sets,
    tables,
)
from almasync.emulator.routing import Route

ROUTES: list[Route] = [
    *libraries.ROUTES,
    *hours.ROUTES,
    *tables.ROUTES,
    *letters.ROUTES,
    *license_terms.ROUTES,
    *reminders.ROUTES,
    *sets.ROUTES,
    *profiles.ROUTES,
    *jobs.ROUTES,
    *org.ROUTES,
]
