"""Export then plan is empty and drift --include-unmanaged is clean: the demo institution and
a generated larger one, every kind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import requests
from click.testing import CliRunner

from almasync.cli import cli
from almasync.emulator import Emulator, generate_large
from almasync.kinds import ORDER
from tests.conftest import EXAMPLES, Almasync


def _export_then_plan(runner: CliRunner, env: dict[str, str], out: Path) -> dict[str, object]:
    exported = runner.invoke(cli, ["export", "--out", str(out)], env=env)
    assert exported.exit_code == 0, exported.stderr
    for handler in ORDER:
        assert (out / handler.export_name).is_file()
    planned = runner.invoke(cli, ["plan", str(out), "--format", "json"], env=env)
    assert planned.exit_code == 0, planned.stderr
    # What export leaves out as Alma's defaults, drift does not call unmanaged.
    drift = runner.invoke(cli, ["drift", str(out), "--include-unmanaged"], env=env)
    assert drift.exit_code == 0, drift.stdout
    assert "No changes. The configuration matches Alma." in drift.stdout
    result: dict[str, object] = json.loads(planned.stdout)
    return result


def test_demo_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    env = {"ALMA_API_URL": almasync.emu.base_url, "ALMA_API_KEY": almasync.key,
           "ALMASYNC_RATE_LIMIT": "0"}
    plan = _export_then_plan(almasync.runner, env, tmp_path / "out")
    assert plan["changes"] == [] and plan["alma_only"] == []
    # Every read-only kind is exported (under readonly/) and compared.
    counts: dict[str, int] = plan["live_counts"]  # type: ignore[assignment]
    assert all(counts[h.kind.value] > 0 for h in ORDER if h.read_only)
    assert sum(plan["live_counts"].values()) > 30  # type: ignore[attr-defined]
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_generated_institution_round_trip(tmp_path: Path) -> None:
    seed = generate_large(libraries=4, locations_per_library=10, code_tables=12,
                          code_table_rows=20, mapping_tables=3, mapping_rows=300, letters=10,
                          license_terms=10, reminders=120, sets=8, seed=3)
    with Emulator(seed=seed, rate_limit=None) as emu:
        env = {"ALMA_API_URL": emu.base_url, "ALMA_API_KEY": emu.api_key,
               "ALMASYNC_RATE_LIMIT": "0"}
        plan = _export_then_plan(CliRunner(), env, tmp_path / "out")
    assert plan["changes"] == []
    counts = plan["live_counts"]
    assert counts["location"] == 40 and counts["reminder"] == 120  # type: ignore[index]


def test_bare_singletons_round_trip(tmp_path: Path) -> None:
    """Alma may send a one-element list as the bare element (FACTS 8). With the emulator
    doing so everywhere, the examples plan, apply and plan empty, and the institution's
    export plans empty too."""
    with Emulator(seed="demo", rate_limit=None, bare_singletons=True) as emu:
        almasync = Almasync(emu, CliRunner(), emu.api_key)
        env = {"SIS_FTP_PASSWORD": "s3cret-sis", "RFID_API_TOKEN": "t0ken-rfid"}
        root = tmp_path / "config"
        shutil.copytree(EXAMPLES, root)
        first = almasync.plan_json(root, env=env)
        assert first["changes"]
        applied = almasync("apply", str(root), "--auto-approve", env=env)
        assert applied.exit_code == 0, applied.output
        assert almasync.plan_json(root, env=env)["changes"] == []
        exported = _export_then_plan(almasync.runner, {
            "ALMA_API_URL": emu.base_url, "ALMA_API_KEY": emu.api_key,
            "ALMASYNC_RATE_LIMIT": "0", **env}, tmp_path / "out")
        assert exported["changes"] == []
        # the switch was exercised: some list came back bare, a singleton location list too
        music = requests.get(f"{emu.api_url}/conf/libraries/MUSIC/locations", timeout=5,
                             headers={"Authorization": f"apikey {emu.api_key}",
                                      "Accept": "application/json"}).json()
        assert music["location"]["code"] == "SCORES"
