"""Code tables end to end: the CLI against the emulator over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from almasync.errors import ExitCode
from tests.conftest import EXAMPLES, Almasync

USER_GROUPS = """\
code_tables:
  UserGroups:
    rows:
      - {code: STAFF, description: Library staff, enabled: true}
      - {code: FACULTY, description: Faculty, default: true}
      - {code: PHD, description: Doctoral student}
"""



def alma_get(almasync: Almasync, path: str, **params: str) -> Any:
    """A table exactly as Alma serves it (the raw JSON text, parsed)."""
    response = requests.get(f"{almasync.emu.base_url}/almaws/v1{path}", params=params,
                            headers={"Authorization": f"apikey {almasync.key}",
                                     "Accept": "application/json"}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def rows_by_code(table: dict[str, Any]) -> dict[str, Any]:
    return {row["code"]: row for row in table.get("row", [])}


def test_plan_lists_changed_rows_field_by_field(almasync: Almasync, config: Any) -> None:
    data = almasync.plan_json(config({"t.yaml": USER_GROUPS}))
    assert data["summary"] == {"create": 0, "update": 1, "delete": 0}
    change = data["changes"][0]
    assert (change["kind"], change["key"]) == ("code_table", "UserGroups")
    paths = {d["path"]: (d["before"], d["after"]) for d in change["diff"]}
    assert paths["rows[STAFF].description"] == ("Staff", "Library staff")
    assert paths["rows[FACULTY].default"] == (False, True)
    # the live default row is not declared, but moving the default changes it: shown
    assert paths["rows[GRAD].default"] == (True, False)
    assert set(paths) == {"rows[STAFF].description", "rows[FACULTY].default",
                          "rows[GRAD].default", "rows[PHD]"}
    assert "absent" in change["diff"][[d["path"] for d in change["diff"]].index("rows[PHD]")]
    # before and after are one form, the declared one: the live rows the file names (and
    # the default row a write would change), each with its code and the compared fields
    assert change["after"]["rows"][0] == {"code": "STAFF", "description": "Library staff",
                                          "enabled": True}
    assert sorted(change["before"]["rows"], key=lambda row: row["code"]) == [
        {"code": "FACULTY", "default": False, "description": "Faculty"},
        {"code": "GRAD", "default": True},
        {"code": "STAFF", "description": "Staff", "enabled": True}]
    text = almasync("plan", str(config({"t.yaml": USER_GROUPS}))).stdout
    assert "~ code_tables UserGroups\n" in text
    assert '    rows[STAFF].description: "Staff" -> "Library staff"' in text
    assert "UNDERGRAD" not in text
    assert almasync.writes() == []


def test_apply_is_one_put_that_keeps_undeclared_rows_exactly(almasync: Almasync,
                                                             config: Any) -> None:
    before = rows_by_code(alma_get(almasync, "/conf/code-tables/UserGroups"))
    result = almasync("apply", str(config({"t.yaml": USER_GROUPS})), "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert "applied  ~ code_tables UserGroups" in result.stdout
    writes = almasync.writes()
    assert [(w.method, w.path) for w in writes] == [
        ("PUT", "/almaws/v1/conf/code-tables/UserGroups")]
    after_table = alma_get(almasync, "/conf/code-tables/UserGroups")
    after = rows_by_code(after_table)
    assert json.dumps(after["UNDERGRAD"]) == json.dumps(before["UNDERGRAD"])
    assert list(after) == ["STAFF", "GRAD", "UNDERGRAD", "FACULTY", "PHD"]
    assert after["STAFF"] == {**before["STAFF"], "description": "Library staff"}
    assert after["FACULTY"]["default"] is True and after["GRAD"]["default"] is False
    assert after["PHD"] == {"code": "PHD", "description": "Doctoral student",
                            "default": False, "enabled": True}
    # the French translations of untouched rows survive the English PUT
    french = rows_by_code(alma_get(almasync, "/conf/code-tables/UserGroups", lang="fr"))
    assert french["STAFF"]["description"] == "Personnel"


def test_second_plan_after_apply_is_empty(almasync: Almasync, config: Any) -> None:
    root = config({"t.yaml": USER_GROUPS})
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    assert almasync.plan_json(root)["changes"] == []
    assert almasync("plan", str(root), "--detailed-exitcode").exit_code == ExitCode.OK


def test_two_default_rows_and_other_shape_errors(almasync: Almasync, config: Any) -> None:
    root = config({"t.yaml": """\
code_tables:
  UserGroups:
    - rows:
        - {code: STAFF, default: true}
        - {code: GRAD, default: true}
        - {code: STAFF, description: again}
        - {code: 7, colour: red}
    - lang: fr
      rows:
        - {code: GRAD, description: Diplômé, enabled: false}
  ItemPolicy:
    scope: ""
"""})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    name = root / "t.yaml"
    err = result.stderr
    assert f"{name}:5:24: code_tables.UserGroups[0].rows.1: rows STAFF and GRAD are both " \
        "default: true" in err
    assert f"{name}:6:11: code_tables.UserGroups[0].rows.2: row STAFF is declared twice " \
        "in this table (first at line 4)" in err
    assert f"{name}:7:18: code_tables.UserGroups[0].rows.3.code: Input should be a valid " \
        "string" in err
    assert f"{name}:7:21: code_tables.UserGroups[0].rows.3.colour: unknown field" in err
    assert f"{name}:10:46: code_tables.UserGroups[1].rows.0.enabled: a translation (lang: " \
        "fr) sets descriptions only" in err
    assert f"{name}:12:12: code_tables.ItemPolicy.scope: String should have at least 1 " \
        "character" in err
    assert f"{name}:11:3: code_tables.ItemPolicy.rows: missing required field 'rows'" in err
    assert almasync.emu.requests == []


def test_declared_twice_across_files_names_both_places(almasync: Almasync,
                                                        config: Any) -> None:
    table = "code_tables:\n  ItemPolicy:\n    scope: LAW\n    rows: []\n"
    root = config({"a.yaml": table, "b.yaml": table,
                   "c.yaml": "code_tables:\n  ItemPolicy: {rows: []}\n"})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'b.yaml'}:2:3: code_tables.ItemPolicy: declared twice; first declared " \
        f"at {root / 'a.yaml'}:2:3" in result.stderr
    assert "c.yaml" not in result.stderr  # another scope is another declaration


def test_missing_or_hidden_table_stops_the_plan(almasync: Almasync, config: Any) -> None:
    root = config({"t.yaml": "code_tables:\n  usergroups: {rows: []}\n"
                             "  InternalIndexingParameters: {rows: []}\n"
                             "  ItemPolicy: {scope: NOWHERE, rows: []}\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 't.yaml'}:4:16: code table ItemPolicy: scope 'NOWHERE' is not a " \
        "library in Alma (libraries: LAW, MAIN, MUSIC)" in result.stderr
    fixed = config({"t.yaml": "code_tables:\n  usergroups: {rows: []}\n"
                              "  InternalIndexingParameters: {rows: []}\n"})
    result = almasync("plan", str(fixed))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{fixed / 't.yaml'}:2:3: code table 'usergroups' does not exist in Alma (error " \
        "90101)" in result.stderr
    assert "did you mean UserGroups?" in result.stderr
    assert f"{fixed / 't.yaml'}:3:3: code table 'InternalIndexingParameters' is hidden in " \
        "Alma (error 90102)" in result.stderr
    assert almasync.writes() == []


def test_alma_refusals_fail_the_change_and_name_the_table(almasync: Almasync,
                                                          config: Any) -> None:
    root = config({"t.yaml": """\
code_tables:
  systemJobStatus:
    rows: [{code: QUEUED, description: Waiting}]
  UserGroups:
    - scope: MAIN
      rows: [{code: STAFF, description: Main staff}]
    - rows: [{code: STAFF, description: Library staff}]
"""})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   ~ code_tables systemJobStatus" in result.stdout
    assert "failed   ~ code_tables UserGroups/scope=MAIN" in result.stdout
    assert "applied  ~ code_tables UserGroups" in result.stdout
    assert "Alma error 90123" in result.stderr and "systemJobStatus" in result.stderr
    assert "Only customisable tables can be changed" in result.stderr
    assert "Alma error 90121" in result.stderr and "remove its scope" in result.stderr
    assert almasync.emu.api_key not in result.stdout + result.stderr


def test_library_scope_customises_one_library(almasync: Almasync, config: Any) -> None:
    root = config({"t.yaml": """\
code_tables:
  ItemPolicy:
    - scope: LAW
      rows: [{code: TWO_HOURS, description: Two hour loan}]
    - scope: MAIN
      rows: [{code: ONE_WEEK, description: Seven day loan}]
"""})
    data = almasync.plan_json(root)
    keys = [c["key"] for c in data["changes"]]
    assert keys == ["ItemPolicy/scope=LAW", "ItemPolicy/scope=MAIN"]
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    law = rows_by_code(alma_get(almasync, "/conf/code-tables/ItemPolicy", scope="LAW"))
    assert law["TWO_HOURS"]["description"] == "Two hour loan" and "FOUR_WEEKS" in law
    main = alma_get(almasync, "/conf/code-tables/ItemPolicy", scope="MAIN")
    assert main["scope"]["library_id"]["value"] == "MAIN"
    assert rows_by_code(main)["ONE_WEEK"]["description"] == "Seven day loan"
    institution = rows_by_code(alma_get(almasync, "/conf/code-tables/ItemPolicy"))
    assert institution["ONE_WEEK"]["description"] == "1 week loan"
    assert almasync.plan_json(root)["changes"] == []


def test_translation_changes_one_language(almasync: Almasync, config: Any) -> None:
    root = config({"t.yaml": """\
code_tables:
  UserGroups:
    - rows: [{code: PHD, description: Doctoral student}]
    - lang: fr
      rows:
        - {code: STAFF, description: Personnel de la bibliothèque}
        - {code: PHD, description: Doctorant}
"""})
    data = almasync.plan_json(root)
    assert [c["key"] for c in data["changes"]] == ["UserGroups", "UserGroups/lang=fr"]
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    french = rows_by_code(alma_get(almasync, "/conf/code-tables/UserGroups", lang="fr"))
    assert french["STAFF"]["description"] == "Personnel de la bibliothèque"
    assert french["PHD"]["description"] == "Doctorant"
    assert french["GRAD"]["description"] == "Étudiant de cycle supérieur"
    english = rows_by_code(alma_get(almasync, "/conf/code-tables/UserGroups"))
    assert english["STAFF"]["description"] == "Staff"
    assert english["PHD"]["description"] == "Doctoral student"
    assert almasync.plan_json(root)["changes"] == []


def test_translation_of_an_unknown_row_is_a_config_error(almasync: Almasync,
                                                         config: Any) -> None:
    root = config({"t.yaml": "code_tables:\n  UserGroups:\n    lang: fr\n"
                             "    rows: [{code: NOSUCH, description: Rien}]\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 't.yaml'}:2:3: code table UserGroups in language fr: no row NOSUCH" \
        in result.stderr


def test_prune_is_refused_and_undeclared_rows_stay(almasync: Almasync, config: Any) -> None:
    files = {"t.yaml": "code_tables:\n  UserGroups:\n    rows: [{code: STAFF}]\n"}
    assert almasync.plan_json(config(files))["changes"] == []
    root = config({**files, "almasync.yaml": "prune:\n  code_tables: [UserGroups]\n"})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'almasync.yaml'}:2:3: almasync.prune.code_tables: Alma cannot delete "
            "code_tables, so prune does not apply") in result.stderr
    assert almasync("plan", str(root)).exit_code == ExitCode.INVALID_CONFIG
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.INVALID_CONFIG
    assert almasync.writes() == []


def test_export_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    with almasync.emu.store.lock:  # a disabled row must be exported like any other
        almasync.emu.store.code_tables["UserGroups"]["rows"][2]["enabled"] = False
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out), "--kinds", "code_tables")
    assert result.exit_code == 0, result.stderr
    text = (out / "code_tables.yaml").read_text()
    assert "InternalIndexingParameters" not in text  # hidden: Alma does not list it
    for name in ("UserGroups", "ItemPolicy", "systemJobStatus", "ReminderTypes"):
        assert f"  {name}:\n" in text
    assert "- code: UNDERGRAD\n      description: Undergraduate student\n" \
           "      enabled: false\n" in text
    paths = [r.path for r in almasync.emu.requests]
    assert paths.count("/almaws/v1/conf/code-tables") == 1
    assert paths.count("/almaws/v1/conf/code-tables/UserGroups") == 1
    assert almasync.plan_json(out)["changes"] == []


def test_drift_names_changed_rows(almasync: Almasync, config: Any) -> None:
    root = config({"t.yaml": "code_tables:\n  UserGroups:\n"
                             "    rows: [{code: GRAD, description: Graduate student}]\n"})
    assert almasync("drift", str(root)).exit_code == ExitCode.OK
    with almasync.emu.store.lock:
        almasync.emu.store.code_tables["UserGroups"]["rows"][1]["description"] = "Grads"
    result = almasync("drift", str(root), "--include-unmanaged")
    assert result.exit_code == ExitCode.CHANGES
    assert 'rows[GRAD].description: "Grads" -> "Graduate student"' in result.stdout
    assert "? code_tables ItemPolicy" in result.stdout


def test_saved_plan_applies_and_targets_one_declaration(almasync: Almasync, config: Any,
                                                        tmp_path: Path) -> None:
    root = config({"t.yaml": USER_GROUPS + "  ItemPolicy:\n    scope: LAW\n"
                                           "    rows: [{code: TWO_HOURS, description: 2h}]\n"})
    saved = tmp_path / "plan.json"
    result = almasync("plan", str(root), "--out", str(saved), "--target",
                      "code_table:ItemPolicy/scope=LAW")
    assert result.exit_code == 0, result.stderr
    assert [c["key"] for c in json.loads(saved.read_text())["changes"]] == [
        "ItemPolicy/scope=LAW"]
    with almasync.emu.store.lock:  # an undeclared row changing does not make it stale
        almasync.emu.store.code_tables["ItemPolicy"]["scopes"]["LAW"]["rows"][1][
            "description"] = "Four weeks"
    applied = almasync("apply", str(saved), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    law = rows_by_code(alma_get(almasync, "/conf/code-tables/ItemPolicy", scope="LAW"))
    assert law["TWO_HOURS"]["description"] == "2h"
    assert law["FOUR_WEEKS"]["description"] == "Four weeks"


def test_schema_covers_code_tables(almasync: Almasync, tmp_path: Path) -> None:
    assert almasync("schema", "--out", str(tmp_path)).exit_code == 0
    schema = json.loads((tmp_path / "almasync-resources.schema.json").read_text())
    tables = schema["properties"]["code_tables"]["additionalProperties"]["anyOf"]
    assert tables[0] == {"$ref": "#/$defs/CodeTableFields"}
    assert tables[1]["items"] == tables[0]
    fields = schema["$defs"]["CodeTableFields"]
    assert fields["required"] == ["rows"] and set(fields["properties"]) == {
        "scope", "lang", "rows"}
    assert schema["$defs"]["CodeRow"]["required"] == ["code"]


def test_examples_plan_row_changes(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--target", "code_table")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert '~ code_tables UserGroups\n    rows[PHD]: (absent) -> {"description": "Doctoral ' \
        'student", "enabled": true}\n    rows[STAFF].description: "Staff" -> "Library ' \
        'staff"' in out
    assert "~ code_tables ItemPolicy/scope=LAW\n    rows[OVERNIGHT]: (absent)" in out
    assert '~ code_tables UserGroups/lang=fr\n    rows[PHD]: (absent) -> {"description": ' \
        '"Doctorant"}' in out


def test_translation_waits_for_its_table(almasync: Almasync, config: Any) -> None:
    root = config({"t.yaml": """\
code_tables:
  systemJobStatus:
    - rows: [{code: QUEUED, description: Waiting}]
    - lang: fr
      rows: [{code: QUEUED, description: En attente}]
"""})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   ~ code_tables systemJobStatus\n" in result.stdout
    assert "skipped  ~ code_tables systemJobStatus/lang=fr" in result.stdout
    assert almasync.writes()[-1].path == "/almaws/v1/conf/code-tables/systemJobStatus"
    assert len(almasync.writes()) == 1
