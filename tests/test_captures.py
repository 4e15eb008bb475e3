"""Recorded captures (``almasync doctor --record``) replayed: read, normalise, the no-op
write, and export then plan (empty). One folder per institution under tests/captures/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from almasync import engine
from almasync.alma.retry import RetryPolicy
from almasync.cli import cli
from almasync.config.loader import DesiredState
from almasync.config.settings import Settings
from almasync.doctor.client import RecordingClient
from almasync.emulator.replay import Replay
from almasync.kinds import ORDER
from tests.noop import capture_folders, outcomes

FOLDERS = capture_folders()


def test_there_are_captures_to_replay() -> None:
    assert "demo" in [p.name for p in FOLDERS]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_a_capture_reads_and_normalises(folder: Path) -> None:
    with Replay.from_folder(folder) as replay, RecordingClient(
            replay.base_url, replay.api_key, rate_limit=None, retry=RetryPolicy.never()) as client:
        live = engine.read_live(client, DesiredState(folder, Settings()), everything=True,
                                detail=True)
    present = {kind for kind, resources in live.items() if resources}
    assert present == {h.kind for h in ORDER} if folder.name == "demo" else present
    assert all(isinstance(fields, dict) for resources in live.values()
               for fields in resources.values())


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_recorded_object_is_written_back_as_read(folder: Path) -> None:
    with Replay.from_folder(folder) as replay:
        found = outcomes(replay.base_url, replay.api_key)
    assert [f"{f.kind.value} {'/'.join(f.key)}: {f.message}"
            for o in found for f in o.findings] == []
    assert sum(o.checked for o in found) > 0


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_export_then_plan_of_a_capture_is_empty(folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    with Replay.from_folder(folder) as replay:
        env = {"ALMA_API_URL": replay.base_url, "ALMA_API_KEY": replay.api_key,
               "ALMASYNC_RATE_LIMIT": "0"}
        out = tmp_path / "exported"
        exported = runner.invoke(cli, ["export", "--out", str(out)], env=env)
        assert exported.exit_code == 0, exported.stderr
        planned = runner.invoke(cli, ["plan", str(out), "--format", "json"], env=env)
        assert planned.exit_code == 0, planned.stderr
        writes = [call for call in replay.calls if call[0] != "GET"]
    plan = json.loads(planned.stdout)
    assert plan["changes"] == []
    assert sum(plan["live_counts"].values()) > 0
    assert {h.kind.value for h in ORDER} >= set(plan["live_counts"])
    assert writes == []
