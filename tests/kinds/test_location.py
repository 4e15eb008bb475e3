"""Locations end to end: the CLI against the emulator over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from almasync.errors import ExitCode
from tests.conftest import EXAMPLES, Almasync

BASIC = """\
locations:
  MAIN:
    STACKS:
      name: Main Stacks
      external_name: Main Stacks
      type: OPEN
      fulfillment_unit: DEFAULT_FU
    NEWBOOKS:
      name: New Books
      external_name: New books shelf
      type: OPEN
      fulfillment_unit: DEFAULT_FU
      suppress_from_publishing: true
"""



def test_demo_plan_of_the_examples(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "- location MAIN/STORAGE" in out
    assert "~ location MAIN/STACKS\n    external_name: \"Stacks\" -> \"Main Stacks\"" in out
    assert "+ location MAIN/SPECCOLL" in out
    assert "~ location MUSIC/SCORES\n    name: \"Scores\" -> \"Scores and Parts\"" in out
    assert out.index("- location MAIN/STORAGE") < out.index("~ location MAIN/STACKS")
    locations = [line for line in out.splitlines() if line[:2] in ("+ ", "~ ", "- ")
                 and " location " in line]
    assert len(locations) == 4, locations
    assert "Nothing was applied" in out
    assert almasync.writes() == []


def test_plan_apply_plan_is_empty(almasync: Almasync, config: Any) -> None:
    root = config({"locations.yaml": BASIC})
    data = almasync.plan_json(root)
    assert data["summary"] == {"create": 1, "update": 1, "delete": 0}
    update = next(c for c in data["changes"] if c["action"] == "update")
    assert update["key"] == "MAIN/STACKS"
    assert update["diff"] == [{"path": "external_name", "before": "Stacks",
                               "after": "Main Stacks", "absent": []}]

    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "applied  + location MAIN/NEWBOOKS" in applied.stdout
    assert "Apply: 2 applied, 0 failed, 0 skipped." in applied.stdout

    before = len(almasync.emu.requests)
    again = almasync.plan_json(root)
    assert again["changes"] == [], again
    assert again["summary"] == {"create": 0, "update": 0, "delete": 0}
    second = almasync.emu.requests[before:]
    assert second and {r.method for r in second} == {"GET"}


def test_update_keeps_undeclared_fields(almasync: Almasync, config: Any) -> None:
    import requests

    root = config({"locations.yaml": "locations:\n  MAIN:\n    RESERVE:\n"
                                     "      name: Reserves desk\n      type: CLOSED\n"})
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    body = requests.get(f"{almasync.emu.base_url}/almaws/v1/conf/libraries/MAIN/locations/"
                        "RESERVE", headers={"Authorization": f"apikey {almasync.key}",
                                            "Accept": "application/json"}, timeout=5).json()
    assert body["name"] == "Reserves desk"
    assert body["external_name"] == "Reserves"
    assert body["fulfillment_unit"]["value"] == "RESERVES_FU"


def test_undeclared_location_survives_without_prune(almasync: Almasync, config: Any) -> None:
    root = config({"locations.yaml": BASIC})
    data = almasync.plan_json(root)
    assert not [c for c in data["changes"] if c["action"] == "delete"]


def test_prune_deletes_undeclared(almasync: Almasync, config: Any) -> None:
    root = config({"locations.yaml": BASIC, "almasync.yaml": "prune:\n  locations: [MAIN]\n"})
    data = almasync.plan_json(root)
    deleted = sorted(c["key"] for c in data["changes"] if c["action"] == "delete")
    assert deleted == ["MAIN/REF", "MAIN/RESERVE", "MAIN/STORAGE"]
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    deletes = [r for r in almasync.writes() if r.method == "DELETE"]
    assert len(deletes) == 3
    assert almasync.plan_json(root)["changes"] == []
    law = almasync.plan_json(config({"x.yaml": "locations:\n  LAW:\n    LAWSTACKS:\n"
                                               "      name: Law Stacks\n      type: OPEN\n"}))
    assert law["changes"] == []


def test_plan_sends_only_gets(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--format", "json")
    assert result.exit_code == 0
    methods = {r.method for r in almasync.emu.requests}
    assert methods == {"GET"}


def test_brief_list_entries_are_read_in_full(almasync: Almasync, config: Any) -> None:
    root = config({"locations.yaml": BASIC})
    almasync.plan_json(root)
    paths = [r.path for r in almasync.emu.requests]
    assert "/almaws/v1/conf/libraries/MAIN/locations/STACKS" in paths
    assert "/almaws/v1/conf/libraries/MAIN/locations/REF" not in paths


def test_unknown_library_is_a_config_error(almasync: Almasync, config: Any) -> None:
    root = config({"locations.yaml": "locations:\n  NOPE:\n    X: {name: x, type: OPEN}\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'locations.yaml'}:3:5: location 'X' is under library 'NOPE'" \
        in result.stderr


def test_alma_refusal_fails_the_change_not_the_run(almasync: Almasync, config: Any) -> None:
    root = config({"locations.yaml": "locations:\n  MAIN:\n"
                                     "    BAD: {name: Bad, type: NOSUCHTYPE}\n"
                                     "    GOOD: {name: Good, type: OPEN}\n"})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   + location MAIN/BAD" in result.stdout
    assert "applied  + location MAIN/GOOD" in result.stdout
    assert "60297" in result.stderr
    assert "Apply: 1 applied, 1 failed, 0 skipped." in result.stdout


def test_export_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out), "--kinds", "locations")
    assert result.exit_code == 0, result.stderr
    text = (out / "locations.yaml").read_text()
    assert "STORAGE:" in text and "suppress_from_publishing: true" in text
    data = almasync.plan_json(out)
    assert data["changes"] == []
    again = almasync("export", "--out", str(out), "--kinds", "locations")
    assert again.exit_code == ExitCode.USAGE


def test_drift_reports_changes_and_unmanaged(almasync: Almasync, config: Any) -> None:
    root = config({"locations.yaml": BASIC})
    result = almasync("drift", str(root), "--include-unmanaged")
    assert result.exit_code == ExitCode.CHANGES
    assert "? location LAW/LAWSTACKS" in result.stdout
    junit = almasync("drift", str(root), "--format", "junit")
    assert junit.exit_code == ExitCode.CHANGES
    assert '<testcase classname="location" name="MAIN/STACKS">' in junit.stdout
    assert {r.method for r in almasync.emu.requests} == {"GET"}
