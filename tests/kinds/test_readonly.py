"""Read-only kinds end to end: exported, compared by drift, shown by plan as changes to make
in Alma, never written, and refused write options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from almasync.config.schema import resource_schema, settings_schema
from almasync.errors import ExitCode
from almasync.kinds import ORDER
from almasync.kinds.readonly.departments import DepartmentHandler
from tests.conftest import Almasync

DESK = """\
circulation_desks:
  LAW:
    LAW_DESK:
      name: Law circulation desk
      primary: true
"""

READ_ONLY_KEYS = {h.kind.config_key for h in ORDER if h.read_only}


def test_the_read_only_kinds() -> None:
    assert {"libraries", "circulation_desks", "departments", "printers",
                              "deposit_profiles", "import_profiles", "general"} == READ_ONLY_KEYS
    assert all(not h.capabilities.prune for h in ORDER if h.read_only)


def test_a_desk_renamed_in_alma_shows_in_drift(almasync: Almasync, config: Any) -> None:
    root = config({"desks.yaml": DESK})
    assert almasync("drift", str(root)).exit_code == ExitCode.OK
    with almasync.emu.store.lock:
        almasync.emu.store.circ_desks["LAW"]["LAW_DESK"]["name"] = "Law loans desk"
    result = almasync("drift", str(root))
    assert result.exit_code == ExitCode.CHANGES, result.stdout
    assert ("! circulation_desks LAW/LAW_DESK: cannot be changed through the API; change it "
            "in Alma\n    name: \"Law loans desk\" -> \"Law circulation desk\"") in result.stdout
    junit = almasync("drift", str(root), "--format", "junit").stdout
    assert 'failures="1"' in junit and "change it in Alma" in junit


def test_a_declared_difference_is_shown_and_never_written(almasync: Almasync,
                                                          config: Any) -> None:
    root = config({"desks.yaml": DESK.replace("Law circulation desk", "Law desk"),
                   "departments.yaml": "departments:\n  ACQ_DEPT:\n    work_days: 6\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "! circulation_desks LAW/LAW_DESK: cannot be changed through the API; change it " \
           "in Alma\n    name: \"Law circulation desk\" -> \"Law desk\"" in result.stdout
    assert "! departments ACQ_DEPT" in result.stdout and "work_days: 5 -> 6" in result.stdout
    assert "Plan: 0 to create, 0 to update, 0 to delete." in result.stdout
    assert "matches Alma" not in result.stdout
    assert almasync("plan", str(root), "--detailed-exitcode").exit_code == ExitCode.CHANGES

    data = almasync.plan_json(root)
    assert data["changes"] == [] and data["summary"] == {"create": 0, "update": 0,
                                                          "delete": 0}
    assert [(c["kind"], c["key"], c["message"]) for c in data["alma_only"]] == [
        ("circulation_desk", "LAW/LAW_DESK",
         "cannot be changed through the API; change it in Alma"),
        ("department", "ACQ_DEPT", "cannot be changed through the API; change it in Alma")]
    markdown = almasync("plan", str(root), "--format", "markdown").stdout
    assert "2 difference(s) to make in Alma's UI" in markdown

    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.stderr
    assert "change it in Alma" in applied.stdout
    assert almasync.writes() == []
    assert almasync.emu.store.circ_desks["LAW"]["LAW_DESK"]["name"] == "Law circulation desk"


def test_a_declared_resource_alma_lacks(almasync: Almasync, config: Any) -> None:
    root = config({"printers.yaml": "printers:\n  NEW_PRN:\n    name: New printer\n"})
    result = almasync("plan", str(root), "--detailed-exitcode")
    assert result.exit_code == ExitCode.CHANGES
    assert ("! printers NEW_PRN: does not exist in Alma and cannot be created through the "
            "API; create it in Alma") in result.stdout
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.OK
    assert almasync.writes() == []


def test_each_kind_exports_into_readonly(almasync: Almasync, tmp_path: Path) -> None:
    out = tmp_path / "out"
    kinds = [arg for key in sorted(READ_ONLY_KEYS) for arg in ("--kinds", key)]
    result = almasync("export", "--out", str(out), *kinds)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert sorted(p.name for p in (out / "readonly").iterdir()) == sorted(
        f"{key}.yaml" for key in READ_ONLY_KEYS)
    desks = (out / "readonly" / "circulation_desks.yaml").read_text()
    assert "LAW_DESK:\n      name: Law circulation desk" in desks
    assert "      - LAWSTACKS" in desks
    general = (out / "readonly" / "general.yaml").read_text()
    assert "environment_type: SANDBOX" in general
    assert almasync("plan", str(out), "--detailed-exitcode").exit_code == ExitCode.OK
    drift = almasync("drift", str(out))  # the whole demo: tests/test_roundtrip.py
    assert drift.exit_code == ExitCode.OK, drift.stdout


def test_prune_and_safety_options_are_refused(almasync: Almasync, config: Any) -> None:
    root = config({"almasync.yaml": "prune:\n  departments: true\nsafety:\n  protected:\n"
                                     "    printers: [MAIN_PRN]\n",
                   "desks.yaml": DESK})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "almasync.yaml:2:3: almasync.prune.departments: departments are read-only" \
           in result.stderr
    assert "almasync.safety.protected.printers: printers are read-only" in result.stderr
    schema = settings_schema()
    prunable = schema["properties"]["prune"]["propertyNames"]["enum"]
    assert "locations" in prunable and not READ_ONLY_KEYS & set(prunable)
    protected = schema["$defs"]["Safety"]["properties"]["protected"]["propertyNames"]["enum"]
    assert not READ_ONLY_KEYS & set(protected)


def test_the_schema_marks_them_read_only() -> None:
    properties = resource_schema()["properties"]
    for key in READ_ONLY_KEYS:
        assert properties[key]["readOnly"] is True
        assert "change it in Alma" in properties[key]["description"]
    assert "readOnly" not in properties["locations"]
    committed = json.loads((Path(__file__).resolve().parents[2] / "schemas"
                            / "almasync-resources.schema.json").read_text())
    assert committed["properties"]["departments"]["readOnly"] is True


def test_unknown_fields_and_libraries_are_located(almasync: Almasync, config: Any) -> None:
    root = config({"ro.yaml": "departments:\n  ACQ_DEPT:\n    prune: true\n"})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "ro.yaml:3:5" in result.stderr
    root = config({"ro.yaml": "departments:\n  ACQ_DEPT:\n    served_libraries: [MAIN, NOPE]\n"
                              "circulation_desks:\n  ATTIC:\n    DESK:\n      name: x\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG, result.stdout
    assert "ro.yaml:3:5: departments.ACQ_DEPT.served_libraries: library 'NOPE' does not " \
           "exist in Alma" in result.stderr
    assert "ro.yaml:6:5: circulation desk 'DESK' is under library 'ATTIC'" in result.stderr


def test_a_fulfillment_unit_alma_lacks_is_located(almasync: Almasync, config: Any) -> None:
    root = config({"locations.yaml": """\
locations:
  MAIN:
    STACKS:
      name: Main Stacks
      type: OPEN
      fulfillment_unit: DEFAULT_FU
    NEWBOOKS:
      name: New Books
      type: OPEN
      fulfillment_unit: NO_SUCH_FU
"""})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG, result.stdout
    assert (f"{root / 'locations.yaml'}:10:7: locations.MAIN.NEWBOOKS.fulfillment_unit: "
            "'NO_SUCH_FU' is not a fulfillment unit of any location in Alma (units in use: "
            "DEFAULT_FU") in result.stderr
    assert "NEWBOOKS" not in result.stderr.replace("locations.MAIN.NEWBOOKS", "")
    assert almasync.writes() == []
    fixed = config({"locations.yaml": (root / "locations.yaml").read_text()
                    .replace("NO_SUCH_FU", "DEFAULT_FU")})
    assert almasync("plan", str(fixed)).exit_code == ExitCode.OK


def test_desk_codes_in_mapping_tables_are_checked(almasync: Almasync, config: Any) -> None:
    root = config({"m.yaml": """\
mapping_tables:
  CirculationDeskMapping:
    key: [column0, column1]
    rows:
      - {column0: SELFCHECK1, column1: MAIN, column2: RESERVES_DESK}
      - {column0: SELFCHECK2, column1: LAW, column2: RESERVES_DESK}
      - {column0: SELFCHECK3, column1: ATTIC, column2: DESK}
"""})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG, result.stdout
    err = result.stderr
    assert (f"{root / 'm.yaml'}:4:5: mapping_tables.CirculationDeskMapping.rows.1.column2: "
            "'RESERVES_DESK' is not a circulation desk of library 'LAW' (desks: LAW_DESK)"
            ) in err
    assert "rows.2.column1: library 'ATTIC' does not exist in Alma" in err
    assert "rows.0" not in err


def test_a_post_apply_profile_alma_lacks_is_located(almasync: Almasync,
                                                     config: Any) -> None:
    settings = """\
post_apply:
  - profile_id: "6200000010005501"
  - profile_id: "6100000010005501"
  - profile_id: "999"
"""
    root = config({"almasync.yaml": settings, "desks.yaml": DESK})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG, result.stdout
    assert (f"{root / 'almasync.yaml'}:4:17: almasync.post_apply.2.profile_id: '999' is "
            "neither an import profile nor an integration profile in Alma") in result.stderr
    assert "post_apply.0" not in result.stderr and "post_apply.1" not in result.stderr


def test_repeated_parts_are_read_nested_or_flattened() -> None:
    handler = DepartmentHandler()
    nested = {"code": "D", "work_days": "5",
              "served_libraries": {"library": [{"value": "MAIN", "desc": "Main"},
                                               {"value": "LAW"}]},
              "operators": {"operator": {"primary_id": "op1", "full_name": "Op One"}}}
    flat = {"code": "D", "work_days": 5, "served_libraries": ["MAIN", "LAW"],
            "operators": [{"primary_id": "op1"}]}
    expected = {"work_days": 5, "served_libraries": ["MAIN", "LAW"], "operators": ["op1"]}
    assert handler.normalise(nested) == expected
    assert handler.normalise(flat) == expected
    assert handler.normalise({"code": "D"})["served_libraries"] == []


def test_a_unit_in_use_elsewhere_is_known(almasync: Almasync, config: Any) -> None:
    """A unit is looked up only when the plan would write it; one that a location of another
    library uses is known."""
    same = config({"locations.yaml": "locations:\n  MAIN:\n    STACKS:\n      name: Main "
                                     "Stacks\n      type: OPEN\n      fulfillment_unit: "
                                     "DEFAULT_FU\n"})
    assert almasync("plan", str(same)).exit_code == ExitCode.OK
    assert not [r for r in almasync.emu.requests if "/LAW/" in r.path]
    moved = config({"locations.yaml": (same / "locations.yaml").read_text()
                    .replace("DEFAULT_FU", "LAW_FU")})
    result = almasync("plan", str(moved))
    assert result.exit_code == ExitCode.OK, result.stderr
    assert 'fulfillment_unit: "DEFAULT_FU" -> "LAW_FU"' in result.stdout
