"""``generate_large``: a deterministic seed for a large institution (benchmarks, load tests)."""

from __future__ import annotations

import random
from typing import Any

from almasync.emulator import labels

_WORDS = (
    "Science",
    "Engineering",
    "Medical",
    "Art",
    "Business",
    "Education",
    "Chemistry",
    "Physics",
    "Geography",
    "History",
    "Philosophy",
    "Nursing",
    "Agriculture",
    "Architecture",
    "Theology",
)
_WEEKDAYS = {
    "type": "WEEK",
    "day": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
    "from_date": "2026-01-01",
    "to_date": "2028-12-31",
    "from_hour": "08:00",
    "to_hour": "20:00",
    "status": "OPEN",
}
_KINDS = (
    "Stacks",
    "Reference",
    "Periodicals",
    "Reserves",
    "Special Collections",
    "Media",
    "Storage",
)


def generate_large(
    libraries: int = 30,
    locations_per_library: int = 50,
    code_tables: int = 150,
    code_table_rows: int = 40,
    mapping_tables: int = 40,
    mapping_rows: int = 2000,
    letters: int = 200,
    license_terms: int = 100,
    reminders: int = 500,
    sets: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Seed data (the same for the same arguments) for ``Emulator(seed=...)``.

    The counts are exact per kind; ``code_tables`` includes the ReminderTypes and
    ReminderStatuses tables that reminders are validated against.
    """
    rng = random.Random(seed)
    libs = _libraries(rng, libraries, locations_per_library)
    return {
        "format": 1,
        "institution": {
            "code": "01LARGE_INST",
            "name": "Large Generated University",
            "environment_type": "SANDBOX",
            "default_fulfillment_unit": "DEFAULT_FU",
        },
        "fulfillment_units": {"DEFAULT_FU": "Default fulfillment unit"}
        | {f"FU_{n:02d}": f"Fulfillment unit {n}" for n in range(1, 6)},
        "remote_storages": {"OFFSITE": "Offsite storage facility"},
        "libraries": libs,
        "code_tables": _code_tables(rng, code_tables, code_table_rows),
        "mapping_tables": _mapping_tables(rng, mapping_tables, mapping_rows),
        "letters": _letters(letters),
        "license_terms": _license_terms(rng, license_terms),
        "reminders": _reminders(rng, reminders),
        "sets": _sets(rng, sets),
        "open_hours": {code: [dict(_WEEKDAYS)] for code in libs},
    }


def _license_terms(rng: random.Random, count: int) -> dict[str, Any]:
    types = list(labels.LICENSE_TERM_TYPES)
    return {
        f"TERM{n:04d}": {"name": f"License term {n}", "type": rng.choice(types)}
        for n in range(1, count + 1)
    }


def _libraries(rng: random.Random, count: int, per_library: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for n in range(1, count + 1):
        code = f"L{n:03d}"
        locations: dict[str, Any] = {}
        for m in range(1, per_library + 1):
            kind = _KINDS[(n + m) % len(_KINDS)]
            type_ = "CLOSED" if kind in ("Storage", "Special Collections") else "OPEN"
            locations[f"LOC{m:03d}"] = {
                "name": f"{kind} {m}",
                "external_name": kind,
                "type": "REMOTE_STORAGE" if m % 25 == 0 else type_,
                "remote_storage": "OFFSITE" if m % 25 == 0 else "",
                "fulfillment_unit": rng.choice(
                    ["DEFAULT_FU", "FU_01", "FU_02", "FU_03", "FU_04", "FU_05"]
                ),
                "suppress_from_publishing": rng.random() < 0.1,
                "call_number_type": rng.choice(["", "0", "1"]),
                "has_items": rng.random() < 0.5,
            }
        result[code] = {
            "name": f"{_WORDS[n % len(_WORDS)]} Library {n}",
            "circ_desks": {
                "DEFAULT_CIRC_DESK": {
                    "name": "Circulation desk",
                    "primary": True,
                    "locations": list(locations)[:5],
                }
            },
            "locations": locations,
        }
    return result


def _code_tables(rng: random.Random, count: int, rows: int) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    fixed = [
        ("ReminderTypes", labels.DEFAULT_REMINDER_TYPES),
        ("ReminderStatuses", labels.DEFAULT_REMINDER_STATUSES),
    ]
    for name, values in fixed[:count]:
        tables[name] = {
            "description": name,
            "sub_system": "RESOURCE_MANAGEMENT",
            "rows": [{"code": c, "description": d} for c, d in values.items()],
        }
    for n in range(1, count - len(tables) + 1):
        default = rng.randrange(rows) if rows else -1
        tables[f"GeneratedTable{n:04d}"] = {
            "description": f"Generated code table {n}",
            "sub_system": rng.choice(list(labels.SUB_SYSTEMS)),
            "customizable": n % 20 != 0,
            "rows": [
                {
                    "code": f"CODE{r:03d}",
                    "description": f"Value {r} of table {n}",
                    "default": r == default,
                    "enabled": rng.random() > 0.05,
                }
                for r in range(rows)
            ],
        }
    return tables


def _mapping_tables(rng: random.Random, count: int, rows: int) -> dict[str, Any]:
    return {
        f"GeneratedMapping{n:03d}": {
            "description": f"Generated mapping table {n}",
            "sub_system": "ACQ",
            "columns": 3,
            "rows": [
                {
                    "column0": f"KEY{r:05d}",
                    "column1": rng.choice(["TRUE", "FALSE"]),
                    "column2": f"target-{rng.randrange(1000)}",
                    "enabled": True,
                }
                for r in range(rows)
            ],
        }
        for n in range(1, count + 1)
    }


def _letters(count: int) -> dict[str, Any]:
    xsl = (
        '<?xml version="1.0" encoding="utf-8"?>\n<xsl:stylesheet version="1.0" '
        'xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n  <xsl:template match="/">'
        "<html><body><p>@@header@@ {n}</p></body></html></xsl:template>\n</xsl:stylesheet>\n"
    )
    return {
        # Alma's component codes end in .xsl.
        f"GeneratedLetter{n:04d}" + (".xsl" if n % 10 == 0 else ""): {
            "name": f"Generated letter {n}",
            "description": f"Letter number {n}",
            "type": "COMPONENT" if n % 10 == 0 else "LETTER",
            "enabled": n % 7 != 0,
            "patron_facing": n % 3 == 0,
            "xsl": xsl.format(n=n),
        }
        for n in range(1, count + 1)
    }


def _reminders(rng: random.Random, count: int) -> list[dict[str, Any]]:
    types, statuses = list(labels.DEFAULT_REMINDER_TYPES), list(labels.DEFAULT_REMINDER_STATUSES)
    return [
        {
            "entity_type": "BIB_MMS",
            "entity_id": f"99{rng.randrange(10**9):09d}",
            "type": rng.choice(types),
            "status": rng.choice(statuses),
            "text": f"Generated reminder {n}",
            "reminder_date": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        }
        for n in range(1, count + 1)
    ]


def _sets(rng: random.Random, count: int) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        if n % 2:
            members = sorted({f"99{rng.randrange(10**9):09d}" for _ in range(20)})
            result.append(
                {
                    "name": f"Generated itemized set {n}",
                    "type": "ITEMIZED",
                    "content": "BIB_MMS",
                    "members": members,
                }
            )
        else:
            result.append(
                {
                    "name": f"Generated logical set {n}",
                    "type": "LOGICAL",
                    "content": "ITEM",
                    "query": f"ITEM where ITEM ((barcode CONTAINS GEN{n}))",
                }
            )
    return result
