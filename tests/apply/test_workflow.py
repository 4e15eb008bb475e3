"""The apply workflow called directly, the way the CLI calls it: its seams and its order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from almasync import engine, workflow
from almasync.alma.client import AlmaClient
from almasync.alma.retry import RetryPolicy
from almasync.apply import Outcome as Done
from almasync.apply import Result
from almasync.config.loader import load_config
from almasync.emulator import Emulator
from almasync.errors import AlmasyncError, ConfigError, ExitCode
from almasync.model import Kind
from almasync.plan.changes import Action, Change
from almasync.plan.plan import Plan

LOCATIONS = ("locations:\n  MAIN:\n"
             "    NEW1: {name: New 1, type: OPEN}\n"
             "    NEW2: {name: New 2, type: OPEN}\n")


def client_for(emu: Emulator) -> AlmaClient:
    return AlmaClient(emu.base_url, emu.api_key, read_only=False, rate_limit=None,
                      retry=RetryPolicy(backoff=0))


def plan_of(client: AlmaClient, root: Path) -> Plan:
    desired = load_config(root)
    return engine.make_plan(desired, engine.read_live(client, desired),
                            target_info={"config": str(root)})


def writes(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.method != "GET"]


def test_a_check_before_writing_stops_with_nothing_written_and_no_journal(
        emulator: Emulator, config: Any, tmp_path: Path) -> None:
    root = config({"l.yaml": LOCATIONS})
    seen: list[int] = []

    def refuse(client: AlmaClient, plan: Plan) -> None:
        seen.append(len(plan.changes))
        raise AlmasyncError("refused before writing")

    with client_for(emulator) as client:
        plan = plan_of(client, root)
        options = workflow.Options(journal_dir=tmp_path / "journals")
        with pytest.raises(AlmasyncError, match="refused before writing"):
            workflow.run(client, plan, options, workflow.Seams(before_writing=(refuse,)))
    assert seen == [2]
    assert writes(emulator) == []
    assert not (tmp_path / "journals").exists()


def test_lock_surrounds_the_writes_and_confirmation_comes_first(
        emulator: Emulator, config: Any, tmp_path: Path) -> None:
    root = config({"l.yaml": LOCATIONS})
    events: list[str] = []

    @contextmanager
    def lock() -> Iterator[None]:
        events.append(f"lock ({len(writes(emulator))} writes so far)")
        yield
        events.append(f"unlock ({len(writes(emulator))} writes so far)")

    def confirm(plan: Plan) -> bool:
        events.append("confirm")
        return True

    seams = workflow.Seams(confirm=confirm, lock=lock,
                           on_result=lambda r: events.append(r.outcome.value))
    with client_for(emulator) as client:
        plan = plan_of(client, root)
        outcome = workflow.run(client, plan,
                               workflow.Options(journal_dir=tmp_path / "journals"), seams)
    assert events == ["confirm", "lock (0 writes so far)", "applied", "applied",
                      "unlock (2 writes so far)"]
    assert outcome.stage is workflow.Stage.WRITTEN
    assert outcome.exit_code == ExitCode.OK
    assert outcome.journal is not None and outcome.journal.parent == tmp_path / "journals"
    body = json.loads(outcome.journal.read_text())
    assert [s["state"] for s in body["states"]] == ["applied", "applied"]


def test_not_confirmed_writes_nothing(emulator: Emulator, config: Any,
                                      tmp_path: Path) -> None:
    root = config({"l.yaml": LOCATIONS})
    with client_for(emulator) as client:
        plan = plan_of(client, root)
        outcome = workflow.run(client, plan,
                               workflow.Options(journal_dir=tmp_path / "journals"),
                               workflow.Seams(confirm=lambda plan: False))
    assert outcome.stage is workflow.Stage.CANCELLED
    assert outcome.exit_code == ExitCode.ERROR
    assert writes(emulator) == []
    assert not (tmp_path / "journals").exists()


def test_each_kind_fails_alone_whichever_handler_method_raised(
        emulator: Emulator, tmp_path: Path) -> None:
    """A code table Alma does not have (refused when its update reads it), a location
    under a library Alma refuses: each fails alone, with what Alma said; the rest is
    written."""
    changes = (
        Change(Action.UPDATE, Kind.CODE_TABLE, ("NoSuchTable",), {"rows": []},
               {"rows": [{"code": "X", "description": "X"}]}),
        Change(Action.CREATE, Kind.LOCATION, ("MAIN", "ALONE"), None,
               {"name": "Alone", "type": "OPEN"}),
        Change(Action.CREATE, Kind.LOCATION, ("NOLIB", "ORPHAN"), None,
               {"name": "Orphan", "type": "OPEN"}),
    )
    results: list[Result] = []
    with client_for(emulator) as client:
        outcome = workflow.run(client, Plan(changes),
                               workflow.Options(journal_dir=tmp_path),
                               workflow.Seams(on_result=results.append))
    by_name = {r.change.name: r for r in results}
    assert by_name["locations MAIN/ALONE"].outcome is Done.APPLIED
    table = by_name["code_tables NoSuchTable"]
    assert table.outcome is Done.FAILED and table.code, table
    orphan = by_name["locations NOLIB/ORPHAN"]
    assert orphan.outcome is Done.FAILED and orphan.code, orphan
    assert f"Alma error {orphan.code}" in str(orphan.error)
    assert "ALONE" in emulator.store.locations["MAIN"]
    assert outcome.exit_code == ExitCode.APPLY_FAILED
    assert outcome.journal is not None
    states = json.loads(outcome.journal.read_text())["states"]
    assert sorted(s["state"] for s in states) == ["applied", "failed", "failed"]


def test_writes_a_kind_cannot_make_are_refused_before_any_write(
        emulator: Emulator, tmp_path: Path) -> None:
    """A letter cannot be created and a code table cannot be deleted: a plan asking for
    either (a hand-edited saved plan) is refused whole before the first write."""
    changes = (
        Change(Action.DELETE, Kind.CODE_TABLE, ("UserGroups",), {"rows": []}, None),
        Change(Action.CREATE, Kind.LETTER, ("NoSuchLetter",), None, {"enabled": True}),
        Change(Action.CREATE, Kind.LOCATION, ("MAIN", "ALONE"), None,
               {"name": "Alone", "type": "OPEN"}),
    )
    with client_for(emulator) as client, pytest.raises(ConfigError) as refused:
        workflow.run(client, Plan(changes), workflow.Options(journal_dir=tmp_path),
                     workflow.Seams())
    assert "code_tables UserGroups: Alma has no way to delete it" in str(refused.value)
    assert "letters NoSuchLetter: Alma has no way to create it" in str(refused.value)
    assert [r for r in emulator.requests if r.method != "GET"] == []
    assert list(tmp_path.iterdir()) == []


def test_an_update_whose_answers_are_all_lost_is_read_back(emulator: Emulator, config: Any,
                                                           tmp_path: Path) -> None:
    """Every answer to a write is lost, though each write lands: the update is settled by
    reading it back, not reported as failed or left unknown."""
    root = config({"l.yaml": "locations:\n  MAIN:\n    STACKS:\n"
                             "      {name: Main Stacks, external_name: Shelves, type: OPEN}\n"})
    emulator.drop_rate = 1.0
    emulator.drop_after_apply = True
    results: list[Result] = []
    with client_for(emulator) as client:
        plan = plan_of(client, root)
        outcome = workflow.run(client, plan, workflow.Options(journal_dir=tmp_path),
                               workflow.Seams(on_result=results.append))
    emulator.drop_rate = 0.0
    assert [r.outcome for r in results] == [Done.APPLIED], results
    assert outcome.exit_code == ExitCode.OK
    assert emulator.store.locations["MAIN"]["STACKS"]["external_name"] == "Shelves"
