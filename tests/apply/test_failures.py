"""Partial failure, crashes, injected faults and rollback, against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from almasync.errors import ExitCode
from tests.conftest import Almasync

MANY = "locations:\n  MAIN:\n" + "".join(
    f"    NEW{i:02d}: {{name: New {i}, type: OPEN, fulfillment_unit: DEFAULT_FU}}\n"
    for i in range(12)) + (
    "    STACKS: {name: Main Stacks, external_name: Main shelves, type: OPEN}\n")


def _codes(almasync: Almasync, library: str) -> list[str]:
    return sorted(almasync.emu.store.locations[library])


def test_crash_after_writes_then_rerun_converges(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": MANY})
    almasync.emu.crash_after_writes = 5
    first = almasync("apply", str(root), "--auto-approve")
    assert first.exit_code == ExitCode.UNAVAILABLE, first.stdout + first.stderr
    assert "The run stopped" in first.stderr
    almasync.emu.recover()
    almasync.emu.crash_after_writes = None
    second = almasync("apply", str(root), "--auto-approve")
    assert second.exit_code == ExitCode.OK, second.stderr
    codes = _codes(almasync, "MAIN")
    assert len(codes) == len(set(codes))
    assert sum(1 for c in codes if c.startswith("NEW")) == 12
    again = json.loads(almasync("plan", str(root), "--format", "json").stdout)
    assert again["changes"] == []


def test_injected_faults_converge(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": MANY})
    almasync.emu.fault_rate = 0.2
    almasync.emu.fault_seed = 7
    codes = []
    for _attempt in range(8):
        result = almasync("apply", str(root), "--auto-approve")
        if result.exit_code == ExitCode.OK:
            break
        assert result.exit_code in (ExitCode.APPLY_FAILED, ExitCode.UNAVAILABLE), result.stderr
    else:  # pragma: no cover
        raise AssertionError("did not converge in 8 runs")
    almasync.emu.fault_rate = 0.0
    codes = _codes(almasync, "MAIN")
    assert sum(1 for c in codes if c.startswith("NEW")) == 12
    assert json.loads(almasync("plan", str(root), "--format", "json").stdout)["changes"] == []


def test_dropped_connection_on_create_is_read_back_not_repeated(almasync: Almasync,
                                                                config: Any) -> None:
    root = config({"l.yaml": "locations:\n  MAIN:\n    ONE: {name: One, type: OPEN}\n"})
    almasync.emu.drop_rate = 1.0
    almasync.emu.drop_after_apply = True
    result = almasync("apply", str(root), "--auto-approve")
    almasync.emu.drop_rate = 0.0
    posts = [r for r in almasync.writes() if r.method == "POST"]
    assert len(posts) == 1, result.stdout + result.stderr
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "ONE" in _codes(almasync, "MAIN")


def test_rollback_restores_previous_state(almasync: Almasync, config: Any,
                                          tmp_path: Path) -> None:
    law = "  LAW:\n    LAWSTACKS: {name: Law Stacks, type: OPEN}\n"
    root = config({"l.yaml": MANY + law, "almasync.yaml": "prune:\n  locations: [LAW]\n"})
    before = {lib: {code: dict(loc) for code, loc in locs.items()}
              for lib, locs in almasync.emu.store.locations.items()}
    result = almasync("apply", str(root), "--auto-approve", "--force")
    assert result.exit_code == ExitCode.OK, result.stderr
    snapshots = sorted((root / ".almasync" / "journals").glob("*.json"))
    assert len(snapshots) == 1
    undo = almasync("rollback", str(snapshots[0]), "--auto-approve", "--force")
    assert undo.exit_code == ExitCode.OK, undo.stderr
    assert "- locations MAIN/NEW00" in undo.stdout
    assert "+ locations LAW/LAWREF" in undo.stdout
    after = almasync.emu.store.locations
    assert sorted(after["MAIN"]) == sorted(before["MAIN"])
    assert sorted(after["LAW"]) == sorted(before["LAW"])
    stacks = after["MAIN"]["STACKS"]
    assert stacks["external_name"] == before["MAIN"]["STACKS"]["external_name"]
    restored = after["LAW"]["LAWREF"]
    for name in ("name", "external_name", "type", "fulfillment_unit"):
        assert restored[name] == before["LAW"]["LAWREF"][name], name


def test_rollback_shows_what_it_sets_back_and_keeps_the_live_counts(almasync: Almasync,
                                                                    config: Any) -> None:
    root = config({
        "l.yaml": "locations:\n  MAIN:\n    NEW01: {name: New, type: OPEN}\n"
                  "    STACKS: {name: Main Stacks, external_name: Main shelves, type: OPEN}\n",
        "almasync.yaml": "safety:\n  max_delete_percent: 50\n"})
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.OK
    [snapshot] = (root / ".almasync" / "journals").glob("*.json")
    undo = almasync("rollback", str(snapshot), "--auto-approve")
    assert undo.exit_code == ExitCode.OK, undo.stderr
    assert '~ locations MAIN/STACKS\n    external_name: "Main shelves" -> "Stacks"' in undo.stdout
    assert "- locations MAIN/NEW01" in undo.stdout
    assert "NEW01" not in almasync.emu.store.locations["MAIN"]
