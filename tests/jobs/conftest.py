"""Fixtures for the job engine: clients on the demo emulator, and a "slow" institution whose
job instances stay QUEUED for a minute, so thresholds and timeouts are deterministic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from almasync.alma.client import AlmaClient
from almasync.emulator import Emulator
from almasync.jobs import Pacing
from tests.conftest import Almasync

# Polls and slot retries every few milliseconds: tests never sleep long.
FAST = Pacing(first=0.01, cap=0.04)

EXPORT = "M26714670000011"      # manual, needs set_id; ends COMPLETED_SUCCESS
CHANGE_ITEMS = "M28184420000011"  # manual, needs set_id; ends COMPLETED_FAILED
SYNC_BIBS = "M30174920000011"   # manual, no parameters; ends COMPLETED_WARNING
FINES = "M32000000000011"       # manual, no parameters; ends FAILED
SIS_JOB = "S88888800000011"     # scheduled job of integration profile SIS_PROFILE
SIS_PROFILE = "6100000010005501"
MISSING_ITEMS = "3100000010005501"  # set "Missing items"
NEW_TITLES = "3100000020005501"     # set "New acquisitions 2026"
SEED_WARNING_INSTANCE = "8100000020005501"  # an instance of SIS_JOB, COMPLETED_WARNING


def make_client(emu: Emulator, timeout: float | tuple[float, float] = 60.0) -> AlmaClient:
    return AlmaClient(emu.base_url, emu.api_key, read_only=False, rate_limit=None,
                      timeout=timeout)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[AlmaClient]:
    with make_client(emulator) as alma:
        yield alma


@pytest.fixture
def slow_emulator() -> Iterator[Emulator]:
    with Emulator(seed="demo", rate_limit=None, job_step_seconds=60) as emu:
        yield emu


@pytest.fixture
def slow_client(slow_emulator: Emulator) -> Iterator[AlmaClient]:
    with make_client(slow_emulator) as alma:
        yield alma


@pytest.fixture
def slow_almasync(slow_emulator: Emulator) -> Almasync:
    return Almasync(slow_emulator, CliRunner(), slow_emulator.api_key)


def api_posts(emu: Emulator) -> list[int]:
    """The HTTP status of every job submission the emulator saw, in order."""
    return [r.status for r in emu.requests if r.method == "POST"]


def finish(emu: Emulator, instance_id: str, status: str = "COMPLETED_SUCCESS") -> None:
    """Let an instance end at once (frees one of Alma's three API slots)."""
    with emu.store.lock:
        emu.store.job_instances[instance_id]["status"] = status
