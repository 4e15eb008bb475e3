"""The no-op write invariant, over everything the emulator can serve and every capture.

For each live object of each kind: declare exactly what is live, run the kind's own update
with a client that keeps its writes (:mod:`almasync.doctor.noop`), and require every write
to be the object as read minus what Alma owns, or no write at all. The sources are the
emulator's seeds (demo, a generated institution, seeds that deviate the way real
institutions may) and the recorded captures under ``tests/captures/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from almasync.alma.retry import RetryPolicy
from almasync.doctor.client import RecordingClient
from almasync.doctor.noop import Outcome, check_all
from almasync.emulator import Emulator, generate_large
from almasync.emulator.replay import Replay

CAPTURES = Path(__file__).resolve().parent / "captures"

#: Seeds standing for institutions that deviate: what a real Alma may hold and almasync
#: must carry back untouched.
DEVIANT_SEEDS: dict[str, dict[str, Any]] = {
    "profile parameters without action, and twice": {
        "format": 1,
        "institution": {"code": "01DEV_INST", "name": "Deviant University"},
        "integration_profiles": [{
            "id": "61", "code": "ODD", "type": "USERS", "description": "odd parameters",
            "parameter": [
                {"name": {"value": "ftp_server"}, "value": "no-action.example.edu"},
                {"action": {"value": "EXPORT"}, "name": {"value": "x"}, "value": "1"},
                {"action": {"value": "EXPORT"}, "name": {"value": "x"}, "value": "2"},
                {"action": {"value": "IMPORT"}, "name": {"value": "ftp_password"},
                 "value": "kept-as-read"},
            ]}],
    },
}


def seeds() -> dict[str, Any]:
    """Every seed the invariant runs over, by name."""
    generated = generate_large(libraries=3, locations_per_library=4, code_tables=6,
                               code_table_rows=6, mapping_tables=3, mapping_rows=30,
                               letters=6, license_terms=5, reminders=12, sets=5, seed=9)
    return {"demo": "demo", "generated": generated, **DEVIANT_SEEDS}


def capture_folders() -> list[Path]:
    """One folder per recorded institution under tests/captures/."""
    return sorted(p for p in CAPTURES.iterdir() if p.is_dir()) if CAPTURES.is_dir() else []


@contextmanager
def serving(source: Any) -> Iterator[tuple[str, str]]:
    """(base URL, key) of an emulator started from a seed, or of a replay of a capture
    folder."""
    if isinstance(source, Path):
        with Replay.from_folder(source) as replay:
            yield replay.base_url, replay.api_key
    else:
        with Emulator(seed=source, rate_limit=None) as emu:
            yield emu.base_url, emu.api_key


def outcomes(base_url: str, key: str) -> list[Outcome]:
    with RecordingClient(base_url, key, rate_limit=None, retry=RetryPolicy.never()) as client:
        return check_all(client)
