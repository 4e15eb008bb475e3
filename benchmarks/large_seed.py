"""The large generated institution, scaled: the seed of ``bench_cpu.py`` and
``bench_roundtrip.py``.

``generate_large()`` at full size is 30 libraries x 50 locations, 150 code tables, 40 mapping
tables x 2,000 rows, 200 letters, 100 license terms, 500 reminders and 100 sets; ``scale``
multiplies each count (rounded down, at least 1). ``bench_rate.py`` sizes its own (rounded,
at least 3 code tables for the changes it declares).
"""

from __future__ import annotations

from typing import Any

from almasync.emulator import generate_large


def large_seed(scale: float) -> dict[str, Any]:
    def n(value: int) -> int:
        return max(1, int(value * scale))

    return generate_large(libraries=n(30), code_tables=n(150), mapping_tables=n(40),
                          letters=n(200), license_terms=n(100), reminders=n(500),
                          sets=n(100))
