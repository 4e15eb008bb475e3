"""Mapping tables end to end: the CLI against the emulator over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from almasync.errors import ExitCode
from almasync.kinds.mapping_table import unique_key
from tests.conftest import EXAMPLES, Almasync

CURRENCIES = """\
mapping_tables:
  CurrencySubset:
    rows:
      - {column0: CAD, column1: "TRUE"}
      - {column0: JPY, column1: "TRUE", enabled: true}
      - {column0: USD, column1: "TRUE", enabled: true}
"""



def alma_rows(almasync: Almasync, name: str, **params: str) -> list[dict[str, Any]]:
    """A table's rows exactly as Alma serves them."""
    response = requests.get(f"{almasync.emu.base_url}/almaws/v1/conf/mapping-tables/{name}",
                            params=params, headers={"Authorization": f"apikey {almasync.key}",
                                                    "Accept": "application/json"}, timeout=5)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json().get("row", [])
    return rows


def test_plan_lists_changed_rows_only(almasync: Almasync, config: Any) -> None:
    data = almasync.plan_json(config({"m.yaml": CURRENCIES}))
    [change] = data["changes"]
    assert (change["action"], change["kind"], change["key"]) == (
        "update", "mapping_table", "CurrencySubset")
    paths = {d["path"]: (d["before"], d["after"]) for d in change["diff"]}
    assert paths["rows[CAD].column1"] == ("FALSE", "TRUE")
    assert paths["rows[JPY]"][1] == {"column1": "TRUE", "enabled": True}
    assert set(paths) == {"rows[CAD].column1", "rows[JPY]"}  # USD matches; EUR undeclared
    assert almasync.writes() == []


def test_apply_keeps_undeclared_rows_and_second_plan_is_empty(almasync: Almasync,
                                                              config: Any) -> None:
    root = config({"m.yaml": CURRENCIES})
    before = alma_rows(almasync, "CurrencySubset")
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert [(w.method, w.path) for w in almasync.writes()] == [
        ("PUT", "/almaws/v1/conf/mapping-tables/CurrencySubset")]
    after = alma_rows(almasync, "CurrencySubset")
    assert [row["column0"] for row in after] == ["USD", "EUR", "GBP", "CAD", "JPY"]
    assert json.dumps(after[1:3]) == json.dumps(before[1:3])  # EUR, GBP untouched
    assert after[3] == {**before[3], "column1": "TRUE"}
    assert after[4] == {"column0": "JPY", "column1": "TRUE", "enabled": True}
    assert almasync.plan_json(root)["changes"] == []


def test_composite_key_tells_rows_apart(almasync: Almasync, config: Any) -> None:
    root = config({"m.yaml": """\
mapping_tables:
  CirculationDeskMapping:
    key: [column0, column1]
    rows:
      - {column0: SELFCHECK1, column1: MAIN, column2: RESERVES_DESK}
      - {column0: SELFCHECK1, column1: MUSIC, column2: MUSIC_DESK}
"""})
    [change] = almasync.plan_json(root)["changes"]
    paths = {d["path"]: (d["before"], d["after"]) for d in change["diff"]}
    assert paths["rows[SELFCHECK1|MAIN].column2"] == ("DEFAULT_CIRC_DESK", "RESERVES_DESK")
    assert paths["rows[SELFCHECK1|MUSIC]"][1] == {"column2": "MUSIC_DESK"}
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    rows = [(r["column0"], r["column1"], r["column2"])
            for r in alma_rows(almasync, "CirculationDeskMapping")]
    assert rows == [("SELFCHECK1", "MAIN", "RESERVES_DESK"), ("SELFCHECK2", "LAW", "LAW_DESK"),
                    ("SELFCHECK1", "MUSIC", "MUSIC_DESK")]
    assert almasync.plan_json(root)["changes"] == []


def test_rollback_restores_rows_by_their_composite_key(almasync: Almasync,
                                                       config: Any) -> None:
    with almasync.emu.store.lock:  # a second row for SELFCHECK1, after the MAIN one
        almasync.emu.store.mapping_tables["CirculationDeskMapping"]["rows"].append(
            {"column0": "SELFCHECK1", "column1": "LAW", "column2": "LAW_DESK",
             "enabled": True})
    before = alma_rows(almasync, "CirculationDeskMapping")
    root = config({"m.yaml": """\
mapping_tables:
  CirculationDeskMapping:
    key: [column0, column1]
    rows:
      - {column0: SELFCHECK1, column1: MAIN, column2: RESERVES_DESK}
"""})
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    [snapshot] = (root / ".almasync" / "journals").glob("*.json")
    undo = almasync("rollback", str(snapshot), "--auto-approve")
    assert undo.exit_code == 0, undo.stderr
    # Matched by column0 alone, the saved SELFCHECK1 rows would be written over each other.
    assert alma_rows(almasync, "CirculationDeskMapping") == before


def test_validation_errors_point_at_the_row(almasync: Almasync, config: Any) -> None:
    root = config({"m.yaml": """\
mapping_tables:
  CurrencySubset:
    lang: fr
    rows:
      - {column0: USD, column1: TRUE}
      - {column1: "FALSE"}
      - {column0: EUR, column1: "X"}
      - {column0: EUR, colum1: "Y"}
  CirculationDeskMapping:
    key: [column0, row1]
    rows: []
"""})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    name, err = root / "m.yaml", result.stderr
    assert f"{name}:3:5: mapping_tables.CurrencySubset.lang: unknown field 'lang'" in err
    assert f"{name}:5:33: mapping_tables.CurrencySubset.rows.0.column1: Input should be a " \
        "valid string (got True)" in err
    assert f"{name}:6:9: mapping_tables.CurrencySubset.rows.1: missing column0, which " \
        "identifies the row (key: column0)" in err
    assert f"{name}:8:9: mapping_tables.CurrencySubset.rows.3: row EUR is declared twice in " \
        "this table (first at line 7)" in err
    assert f"{name}:8:9: mapping_tables.CurrencySubset.rows.3: Value error, unknown field " \
        "'colum1'" in err
    assert f"{name}:10:20: mapping_tables.CirculationDeskMapping.key.1: String should match " \
        "pattern" in err
    assert almasync.emu.requests == []


def test_missing_and_hidden_tables_stop_the_plan(almasync: Almasync, config: Any) -> None:
    root = config({"m.yaml": "mapping_tables:\n  CurrencySubst: {rows: []}\n"
                             "  InternalJobRouting: {rows: []}\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'm.yaml'}:2:3: mapping table 'CurrencySubst' does not exist in Alma " \
        "(error 90101)" in result.stderr
    assert "did you mean CurrencySubset?" in result.stderr
    assert f"{root / 'm.yaml'}:3:3: mapping table 'InternalJobRouting' is hidden in Alma " \
        "(error 90102)" in result.stderr


def test_refusals_are_reported_with_the_table(almasync: Almasync, config: Any) -> None:
    root = config({"m.yaml": """\
mapping_tables:
  SystemLanguages:
    rows: [{column0: de, column1: German}]
  CurrencySubset:
    scope: MAIN
    rows: [{column0: CAD, column1: "TRUE"}]
  CirculationDeskMapping:
    scope: LAW
    rows: [{column0: SELFCHECK2, column2: LAW_RESERVES}]
"""})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   ~ mapping_tables SystemLanguages" in result.stdout
    assert "failed   ~ mapping_tables CurrencySubset/scope=MAIN" in result.stdout
    assert "applied  ~ mapping_tables CirculationDeskMapping/scope=LAW" in result.stdout
    assert "Alma error 90125" in result.stderr and "SystemLanguages" in result.stderr
    assert "Alma error 90127" in result.stderr and "remove its scope" in result.stderr
    law = alma_rows(almasync, "CirculationDeskMapping", scope="LAW")
    assert law[1]["column2"] == "LAW_RESERVES"
    assert alma_rows(almasync, "CirculationDeskMapping")[1]["column2"] == "LAW_DESK"


def test_prune_is_refused(almasync: Almasync, config: Any) -> None:
    root = config({"m.yaml": CURRENCIES, "almasync.yaml": "prune:\n  mapping_tables: true\n"})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "almasync.yaml:2:3: almasync.prune.mapping_tables: Alma cannot delete" \
        in result.stderr


def test_export_round_trip_finds_a_composite_key(almasync: Almasync, tmp_path: Path) -> None:
    with almasync.emu.store.lock:  # column0 no longer tells CirculationDeskMapping's rows apart
        rows = almasync.emu.store.mapping_tables["CirculationDeskMapping"]["rows"]
        rows.append({"column0": "SELFCHECK1", "column1": "LAW", "column2": "LAW_DESK",
                     "enabled": False})
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out), "--kinds", "mapping_tables")
    assert result.exit_code == 0, result.stderr
    text = (out / "mapping_tables.yaml").read_text()
    assert "  CirculationDeskMapping:\n    key:\n    - column0\n    - column1\n" in text
    assert "column1: 'TRUE'" in text and "InternalJobRouting" not in text
    # one list and one GET per listed table: nothing per row, nothing twice
    paths = sorted(r.path for r in almasync.emu.requests if "mapping-tables" in r.path)
    assert paths == ["/almaws/v1/conf/mapping-tables"] + [
        f"/almaws/v1/conf/mapping-tables/{n}"
        for n in ("CirculationDeskMapping", "CurrencySubset", "SystemLanguages")]
    assert almasync.plan_json(out)["changes"] == []


def test_unique_key_is_the_shortest_prefix() -> None:
    rows = [{"column0": "A", "column1": "x", "column2": "1"},
            {"column0": "A", "column1": "y", "column2": "1"}]
    assert unique_key(rows) == ("column0", "column1")
    assert unique_key(rows[:1]) == ("column0",)
    assert unique_key(rows + rows) == ("column0", "column1", "column2")


def test_examples_plan_row_changes(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--target", "mapping_table")
    assert result.exit_code == 0, result.stderr
    assert '~ mapping_tables CurrencySubset\n    rows[CAD].column1: "FALSE" -> "TRUE"\n' \
        '    rows[JPY]: (absent) -> {"column1": "TRUE", "enabled": true}' in result.stdout
    assert "~ mapping_tables CirculationDeskMapping\n    rows[SELFCHECK3|MUSIC]: (absent)" \
        in result.stdout
