"""Reminders end to end: the CLI against the emulator over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from almasync.emulator import Emulator
from almasync.emulator.seed import builtin_seed
from almasync.errors import ExitCode
from tests.conftest import EXAMPLES, Almasync

# The demo seed holds one reminder on each of 991234, 991235 and 991236.
DEMO_991234 = """\
  - {entity_type: BIB_MMS, entity_id: "991234", type: GENERAL, status: NEW,
     text: Check renewal, reminder_date: 2026-12-01}
"""

CHANGES = """\
reminders:
  - {entity_type: BIB_MMS, entity_id: "991234", type: GENERAL, status: IN_PROGRESS,
     text: Check renewal, reminder_date: 2026-12-01}
  - entity_id: "991235"
    type: RENEWAL
    text: Renew standing order
    reminder_date: "2026-07-31Z"
  - {entity_id: "991235", type: REVIEW, status: NEW, text: Review subscription cost,
     reminder_date: 2027-01-15}
"""



def by_key(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["key"]: c for c in data["changes"] if c["kind"] == "reminder"}


def alma_get(almasync: Almasync, path: str, **params: str) -> Any:
    response = requests.get(f"{almasync.emu.base_url}/almaws/v1{path}", params=params,
                            headers={"Authorization": f"apikey {almasync.key}",
                                     "Accept": "application/json"}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def add_reminders(almasync: Almasync, entity_id: str, count: int, **fields: str) -> None:
    """Put reminders straight into the emulated institution (dates spread over years)."""
    store = almasync.emu.store
    with store.lock:
        for n in range(count):
            rid = store.new_id()
            store.reminders[rid] = {
                "id": rid, "entity_type": "BIB_MMS", "entity_id": entity_id,
                "entity_description": "", "type": "GENERAL", "status": "NEW",
                "text": f"Note {n:03d}", "reminder_date": f"{2001 + n % 40}-03-0{1 + n % 9}Z",
                **fields}


def test_plan_shows_field_level_changes(almasync: Almasync, config: Any) -> None:
    data = almasync.plan_json(config({"reminders.yaml": CHANGES}))
    changes = by_key(data)
    assert data["summary"] == {"create": 1, "update": 2, "delete": 0}
    status = changes["BIB_MMS/991234/GENERAL/Check renewal"]
    assert status["diff"] == [{"path": "status", "before": "NEW", "after": "IN_PROGRESS",
                               "absent": []}]
    date = changes["BIB_MMS/991235/RENEWAL/Renew standing order"]
    assert date["diff"] == [{"path": "reminder_date", "before": "2026-06-30",
                             "after": "2026-07-31", "absent": []}]
    created = changes["BIB_MMS/991235/REVIEW/Review subscription cost"]
    assert created["action"] == "create"
    assert created["after"] == {"status": "NEW", "reminder_date": "2027-01-15"}
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_unquoted_date_equals_almas_date(almasync: Almasync, config: Any) -> None:
    root = config({"r.yaml": "reminders:\n" + DEMO_991234})
    assert almasync.plan_json(root)["changes"] == []


def test_apply_updates_in_place_then_plan_is_empty(almasync: Almasync, config: Any) -> None:
    root = config({"reminders.yaml": CHANGES})
    before = alma_get(almasync, "/conf/reminders", entity_id="991234", **{"from": "2000-01-01",
                                                                          "to": "2100-01-01"})
    old_id = before["reminder"][0]["id"]
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply: 3 applied, 0 failed, 0 skipped." in applied.stdout
    writes = [(r.method, r.path) for r in almasync.writes()]
    assert ("PUT", f"/almaws/v1/conf/reminders/{old_id}") in writes
    assert sorted(m for m, _ in writes) == ["POST", "PUT", "PUT"]

    updated = alma_get(almasync, f"/conf/reminders/{old_id}")
    assert updated["status"]["value"] == "IN_PROGRESS"
    assert updated["text"] == "Check renewal"
    assert updated["entity"]["description"].startswith("Introduction to library science")
    assert updated["created_date"] == "2025-10-01Z"
    assert almasync.plan_json(root)["changes"] == []


def test_every_page_and_every_date_is_read(almasync: Almasync, config: Any) -> None:
    add_reminders(almasync, "991234", 125)
    declared = "".join(f"  - {{entity_id: \"991234\", type: GENERAL, status: NEW, "
                       f"text: Note {n:03d}, reminder_date: {2001 + n % 40}-03-0{1 + n % 9}}}\n"
                       for n in (0, 57, 124))
    root = config({"r.yaml": "reminders:\n" + declared})
    assert almasync.plan_json(root)["changes"] == []
    lists = [r for r in almasync.emu.requests if r.path == "/almaws/v1/conf/reminders"]
    assert {r.query.get("offset") for r in lists} == {"0", "100"}
    assert all(r.query["limit"] == "100" and r.query["from"] and r.query["to"] for r in lists)

    pruned = config({"almasync.yaml": "prune:\n  reminders: true\n"})
    data = almasync.plan_json(pruned)
    assert data["summary"]["delete"] == 123


def test_prune_removes_only_undeclared_reminders_of_declared_entities(
        almasync: Almasync, config: Any) -> None:
    add_reminders(almasync, "991234", 2)
    root = config({"r.yaml": "reminders:\n" + DEMO_991234 +
                   "  - {entity_id: \"991235\", type: GENERAL, text: New note, "
                   "reminder_date: 2026-01-02}\n",
                   "almasync.yaml": "prune:\n  reminders: true\n"})
    data = almasync.plan_json(root)
    deleted = sorted(c["key"] for c in data["changes"] if c["action"] == "delete")
    assert deleted == ["BIB_MMS/991234/GENERAL/Note 000", "BIB_MMS/991234/GENERAL/Note 001",
                       "BIB_MMS/991235/RENEWAL/Renew standing order"]
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    assert len([r for r in almasync.writes() if r.method == "DELETE"]) == 3
    assert almasync.plan_json(root)["changes"] == []
    # 991236 is in no file: its reminder survives, and drift does not claim it would go.
    left = {r["entity_id"] for r in almasync.emu.store.reminders.values()}
    assert left == {"991234", "991235", "991236"}
    drift = almasync("drift", str(root), "--include-unmanaged", "--format", "json")
    assert not [c for c in json.loads(drift.stdout)["changes"] if c["kind"] == "reminder"]


def test_without_prune_nothing_is_deleted(almasync: Almasync, config: Any) -> None:
    add_reminders(almasync, "991234", 2)
    data = almasync.plan_json(config({"r.yaml": "reminders:\n" + DEMO_991234}))
    assert data["changes"] == []


def test_prune_list_names_entities(almasync: Almasync, config: Any) -> None:
    root = config({"r.yaml": "reminders:\n" + DEMO_991234,
                   "almasync.yaml": "prune:\n  reminders: [BIB_MMS/991236, \"991235\"]\n"})
    add_reminders(almasync, "991234", 1)
    data = almasync.plan_json(root)
    deleted = sorted(c["key"] for c in data["changes"] if c["action"] == "delete")
    assert deleted == ["BIB_MMS/991235/RENEWAL/Renew standing order",
                       "BIB_MMS/991236/REVIEW/Review for weeding"]


def test_duplicate_identity_names_both_places(almasync: Almasync, config: Any) -> None:
    root = config({"a.yaml": "reminders:\n" + DEMO_991234,
                   "b/more.yaml": "reminders:\n  - {entity_id: \"9\", type: GENERAL, text: x, "
                                  "reminder_date: 2026-01-01}\n" + DEMO_991234})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'b' / 'more.yaml'}:3:5: reminders[1]: declared twice; first declared "
            f"at {root / 'a.yaml'}:2:5") in result.stderr


def test_schema_errors_point_at_the_field(almasync: Almasync, config: Any) -> None:
    root = config({"r.yaml": (
        "reminders:\n"
        "  - entity_id: 991234\n"
        "    type: GENERAL\n"
        "    text: Check\n"
        "    reminder_date: \"2026-02-30\"\n"
        "  - {entity_id: \"1\", type: GENERAL, text: x, reminder_date: 2026-01-01, colour: red}\n"
        "  - {entity_id: \"2\", type: GENERAL, text: x}\n"
        "  - just text\n")})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    err = result.stderr
    file = root / "r.yaml"
    assert f"{file}:2:16: reminders[0].entity_id: Value error, entity_id must be a string: " \
        "quote it, e.g. entity_id: \"991234\"" in err
    assert f"{file}:5:20: reminders[0].reminder_date: Value error, expected a date" in err
    assert f"{file}:6:73: reminders[1].colour: unknown field 'colour'" in err
    assert f"{file}:7:5: reminders[2].reminder_date: missing required field 'reminder_date'" in err
    assert f"{file}:8:5: reminders[3]: expected a mapping of fields" in err
    assert almasync.emu.requests == []


def test_codes_are_checked_against_almas_code_tables(almasync: Almasync, config: Any) -> None:
    root = config({"r.yaml": "reminders:\n"
                             "  - {entity_id: \"991234\", type: GENRAL, status: DONE,\n"
                             "     text: x, reminder_date: 2026-01-01}\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    file = root / "r.yaml"
    assert (f"{file}:2:27: reminder type 'GENRAL' is not a code of Alma's ReminderTypes code "
            "table (codes: CLAIM, GENERAL, RENEWAL, REVIEW)") in result.stderr
    assert f"{file}:2:41: reminder status 'DONE' is not a code of Alma's ReminderStatuses" \
        in result.stderr
    assert not almasync.writes()


def test_alma_refusal_fails_that_change_only(almasync: Almasync, config: Any) -> None:
    root = config({"r.yaml": "reminders:\n"
                             "  - {entity_id: \"not-a-record\", type: GENERAL, text: Bad,\n"
                             "     reminder_date: 2026-01-01}\n"
                             "  - {entity_id: \"991236\", type: GENERAL, text: Good,\n"
                             "     reminder_date: 2026-01-01}\n"})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   + reminders BIB_MMS/not-a-record/GENERAL/Bad" in result.stdout
    assert "applied  + reminders BIB_MMS/991236/GENERAL/Good" in result.stdout
    assert "POST /conf/reminders: Alma error 60182" in result.stderr
    assert almasync.key not in result.stdout + result.stderr


def test_export_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out), "--kinds", "reminders")
    assert result.exit_code == 0, result.stderr
    text = (out / "reminders.yaml").read_text()
    assert "entity_id: '991236'" in text and "reminder_date: '2025-09-15'" in text
    assert "id:" not in text.replace("entity_id:", "")
    assert almasync.plan_json(out)["changes"] == []


def test_drift_reports_changes_and_other_records(almasync: Almasync, config: Any) -> None:
    root = config({"r.yaml": CHANGES})
    result = almasync("drift", str(root), "--include-unmanaged")
    assert result.exit_code == ExitCode.CHANGES
    assert "~ reminders BIB_MMS/991234/GENERAL/Check renewal" in result.stdout
    assert "? reminders BIB_MMS/991236/REVIEW/Review for weeding" in result.stdout
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_example_plans_a_change(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--format", "json", "--target", "reminders")
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert {c["action"] for c in changes} >= {"create", "update"}


def test_schema_covers_reminders(almasync: Almasync, tmp_path: Path) -> None:
    assert almasync("schema", "--out", str(tmp_path)).exit_code == 0
    schema = json.loads((tmp_path / "almasync-resources.schema.json").read_text())
    subtree = schema["properties"]["reminders"]
    assert subtree["type"] == "array"
    fields = schema["$defs"][subtree["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(fields["required"]) == {"entity_id", "type", "text", "reminder_date"}


def test_live_twins_the_oldest_is_managed(almasync: Almasync, config: Any,
                                          caplog: pytest.LogCaptureFixture) -> None:
    add_reminders(almasync, "991236", 2, text="Twin", reminder_date="2026-02-02Z")
    oldest = min(r["id"] for r in almasync.emu.store.reminders.values() if r["text"] == "Twin")
    root = config({"r.yaml": "reminders:\n  - {entity_id: \"991236\", type: GENERAL, "
                             "text: Twin, status: CLOSED, reminder_date: 2026-02-02}\n"})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert "share the identity BIB_MMS/991236/GENERAL/Twin" in caplog.text
    puts = [r.path for r in almasync.writes()]
    assert puts == [f"/almaws/v1/conf/reminders/{oldest}"]


def test_many_entities_are_read_in_one_listing(almasync: Almasync, config: Any) -> None:
    items = "".join(f"  - {{entity_id: \"99{n:04d}\", type: GENERAL, text: Note 000, "
                    f"reminder_date: 2001-03-01}}\n" for n in range(25))
    for n in range(25):
        add_reminders(almasync, f"99{n:04d}", 1)
    root = config({"r.yaml": "reminders:\n" + items})
    assert almasync.plan_json(root)["changes"] == []
    lists = [r for r in almasync.emu.requests if r.path == "/almaws/v1/conf/reminders"]
    assert lists and not any("entity_id" in r.query for r in lists)


def test_saved_plan_applies_and_goes_stale(almasync: Almasync, config: Any,
                                           tmp_path: Path) -> None:
    root = config({"r.yaml": "reminders:\n" + DEMO_991234.replace("NEW", "CLOSED")
                   + "  - {entity_id: \"991235\", type: GENERAL, text: Other, "
                     "reminder_date: 2026-01-01}\n",
                   "almasync.yaml": "prune:\n  reminders: true\n"})
    saved = tmp_path / "plan.json"
    assert almasync("plan", str(root), "--out", str(saved)).exit_code == 0
    applied = almasync("apply", str(saved), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply: 3 applied, 0 failed, 0 skipped." in applied.stdout
    assert almasync.plan_json(root)["changes"] == []

    root = config({"r.yaml": "reminders:\n" + DEMO_991234})
    assert almasync("plan", str(root), "--out", str(saved)).exit_code == 0
    with almasync.emu.store.lock:
        for reminder in almasync.emu.store.reminders.values():
            reminder["status"] = "IN_PROGRESS"
    writes = len(almasync.writes())
    again = almasync("apply", str(saved), "--auto-approve")
    assert again.exit_code == ExitCode.STALE_PLAN
    assert "reminders BIB_MMS/991234/GENERAL/Check renewal changed in Alma" in again.stderr
    assert len(almasync.writes()) == writes


def test_without_code_tables_alma_judges_the_type(empty_emulator: Any, config: Any) -> None:
    """The empty institution has no ReminderTypes table: the plan cannot check the type,
    and Alma's refusal names the failed reminder."""
    almasync = Almasync(empty_emulator, CliRunner(), empty_emulator.api_key)
    root = config({"r.yaml": "reminders:\n"
                             "  - {entity_id: \"991234\", type: ODD, text: x,\n"
                             "     reminder_date: 2026-01-01}\n"})
    assert almasync.plan_json(root)["summary"]["create"] == 1
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   + reminders BIB_MMS/991234/ODD/x" in result.stdout
    assert "Alma error 60178" in result.stderr


def test_rollback_restores_status_and_deleted_reminders(almasync: Almasync,
                                                       config: Any) -> None:
    declared = CHANGES.split("  - entity_id: \"991235\"")[0] + (
        "  - {entity_id: \"991235\", type: GENERAL, text: New, reminder_date: 2026-01-01}\n")
    root = config({"r.yaml": declared, "almasync.yaml": "prune:\n  reminders: true\n"})
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply: 3 applied" in applied.stdout  # 991235's renewal deleted, one created
    snap = applied.stderr.split("Journal of this run: ")[1].split(" ")[0]
    undone = almasync("rollback", snap, "--auto-approve")
    assert undone.exit_code == 0, undone.stderr
    live = {(r["entity_id"], r["type"], r["text"]): (r["status"], r["reminder_date"])
            for r in almasync.emu.store.reminders.values()}
    assert live == {("991234", "GENERAL", "Check renewal"): ("NEW", "2026-12-01Z"),
                    ("991235", "RENEWAL", "Renew standing order"): ("NEW", "2026-06-30Z"),
                    ("991236", "REVIEW", "Review for weeding"): ("CLOSED", "2025-09-15Z")}


def test_a_refused_date_window_names_the_parameter_and_what_to_try(config: Any) -> None:
    """Whether Alma accepts 1900-01-01..2999-12-31 is unknown. An institution that refuses
    wide windows gets a message naming `from`/`to` and the setting that narrows the window;
    with it, plan works and a declared date outside the window is a located config error."""
    seed = builtin_seed("demo")
    seed["institution"]["reminder_window_days"] = 40_000
    root = config({"reminders.yaml": "reminders:\n" + DEMO_991234})
    with Emulator(seed=seed, rate_limit=None) as emu:
        run = Almasync(emu, CliRunner(), emu.api_key)
        refused = run("plan", str(root))
        assert refused.exit_code == ExitCode.ERROR
        message = " ".join(refused.stderr.split())
        assert "GET /conf/reminders?from=1900-01-01&to=2999-12-31 with error 40166410" in message
        assert "at most 40000 days" in message
        assert "query parameters `from` and `to`" in message
        assert "ALMASYNC_REMINDER_WINDOW=2000-01-01..2099-12-31" in message
        narrowed = {"ALMASYNC_REMINDER_WINDOW": "2000-01-01..2099-12-31"}
        planned = run("plan", str(root), "--format", "json", env=narrowed)
        assert planned.exit_code == 0, planned.stderr
        assert json.loads(planned.stdout)["changes"] == []
        drift = run("drift", str(root), "--include-unmanaged", env=narrowed)
        assert drift.exit_code == ExitCode.CHANGES  # the demo's other reminders
        outside = config({"reminders.yaml": "reminders:\n"
                          + DEMO_991234.replace("2026-12-01", "2150-01-01")})
        invalid = run("validate", str(outside), env=narrowed)
        assert invalid.exit_code == ExitCode.INVALID_CONFIG
        assert "between 2000-01-01 and 2099-12-31 (the reminders window " \
            "ALMASYNC_REMINDER_WINDOW)" in invalid.stderr
        bad = run("plan", str(root), env={"ALMASYNC_REMINDER_WINDOW": "2000-01-01"})
        assert bad.exit_code == ExitCode.INVALID_CONFIG
        assert "is not a date window; write it as FROM..TO" in bad.stderr
    assert {r.method for r in emu.requests} == {"GET"}
