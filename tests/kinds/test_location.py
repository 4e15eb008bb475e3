"""Locations end to end: the CLI against the emulator over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from almasync.emulator import Emulator, generate_large
from almasync.errors import ExitCode
from almasync.kinds.location import CODED, normalise, update_body
from almasync.kinds.wire import strip_output_only, unwrap
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
    assert "- locations MAIN/STORAGE" in out
    assert "~ locations MAIN/STACKS\n    external_name: \"Stacks\" -> \"Main Stacks\"" in out
    assert "+ locations MAIN/SPECCOLL" in out
    assert "~ locations MUSIC/SCORES\n    name: \"Scores\" -> \"Scores and Parts\"" in out
    assert out.index("- locations MAIN/STORAGE") < out.index("~ locations MAIN/STACKS")
    locations = [line for line in out.splitlines() if line[:2] in ("+ ", "~ ", "- ")
                 and " locations " in line]
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
    assert "applied  + locations MAIN/NEWBOOKS" in applied.stdout
    assert "Apply: 2 applied, 0 failed, 0 skipped." in applied.stdout

    before = len(almasync.emu.requests)
    again = almasync.plan_json(root)
    assert again["changes"] == [], again
    assert again["summary"] == {"create": 0, "update": 0, "delete": 0}
    second = almasync.emu.requests[before:]
    assert second and {r.method for r in second} == {"GET"}


def test_update_keeps_undeclared_fields(almasync: Almasync, config: Any) -> None:
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
                                     "    BAD: {name: Bad, type: OPEN, call_number_type: '99'}\n"
                                     "    GOOD: {name: Good, type: OPEN}\n"})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   + locations MAIN/BAD" in result.stdout
    assert "applied  + locations MAIN/GOOD" in result.stdout
    assert "60301" in result.stderr
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
    assert "? locations LAW/LAWSTACKS" in result.stdout
    junit = almasync("drift", str(root), "--format", "junit")
    assert junit.exit_code == ExitCode.CHANGES
    assert '<testcase classname="locations" name="MAIN/STACKS">' in junit.stdout
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_unknown_type_stops_before_any_write(almasync: Almasync, config: Any) -> None:
    """``type`` is checked against Alma's LocationTypes code table at plan time: a typo is
    a located config error, and apply stops before its first write (no snapshot either)."""
    root = config({"locations.yaml": "locations:\n  MAIN:\n"
                                     "    GOOD: {name: Good, type: OPEN}\n"
                                     "    BAD:\n      name: Bad\n      type: OPN\n"})
    for command in (("plan",), ("apply", "--auto-approve")):
        result = almasync(*command, str(root))
        assert result.exit_code == ExitCode.INVALID_CONFIG, result.output
        assert (f"{root / 'locations.yaml'}:6:7: locations.MAIN.BAD.type: 'OPN' is not a "
                "code of Alma's LocationTypes code table (codes: CLOSED, OPEN, "
                "REMOTE_STORAGE)") in result.stderr
        assert "apply again" not in result.output
    assert almasync.writes() == []
    assert not (root / ".almasync").exists() and not Path(".almasync").exists()


def test_type_codes_come_from_the_institution(almasync: Almasync, config: Any) -> None:
    """A type the institution added to LocationTypes is valid, in the plan and in Alma."""
    table = almasync.emu.store.code_tables["LocationTypes"]
    table["rows"].append({"code": "SEMINAR", "description": "Seminar room", "default": False,
                          "enabled": True})
    root = config({"locations.yaml": "locations:\n  MAIN:\n"
                                     "    SEM: {name: Seminar, type: SEMINAR}\n"})
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert almasync.emu.store.locations["MAIN"]["SEM"]["type"] == "SEMINAR"
    assert almasync.plan_json(root)["changes"] == []


def test_description_is_a_located_error(almasync: Almasync, config: Any) -> None:
    root = config({"locations.yaml": "locations:\n  MAIN:\n    STACKS:\n"
                                     "      name: Main Stacks\n      type: OPEN\n"
                                     "      description: Open stacks\n"})
    for command in ("validate", "plan"):
        result = almasync(command, str(root))
        assert result.exit_code == ExitCode.INVALID_CONFIG, result.output
        assert (f"{root / 'locations.yaml'}:6:7: locations.MAIN.STACKS.description: Alma's "
                "locations have no description") in result.stderr
    assert almasync.writes() == []


def test_update_leaves_out_empty_codes(almasync: Almasync, config: Any) -> None:
    """The live location has empty accession_placement and call_number_type, which Alma
    shows as {"value": ""}; the PUT leaves them out instead of echoing them (the emulator,
    like some Alma releases, refuses the echo) and keeps every other live field."""
    root = config({"locations.yaml": "locations:\n  MAIN:\n    REF:\n"
                                     "      name: Reference room\n      type: OPEN\n"})
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    (put,) = [r for r in almasync.writes() if r.method == "PUT"]
    body = json.loads(put.body)
    assert "accession_placement" not in body and "call_number_type" not in body
    assert body["fulfillment_unit"] == {"value": "DEFAULT_FU"}
    assert body["external_name"] == "Reference" and body["name"] == "Reference room"
    assert "description" not in body
    assert almasync.plan_json(root)["changes"] == []


def test_codes_declared_empty_are_left_out(almasync: Almasync, config: Any) -> None:
    """``call_number_type: ""`` clears the field: it is left out of the PUT (Alma's default
    is empty), never sent as {"value": ""}."""
    store = almasync.emu.store
    store.locations["MAIN"]["REF"]["call_number_type"] = "1"
    root = config({"locations.yaml": "locations:\n  MAIN:\n    REF:\n"
                                     "      name: Reference\n      type: OPEN\n"
                                     "      call_number_type: \"\"\n"
                                     "      accession_placement: \"\"\n"})
    plan = almasync.plan_json(root)
    assert [c["key"] for c in plan["changes"]] == ["MAIN/REF"]
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert store.locations["MAIN"]["REF"]["call_number_type"] == ""
    body = json.loads(next(r for r in almasync.writes() if r.method == "PUT").body)
    assert "call_number_type" not in body
    assert almasync.plan_json(root)["changes"] == []


def test_declaring_what_is_live_changes_nothing(tmp_path: Path) -> None:
    """The no-op write, for every location the emulator serves (the demo and a generated
    institution, with call number types, remote storage and empty codes): declaring what is
    live and building the PUT body gives the live object without link, desc and empty
    coded fields, and PUTting it leaves the location exactly as it was."""
    seed = generate_large(libraries=2, locations_per_library=26, code_tables=1,
                          code_table_rows=1, mapping_tables=0, mapping_rows=0, letters=0,
                          license_terms=0, reminders=0, sets=0, seed=5)
    checked = 0
    for source in ("demo", seed):
        with Emulator(seed=source, rate_limit=None) as emu:
            session = requests.Session()
            session.headers.update({"Authorization": f"apikey {emu.api_key}",
                                    "Accept": "application/json"})
            for library, locations in sorted(emu.store.locations.items()):
                for code in sorted(locations):
                    url = f"{emu.api_url}/conf/libraries/{library}/locations/{code}"
                    before = session.get(url, timeout=10).json()
                    body = update_body(before, normalise(before))
                    assert body == {k: v for k, v in strip_output_only(before).items()
                                    if not (k in CODED and unwrap(v) == "")}, url
                    put = session.put(url, json=body, timeout=10)
                    assert put.status_code == 200, put.text
                    assert session.get(url, timeout=10).json() == before
                    checked += 1
    assert checked == 7 + 52


def test_without_a_readable_types_table_alma_decides(almasync: Almasync, config: Any) -> None:
    """When the LocationTypes table cannot be read (here: the institution has none), the
    plan cannot check ``type``; Alma's own refusal (60297) then fails that change only."""
    del almasync.emu.store.code_tables["LocationTypes"]
    root = config({"locations.yaml": "locations:\n  MAIN:\n"
                                     "    BAD: {name: Bad, type: OPN}\n"
                                     "    GOOD: {name: Good, type: OPEN}\n"})
    plan = almasync.plan_json(root)
    assert sorted(c["key"] for c in plan["changes"]) == ["MAIN/BAD", "MAIN/GOOD"]
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   + locations MAIN/BAD" in result.stdout and "60297" in result.stderr
    assert "applied  + locations MAIN/GOOD" in result.stdout
