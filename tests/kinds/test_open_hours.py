"""Open hours end to end: the CLI against the emulator over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from almasync.errors import ExitCode
from almasync.kinds.open_hours import own_entries
from almasync.plan.plan import Plan, changes_from, file_digest
from tests.conftest import EXAMPLES, Almasync

# The demo's MAIN list, written in another order (and days in another order) than Alma's.
MAIN_AS_LIVE = """\
  MAIN:
    - {type: EXCEPTION, desc: Winter closure, from_date: 2026-12-24, to_date: 2026-12-26,
       from_hour: "00:00", to_hour: "23:59", status: CLOSE}
    - {type: WEEK, desc: Friday and Saturday, day: [SATURDAY, FRIDAY], from_hour: "09:00",
       to_hour: "20:00", status: OPEN}
    - {type: WEEK, desc: Long weekdays, day: [MONDAY, TUESDAY, WEDNESDAY, THURSDAY],
       from_hour: "07:30", to_hour: "23:59"}
"""

CHANGES = """\
open_hours:
  MAIN:
    - {type: WEEK, desc: Long weekdays, day: [MONDAY, TUESDAY, WEDNESDAY, THURSDAY],
       from_hour: "07:30", to_hour: "23:59", status: OPEN}
    - {type: WEEK, desc: Friday and Saturday, day: [FRIDAY, SATURDAY], from_hour: "09:00",
       to_hour: "21:00", status: OPEN}
    - {type: EXCEPTION, desc: Winter closure, from_date: 2026-12-24, to_date: 2027-01-01,
       from_hour: "00:00", to_hour: "23:59", status: CLOSE}
  LAW:
    - {type: EXCEPTION, desc: Exam week, from_date: 2026-05-04, to_date: 2026-05-08,
       from_hour: "08:00", to_hour: "23:59", status: OPEN}
    - {type: EXCEPTION, desc: Staff day, from_date: 2026-05-11, from_hour: "00:00",
       to_hour: "23:59", status: CLOSE}
"""



def hours_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in data["changes"] if c["kind"] == "open_hours"}


def alma_answer(almasync: Almasync, scope: str) -> list[dict[str, Any]]:
    """The scope's whole answer, inherited entries included."""
    response = requests.get(f"{almasync.emu.base_url}/almaws/v1/conf/open-hours",
                            params={"scope": scope},
                            headers={"Authorization": f"apikey {almasync.key}",
                                     "Accept": "application/json"}, timeout=5)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json().get("open_hour", [])
    return entries


def alma_hours(almasync: Almasync, scope: str) -> list[dict[str, Any]]:
    """The scope's own entries as Alma prints them."""
    return [e for e in alma_answer(almasync, scope) if not e["inherited"]]


def give_law_hours(almasync: Almasync) -> None:
    with almasync.emu.store.lock:
        almasync.emu.store.open_hours["LAW"] = [
            {"type": "WEEK", "day": "MONDAY", "from_hour": "09:00", "to_hour": "17:00",
             "status": "OPEN", "desc": "Mondays only", "from_date": "2026-01-01Z",
             "to_date": "2028-12-31Z"}]


def test_plan_shows_entry_level_changes(almasync: Almasync, config: Any) -> None:
    data = almasync.plan_json(config({"hours.yaml": CHANGES}))
    assert data["summary"] == {"create": 0, "update": 2, "delete": 0}
    changes = hours_of(data)
    main = {d["path"]: (d["before"], d["after"]) for d in changes["MAIN"]["diff"]}
    assert main["open_hour[WEEK FRIDAY].to_hour"] == ("20:00", "21:00")
    assert main["open_hour[WEEK SATURDAY].to_hour"] == ("20:00", "21:00")
    closure = {"desc": "Winter closure", "from_hour": "00:00", "to_hour": "23:59",
               "status": "CLOSE"}
    assert main["open_hour[EXCEPTION 2026-12-24..2026-12-26]"][0] == closure
    assert main["open_hour[EXCEPTION 2026-12-24..2027-01-01]"][1] == closure
    assert len(main) == 4
    assert changes["MAIN"]["after"]["managed_types"] == ["EXCEPTION", "WEEK"]
    assert changes["LAW"]["after"]["managed_types"] == ["EXCEPTION"]
    law = [d["path"] for d in changes["LAW"]["diff"]]
    assert law == ["open_hour[EXCEPTION 2026-05-04..2026-05-08]",
                   "open_hour[EXCEPTION 2026-05-11]"]
    text = almasync("plan", str(config({"hours.yaml": CHANGES})))
    assert '~ open_hours MAIN\n    open_hour[EXCEPTION 2026-12-24..2026-12-26]:' in text.stdout
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_order_of_entries_and_days_does_not_matter(almasync: Almasync, config: Any) -> None:
    root = config({"hours.yaml": "open_hours:\n" + MAIN_AS_LIVE})
    assert almasync.plan_json(root)["changes"] == []


def test_apply_puts_the_whole_list_then_plan_is_empty(almasync: Almasync,
                                                      config: Any) -> None:
    root = config({"hours.yaml": CHANGES})
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply: 2 applied, 0 failed, 0 skipped." in applied.stdout
    writes = [(r.method, r.path, r.query.get("scope")) for r in almasync.writes()]
    assert sorted(writes) == [("PUT", "/almaws/v1/conf/open-hours", "LAW"),
                              ("PUT", "/almaws/v1/conf/open-hours", "MAIN")]
    main = alma_hours(almasync, "MAIN")
    assert len(main) == 7
    closure = next(e for e in main if e["type"]["value"] == "EXCEPTION")
    assert (closure["from_date"], closure["to_date"]) == ("2026-12-24Z", "2027-01-01Z")
    friday = next(e for e in main if e.get("day", {}).get("value") == "FRIDAY")
    # Hours as declared; the validity dates the file leaves out stay Alma's.
    assert (friday["to_hour"], friday["from_date"], friday["to_date"]) == (
        "21:00", "2026-01-01Z", "2028-12-31Z")
    staff_day = alma_hours(almasync, "LAW")[1]
    assert staff_day["to_date"] == "2026-05-11Z"
    law_put = next(r for r in almasync.writes() if r.query.get("scope") == "LAW")
    assert b"inherited" not in law_put.body
    assert almasync.plan_json(root)["changes"] == []
    assert len(alma_hours(almasync, "01DEMO_INST")) == 9


def test_empty_list_removes_a_librarys_own_hours(almasync: Almasync, config: Any) -> None:
    root = config({"hours.yaml": "open_hours:\n  LAW: []\n  MUSIC: []\n"})
    assert almasync.plan_json(root)["changes"] == []
    give_law_hours(almasync)
    data = almasync.plan_json(root)
    assert [c["key"] for c in data["changes"]] == ["LAW"]
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    assert [(r.method, r.query.get("scope")) for r in almasync.writes()] == [("DELETE", "LAW")]
    assert alma_hours(almasync, "LAW") == []
    assert almasync.plan_json(root)["changes"] == []


def test_unknown_scope_is_a_config_error(almasync: Almasync, config: Any) -> None:
    root = config({"hours.yaml": "open_hours:\n  MAIN: []\n  NOPE:\n"
                                 "    - {type: WEEK, day: [MONDAY], from_hour: '09:00', "
                                 "to_hour: '17:00'}\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'hours.yaml'}:3:3: open_hours scope 'NOPE' is neither the institution "
            "(01DEMO_INST) nor a library of it (libraries: LAW, MAIN, MUSIC)") in result.stderr
    assert not almasync.writes()


def test_entry_errors_point_at_the_entry(almasync: Almasync, config: Any) -> None:
    root = config({"h.yaml": (
        "open_hours:\n"
        "  MAIN:\n"
        "    - {type: WEEK, from_hour: '09:00', to_hour: '17:00'}\n"
        "    - {type: EXCEPTION, from_date: 2026-01-02, day: [MONDAY], from_hour: '09:00',"
        " to_hour: '17:00'}\n"
        "    - type: WEEK\n"
        "      day: [MONDAY, FUNDAY]\n"
        "      from_hour: 7:30\n"
        "      to_hour: '17:00'\n"
        "    - {type: EXCEPTION, from_date: '2026-W52-4', from_hour: '09:00', to_hour: '17:00'}\n"
        "    - {type: EXCEPTION, from_date: 2026-01-02, from_hour: '09:00', to_hour: '17:00'}\n"
        "    - {type: EXCEPTION, from_date: 2026-01-02, to_date: 2026-01-02, from_hour: '09:00',"
        " to_hour: '17:00', status: OPEN}\n"
        "  LAW: {type: WEEK}\n")})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    err, file = result.stderr, root / "h.yaml"
    assert f"{file}:3:7: open_hours.MAIN[0]: Value error, a WEEK entry takes day" in err
    assert f"{file}:4:7: open_hours.MAIN[1]: Value error, an EXCEPTION entry takes from_date"\
        in err
    assert f"{file}:6:21: open_hours.MAIN[2].day.1: Input should be 'MONDAY'" in err
    assert f"{file}:6:12: open_hours.MAIN[2].day: Input should be" not in err
    assert f"{file}:7:18: open_hours.MAIN[2].from_hour: Value error, expected a time as HH:MM"\
        in err
    assert f"{file}:9:36: open_hours.MAIN[3].from_date: Value error, expected a date" in err
    assert (f"{file}:11:7: open_hours.MAIN[5]: the same entry as open_hours.MAIN[4] at "
            f"{file}:10:7") in err
    assert (f"{file}:12:9: open_hours.LAW.type: unknown key; a scope holds a list of entries, "
            "or a mapping with manage (types) and entries") in err


def test_prune_removes_library_hours_never_the_institutions(almasync: Almasync,
                                                            config: Any) -> None:
    give_law_hours(almasync)
    root = config({"hours.yaml": "open_hours:\n" + MAIN_AS_LIVE,
                   "almasync.yaml": "prune:\n  open_hours: true\n"})
    data = almasync.plan_json(root)
    assert [(c["action"], c["key"]) for c in data["changes"]] == [("delete", "LAW")]
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    assert [(r.method, r.query.get("scope")) for r in almasync.writes()] == [("DELETE", "LAW")]
    assert len(alma_hours(almasync, "01DEMO_INST")) == 9
    assert almasync.plan_json(root)["changes"] == []
    drift = almasync("drift", str(root), "--include-unmanaged", "--format", "json")
    assert not [c for c in json.loads(drift.stdout)["changes"] if c["kind"] == "open_hours"]


def test_prune_list_names_libraries(almasync: Almasync, config: Any) -> None:
    give_law_hours(almasync)
    root = config({"almasync.yaml": "prune:\n  open_hours: [MAIN, 01DEMO_INST]\n"})
    data = almasync.plan_json(root)
    assert [(c["action"], c["key"]) for c in data["changes"]] == [("delete", "MAIN")]


def test_without_prune_undeclared_scopes_stay(almasync: Almasync, config: Any) -> None:
    give_law_hours(almasync)
    root = config({"hours.yaml": "open_hours:\n" + MAIN_AS_LIVE})
    assert almasync.plan_json(root)["changes"] == []


def test_alma_refusal_fails_the_change(almasync: Almasync, config: Any,
                                       tmp_path: Path) -> None:
    """A saved plan is applied as written; what Alma refuses in it fails that change."""
    root = config({"hours.yaml": CHANGES})
    saved = tmp_path / "plan.json"
    assert almasync("plan", str(root), "--out", str(saved)).exit_code == 0
    plan = json.loads(saved.read_text())
    law = next(c for c in plan["changes"] if c["key"] == "LAW")
    law["after"]["open_hour"][0]["to_hour"] = "25:00"
    # Sealed again: the file stands for a plan Alma refuses, not for an edited one.
    plan["digest"] = Plan(changes_from(plan["changes"])).digest
    plan["file_digest"] = file_digest({k: v for k, v in plan.items() if k != "file_digest"})
    saved.write_text(json.dumps(plan))
    result = almasync("apply", str(saved), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   ~ open_hours LAW" in result.stdout
    assert "applied  ~ open_hours MAIN" in result.stdout
    assert "PUT /conf/open-hours: Alma error 402119" in result.stderr
    assert alma_hours(almasync, "LAW") == []


def test_export_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    give_law_hours(almasync)
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out), "--kinds", "open_hours")
    assert result.exit_code == 0, result.stderr
    text = (out / "open_hours.yaml").read_text()
    assert "01DEMO_INST:" in text and "LAW:" in text and "MUSIC" not in text
    assert "inherited" not in text
    assert almasync.plan_json(out)["changes"] == []


def test_drift_reports_changed_hours(almasync: Almasync, config: Any) -> None:
    root = config({"hours.yaml": CHANGES})
    result = almasync("drift", str(root), "--include-unmanaged")
    assert result.exit_code == ExitCode.CHANGES
    assert "open_hour[WEEK FRIDAY].to_hour: \"20:00\" -> \"21:00\"" in result.stdout
    assert "? open_hours 01DEMO_INST" in result.stdout
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_example_plans_a_change(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--format", "json", "--target", "open_hours")
    assert result.exit_code == 0, result.stderr
    keys = {c["key"] for c in json.loads(result.stdout)["changes"]}
    assert keys == {"MAIN", "LAW"}


def test_schema_covers_open_hours(almasync: Almasync, tmp_path: Path) -> None:
    assert almasync("schema", "--out", str(tmp_path)).exit_code == 0
    schema = json.loads((tmp_path / "almasync-resources.schema.json").read_text())
    listed, mapping = schema["properties"]["open_hours"]["additionalProperties"]["anyOf"]
    assert set(mapping["properties"]) == {"manage", "entries"}
    entries = listed
    assert entries["type"] == "array"
    entry = schema["$defs"][entries["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(entry["required"]) == {"type"}
    assert entry["properties"]["day"]["anyOf"][0]["enum"][0] == "MONDAY"
    assert entry["additionalProperties"] is False


def test_inherited_entries_are_not_the_scopes_own() -> None:
    """The shape of a library's answer seen from Alma (FACTS 2.6), with one inherited entry."""
    body = {"open_hour": [
        {"type": {"value": "EXCEPTION", "desc": "Exception"}, "inherited": False,
         "desc": "test_exception", "from_date": "2024-05-01Z", "to_date": "2024-05-04Z",
         "from_hour": "00:00", "to_hour": "23:59", "status": {"value": "CLOSE", "desc": "Closed"}},
        {"type": {"value": "WEEK", "desc": "Week"}, "inherited": True, "desc": "",
         "day": [{"value": "MONDAY", "desc": "Monday"}], "from_hour": "08:00",
         "to_hour": "17:00", "status": {"value": "OPEN", "desc": "Open"}}]}
    assert own_entries(body) == [{"type": "EXCEPTION", "status": "CLOSE",
                                  "desc": "test_exception", "from_hour": "00:00",
                                  "to_hour": "23:59", "from_date": "2024-05-01",
                                  "to_date": "2024-05-04"}]
    inherited = {**body["open_hour"][1], "inherited": "false"}
    assert own_entries({"open_hour": [inherited]})[0]["day"] == "MONDAY"
    assert own_entries({}) == []
    single = own_entries({"open_hour": body["open_hour"][0]})
    assert [e["desc"] for e in single] == ["test_exception"]


def test_scope_declared_in_two_files(almasync: Almasync, config: Any) -> None:
    root = config({"a.yaml": "open_hours:\n" + MAIN_AS_LIVE,
                   "b.yaml": "open_hours:\n  LAW: []\n  MAIN: []\n"})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'b.yaml'}:3:3: open_hours.MAIN: declared twice; first declared at "
            f"{root / 'a.yaml'}:2:3") in result.stderr


def test_rollback_puts_the_old_list_back(almasync: Almasync, config: Any) -> None:
    give_law_hours(almasync)
    root = config({"hours.yaml": CHANGES, "almasync.yaml": "prune:\n  open_hours: [LAW]\n"})
    before = {scope: alma_hours(almasync, scope) for scope in ("MAIN", "LAW")}
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    snap = applied.stderr.split("Journal of this run: ")[1].split(" ")[0]
    undone = almasync("rollback", snap, "--auto-approve")
    assert undone.exit_code == 0, undone.stderr
    assert {scope: alma_hours(almasync, scope) for scope in ("MAIN", "LAW")} == before
