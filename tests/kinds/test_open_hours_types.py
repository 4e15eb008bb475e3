"""Open hours keep what the files do not manage: a scope's declared entries decide only the
record types they use (standard hours, exceptions, events), and a write carries every other
live entry back exactly as Alma gave it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from almasync.errors import ExitCode
from almasync.kinds import open_hours_entries as entries_
from almasync.kinds.open_hours import OpenHourEntry
from tests.conftest import Almasync
from tests.kinds.test_open_hours import alma_answer, alma_hours, hours_of

INSTITUTION = "01DEMO_INST"

ONLY_EXCEPTIONS = """\
open_hours:
  01DEMO_INST:
    - {type: EXCEPTION, desc: "New Year's Day", from_date: 2026-01-01, to_date: 2026-01-02,
       from_hour: "00:00", to_hour: "23:59", status: CLOSE}
    - {type: EXCEPTION, desc: Founders' day, from_date: 2026-10-12, from_hour: "00:00",
       to_hour: "23:59", status: CLOSE}
"""


def _types(entries: list[dict[str, Any]]) -> list[str]:
    return [e["type"]["value"] for e in entries]


def _put_body(almasync: Almasync, scope: str) -> list[dict[str, Any]]:
    [put] = [r for r in almasync.writes() if r.method == "PUT" and r.query.get("scope") == scope]
    entries: list[dict[str, Any]] = json.loads(put.body)["open_hour"]
    return entries


def test_declaring_only_exceptions_keeps_the_event_and_the_standard_hours(
        almasync: Almasync, config: Any) -> None:
    before = alma_hours(almasync, INSTITUTION)
    kept = [e for e in before if e["type"]["value"] in ("WEEK", "EVENT")]
    assert _types(kept) == ["WEEK"] * 7 + ["EVENT"]
    assert kept[-1]["desc"] == "End of Semester"
    root = config({"hours.yaml": ONLY_EXCEPTIONS})

    plan = almasync.plan_json(root)
    [change] = hours_of(plan).values()
    assert change["after"]["managed_types"] == ["EXCEPTION"]
    assert {d["path"] for d in change["diff"]} == {
        "open_hour[EXCEPTION 2026-01-01]", "open_hour[EXCEPTION 2026-01-01..2026-01-02]",
        "open_hour[EXCEPTION 2026-10-12]"}

    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.stdout + applied.stderr
    # One PUT, and it carried the event and every standard-hours entry exactly as read.
    assert [(r.method, r.query.get("scope")) for r in almasync.writes()] == [
        ("PUT", INSTITUTION)]
    sent = _put_body(almasync, INSTITUTION)
    assert [json.dumps(e) for e in sent if e in kept] == [json.dumps(e) for e in kept]
    after = alma_hours(almasync, INSTITUTION)
    assert [json.dumps(e) for e in after if e["type"]["value"] != "EXCEPTION"] == [
        json.dumps(e) for e in kept]
    assert sorted((e["desc"], e["from_date"], e["to_date"]) for e in after
                  if e["type"]["value"] == "EXCEPTION") == [
        ("Founders' day", "2026-10-12Z", "2026-10-12Z"),
        ("New Year's Day", "2026-01-01Z", "2026-01-02Z")]
    assert almasync.plan_json(root)["changes"] == []


def test_validity_dates_of_standard_hours_are_alma_s_unless_declared(
        almasync: Almasync, config: Any) -> None:
    undeclared = config({"hours.yaml": (
        "open_hours:\n  LAW:\n"
        "    - {type: WEEK, day: [MONDAY, TUESDAY], from_hour: '09:00', to_hour: '17:00'}\n")})
    assert almasync("apply", str(undeclared), "--auto-approve").exit_code == ExitCode.OK
    sent = _put_body(almasync, "LAW")
    assert [e["day"]["value"] for e in sent] == ["MONDAY", "TUESDAY"]
    assert not any("from_date" in e for e in sent)
    law = alma_hours(almasync, "LAW")
    assert all(e["from_date"] and e["to_date"] for e in law)  # Alma filled them in
    with almasync.emu.store.lock:  # Alma's dates move on their own: never a change
        for entry in almasync.emu.store.open_hours["LAW"]:
            entry["from_date"], entry["to_date"] = "2025-06-01Z", "2027-05-31Z"
    assert almasync.plan_json(undeclared)["changes"] == []

    declared = config({"hours.yaml": (
        "open_hours:\n  LAW:\n"
        "    - {type: WEEK, day: [MONDAY, TUESDAY], from_hour: '09:00', to_hour: '17:00',\n"
        "       from_date: 2026-09-01, to_date: 2027-06-30}\n")})
    [change] = hours_of(almasync.plan_json(declared)).values()
    diffs = {d["path"]: (d["before"], d["after"]) for d in change["diff"]}
    assert diffs["open_hour[WEEK MONDAY].from_date"] == ("2025-06-01", "2026-09-01")
    assert diffs["open_hour[WEEK TUESDAY].to_date"] == ("2027-05-31", "2027-06-30")
    assert len(diffs) == 4
    assert almasync("apply", str(declared), "--auto-approve").exit_code == ExitCode.OK
    assert {(e["from_date"], e["to_date"]) for e in alma_hours(almasync, "LAW")} == {
        ("2026-09-01Z", "2027-06-30Z")}
    assert almasync.plan_json(declared)["changes"] == []


def test_a_changed_weekday_keeps_its_dates(almasync: Almasync, config: Any) -> None:
    root = config({"hours.yaml": (
        "open_hours:\n  MAIN:\n"
        "    - {type: WEEK, desc: Long weekdays, day: [MONDAY, TUESDAY, WEDNESDAY, THURSDAY],\n"
        "       from_hour: '07:30', to_hour: '23:59'}\n"
        "    - {type: WEEK, desc: Friday and Saturday, day: [FRIDAY, SATURDAY],\n"
        "       from_hour: '09:00', to_hour: '20:00'}\n"
        "    - {type: WEEK, desc: Sunday, day: SUNDAY, from_hour: '12:00', to_hour: '18:00'}\n")})
    [change] = hours_of(almasync.plan_json(root)).values()
    assert [d["path"] for d in change["diff"]] == ["open_hour[WEEK SUNDAY]"]
    before = alma_hours(almasync, "MAIN")
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.OK
    after = alma_hours(almasync, "MAIN")
    assert after[:len(before)] == before  # unchanged entries are sent back as read
    assert after[-1]["day"]["value"] == "SUNDAY" and after[-1]["from_hour"] == "12:00"


def test_inherited_entries_are_never_written_or_compared(almasync: Almasync,
                                                         config: Any) -> None:
    assert len(alma_answer(almasync, "LAW")) == 9  # the institution's, marked inherited
    root = config({"hours.yaml": (
        "open_hours:\n  LAW:\n"
        "    - {type: EXCEPTION, desc: Exam week, from_date: 2026-05-04, to_date: 2026-05-08,\n"
        "       from_hour: '08:00', to_hour: '23:59'}\n"
        "  MUSIC: []\n")})
    [change] = hours_of(almasync.plan_json(root)).values()
    assert change["key"] == "LAW"
    assert [d["path"] for d in change["diff"]] == ["open_hour[EXCEPTION 2026-05-04..2026-05-08]"]
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.OK
    assert [e["desc"] for e in _put_body(almasync, "LAW")] == ["Exam week"]
    assert almasync.plan_json(root)["changes"] == []
    drift = almasync("drift", str(root), "--format", "json")
    assert drift.exit_code == ExitCode.OK, drift.stdout


def test_events_are_declared_with_the_code_alma_shows(almasync: Almasync,
                                                      config: Any) -> None:
    moved = config({"hours.yaml": (
        "open_hours:\n  01DEMO_INST:\n"
        "    - {type: EVENT, desc: End of Semester, from_date: 2026-12-19}\n")})
    [change] = hours_of(almasync.plan_json(moved)).values()
    assert change["after"]["managed_types"] == ["EVENT"]
    assert {d["path"] for d in change["diff"]} == {"open_hour[EVENT 2026-12-18]",
                                                   "open_hour[EVENT 2026-12-19]"}
    assert almasync("apply", str(moved), "--auto-approve").exit_code == ExitCode.OK
    entries = alma_hours(almasync, INSTITUTION)
    assert _types(entries).count("WEEK") == 7 and _types(entries).count("EXCEPTION") == 1
    [event] = [e for e in entries if e["type"]["value"] == "EVENT"]
    assert (event["desc"], event["from_date"], event["to_date"]) == (
        "End of Semester", "2026-12-19Z", "2026-12-19Z")
    assert almasync.plan_json(moved)["changes"] == []


def test_an_event_code_alma_has_not_shown_is_a_located_error(almasync: Almasync,
                                                             config: Any,
                                                             tmp_path: Path) -> None:
    with almasync.emu.store.lock:
        almasync.emu.store.open_hours_event_type = "SEMESTER_END"
    out = tmp_path / "exported"
    assert almasync("export", "--out", str(out), "--kinds", "open_hours").exit_code == 0
    text = (out / "open_hours.yaml").read_text()
    assert "type: SEMESTER_END" in text and "type: EVENT" not in text
    assert almasync.plan_json(out)["changes"] == []

    root = config({"hours.yaml": (
        "open_hours:\n  MAIN:\n"
        "    - {type: EVENT, desc: End of Semester, from_date: 2026-12-19}\n")})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'hours.yaml'}:2:3: open_hours.MAIN: type 'EVENT' is not a record type "
            "Alma shows") in result.stderr
    assert "event codes seen: SEMESTER_END" in result.stderr
    assert not almasync.writes()


def test_an_empty_list_removes_every_own_entry_events_too(almasync: Almasync,
                                                          config: Any) -> None:
    root = config({"hours.yaml": "open_hours:\n  01DEMO_INST: []\n"})
    [change] = hours_of(almasync.plan_json(root)).values()
    assert change["after"]["managed_types"] == ["ALL"]
    assert "open_hour[EVENT 2026-12-18]" in {d["path"] for d in change["diff"]}
    assert len(change["diff"]) == 9
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.OK
    assert [(r.method, r.query.get("scope")) for r in almasync.writes()] == [
        ("DELETE", INSTITUTION)]


def test_one_standard_hours_entry_per_weekday(almasync: Almasync, config: Any) -> None:
    root = config({"h.yaml": (
        "open_hours:\n  MAIN:\n"
        "    - {type: WEEK, day: [MONDAY, TUESDAY], from_hour: '09:00', to_hour: '12:00'}\n"
        "    - {type: WEEK, day: TUESDAY, from_hour: '13:00', to_hour: '17:00'}\n"
        "    - {type: WEEK, day: [FRIDAY, FRIDAY], from_hour: '09:00', to_hour: '12:00'}\n"
        "    - {type: WEEK, day: SUNDAY, from_hour: '09:00', to_hour: '12:00',"
        " from_date: 2026-01-01}\n"
        "    - {type: EVENT, desc: Graduation, from_date: 2026-06-01, from_hour: '10:00'}\n")})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    err, file = result.stderr, root / "h.yaml"
    assert (f"{file}:4:7: open_hours.MAIN[1]: TUESDAY already has standard hours at "
            f"{file}:3:7; Alma keeps one standard-hours entry per weekday") in err
    assert f"{file}:5:25: open_hours.MAIN[2].day: Value error, a weekday is named twice" in err
    assert f"{file}:6:7: open_hours.MAIN[3]: Value error, a WEEK entry takes both" in err
    assert (f"{file}:7:7: open_hours.MAIN[4]: Value error, an EVENT entry takes both "
            "from_hour and to_hour, or neither") in err


def test_manage_decides_a_type_the_scope_declares_no_entry_of(almasync: Almasync,
                                                              config: Any) -> None:
    """Removing a scope's last exception from the file: ``manage`` keeps the type decided."""
    kept = [e for e in alma_hours(almasync, INSTITUTION) if e["type"]["value"] != "EXCEPTION"]
    root = config({"hours.yaml": (
        "open_hours:\n  01DEMO_INST:\n    manage: [EXCEPTION]\n    entries: []\n")})
    [change] = hours_of(almasync.plan_json(root)).values()
    assert change["after"]["managed_types"] == ["EXCEPTION"]
    assert [d["path"] for d in change["diff"]] == ["open_hour[EXCEPTION 2026-01-01]"]
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.OK
    assert [(r.method, r.query.get("scope")) for r in almasync.writes()] == [
        ("PUT", INSTITUTION)]
    assert [json.dumps(e) for e in alma_hours(almasync, INSTITUTION)] == [
        json.dumps(e) for e in kept]
    assert almasync.plan_json(root)["changes"] == []


def test_declaring_what_alma_holds_writes_back_every_entry_as_read(almasync: Almasync) -> None:
    """The no-op write: for every scope the emulator serves, the exported entries declared
    back build a write body equal to the scope's own live list, entry for entry."""
    with almasync.emu.store.lock:
        almasync.emu.store.open_hours["LAW"] = [
            {"type": "EVENT", "desc": "Moot court", "from_date": "2026-03-02Z",
             "to_date": "2026-03-03Z", "from_hour": "09:00", "to_hour": "12:00"}]
    scopes = [INSTITUTION, *sorted(almasync.emu.store.libraries)]
    for scope in scopes:
        answer = {"open_hour": alma_answer(almasync, scope)}
        own = [e for e in answer["open_hour"] if not e["inherited"]]
        records = [record for entry in entries_.exported(entries_.own_entries(answer))
                   for record in entries_.declared_records(
                       OpenHourEntry.model_validate(entry).model_dump(mode="json"))]
        managed = entries_.managed_types(records)
        assert entries_.write_list(answer, records, managed) == own, scope
        assert entries_.comparable(records, entries_.own_entries(answer), managed)[0] == \
            entries_.comparable(records, entries_.own_entries(answer), managed)[1], scope


def test_rollback_of_an_exceptions_only_write(almasync: Almasync, config: Any) -> None:
    before = alma_hours(almasync, INSTITUTION)
    root = config({"hours.yaml": ONLY_EXCEPTIONS})
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.stderr
    snap = applied.stderr.split("Snapshot of the previous state: ")[1].split(" ")[0]
    undone = almasync("rollback", snap, "--auto-approve")
    assert undone.exit_code == ExitCode.OK, undone.stdout + undone.stderr
    after = alma_hours(almasync, INSTITUTION)
    assert sorted(json.dumps(e) for e in after) == sorted(json.dumps(e) for e in before)
    [_, restore] = [r for r in almasync.writes() if r.method == "PUT"]
    restored = json.loads(restore.body)["open_hour"]
    assert [e for e in restored if e["type"]["value"] != "EXCEPTION"] == [
        e for e in before if e["type"]["value"] != "EXCEPTION"]
