"""Rollback undoes exactly what an apply did: table rows added are removed, changed rows
and deleted resources come back, nothing else moves, and conflicts are left alone."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from almasync.errors import ExitCode
from tests.conftest import Almasync

TABLE_AND_LOCATIONS = {
    "t.yaml": "code_tables:\n  UserGroups:\n    rows:\n"
              "      - {code: STAFF, description: Library staff}\n"
              "      - {code: PHD, description: Doctoral student, enabled: true}\n",
    "l.yaml": "locations:\n  LAW:\n    LAWSTACKS: {name: Law Stacks, type: OPEN}\n",
    "almasync.yaml": "prune:\n  locations: [LAW]\n",
}


def state(almasync: Almasync) -> dict[str, Any]:
    store = almasync.emu.store
    return copy.deepcopy({"tables": store.code_tables, "locations": store.locations})


def journal(root: Path) -> str:
    [path] = (root / ".almasync" / "journals").glob("*.json")
    return str(path)


def test_rollback_of_an_added_row_a_changed_row_and_a_deleted_location(
        almasync: Almasync, config: Any) -> None:
    root = config(TABLE_AND_LOCATIONS)
    plan = almasync.plan_json(root)
    assert {(c["action"], c["key"]) for c in plan["changes"]} == {
        ("update", "UserGroups"), ("delete", "LAW/LAWREF")}
    before = state(almasync)
    applied = almasync("apply", str(root), "--auto-approve", "--force")
    assert applied.exit_code == ExitCode.OK, applied.stdout + applied.stderr
    rows = {r["code"]: r for r in almasync.emu.store.code_tables["UserGroups"]["rows"]}
    assert "PHD" in rows and rows["STAFF"]["description"] == "Library staff"
    # Someone changes another row in between: rollback must not move it.
    almasync.emu.store.code_tables["UserGroups"]["rows"][3]["description"] = "Teachers"
    expected = copy.deepcopy(before)
    expected["tables"]["UserGroups"]["rows"][3]["description"] = "Teachers"

    undo = almasync("rollback", journal(root), "--auto-approve", "--force")
    assert undo.exit_code == ExitCode.OK, undo.stdout + undo.stderr
    assert "rows[PHD]" in undo.stdout  # the row removal is shown in the undo plan
    assert "null -> false" not in undo.stdout
    assert state(almasync) == expected


def test_a_resource_changed_since_the_apply_is_a_conflict_left_alone(
        almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": "locations:\n  MAIN:\n"
                             "    ONE: {name: One, type: OPEN}\n"
                             "    TWO: {name: Two, type: OPEN}\n"})
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.stderr
    almasync.emu.store.locations["MAIN"]["TWO"]["name"] = "Two, renamed by someone"
    path = journal(root)

    undo = almasync("rollback", path, "--auto-approve")
    assert undo.exit_code == ExitCode.APPLY_FAILED, undo.stdout + undo.stderr
    assert "Conflict: locations MAIN/TWO changed in Alma since the apply" in undo.stderr
    assert "ONE" not in almasync.emu.store.locations["MAIN"]
    assert almasync.emu.store.locations["MAIN"]["TWO"]["name"] == "Two, renamed by someone"

    forced = almasync("rollback", path, "--auto-approve", "--force")
    assert forced.exit_code == ExitCode.OK, forced.stdout + forced.stderr
    assert "TWO" not in almasync.emu.store.locations["MAIN"]


def test_rollback_never_deletes_what_the_apply_did_not_create(
        almasync: Almasync, config: Any) -> None:
    """A create that failed (the location already existed when it ran) is not undone, and
    a rollback run twice does nothing the second time."""
    root = config({"l.yaml": "locations:\n  MAIN:\n    ONE: {name: One, type: OPEN}\n"})
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.stderr
    path = journal(root)
    body = json.loads(Path(path).read_text())
    body["states"][0] = {"state": "failed"}
    Path(path).write_text(json.dumps(body))
    undo = almasync("rollback", path, "--auto-approve")
    assert undo.exit_code == ExitCode.OK, undo.stderr
    assert "ONE" in almasync.emu.store.locations["MAIN"]
    assert not [r for r in almasync.writes() if r.method == "DELETE"]

    body["states"][0] = {"state": "applied"}
    Path(path).write_text(json.dumps(body))
    assert almasync("rollback", path, "--auto-approve").exit_code == ExitCode.OK
    assert "ONE" not in almasync.emu.store.locations["MAIN"]
    writes = len(almasync.writes())
    again = almasync("rollback", path, "--auto-approve")
    assert again.exit_code == ExitCode.OK, again.stderr
    assert "Nothing to undo: locations MAIN/ONE" in again.stderr
    assert len(almasync.writes()) == writes
