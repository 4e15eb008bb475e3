"""The generic machinery for every kind: plan, apply a saved plan, an empty second plan, a
stale saved plan refused, and rollback, each kind from its example in ``examples/config``
against a fresh demo institution."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from almasync.emulator import Store
from almasync.errors import ExitCode
from almasync.kinds import ORDER
from almasync.model import Kind
from tests.conftest import EXAMPLES, Almasync

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
CHANGED = "Changed by hand"

ChangeId = tuple[str, str, str]
DiffLine = tuple[str, str, str]


def _row(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    """The one stored row (or record) whose fields include ``match``."""
    [found] = [row for row in rows if all(row.get(k) == v for k, v in match.items())]
    return found


# Each function changes, in the emulator's store, a field that the example's plan changes,
# so that the touched resource no longer is what the saved plan recorded.

def _alter_location(store: Store) -> None:
    store.locations["MAIN"]["STACKS"]["external_name"] = CHANGED


def _alter_code_table(store: Store) -> None:
    _row(store.code_tables["UserGroups"]["rows"], code="STAFF")["description"] = CHANGED


def _alter_mapping_table(store: Store) -> None:
    _row(store.mapping_tables["CurrencySubset"]["rows"], column0="CAD")["column1"] = "MAYBE"


def _alter_letter(store: Store) -> None:
    # A letter's labels are rows of the code table named after it.
    labels = store.code_tables["FulfillmentActivityLetter"]["rows"]
    _row(labels, code="header")["description"] = CHANGED


def _alter_license_term(store: Store) -> None:
    store.license_terms["ARCHIVE"]["description"] = CHANGED


def _alter_reminder(store: Store) -> None:
    reminders = list(store.reminders.values())
    _row(reminders, entity_id="991234", text="Check renewal")["status"] = "CLOSED"


def _alter_open_hours(store: Store) -> None:
    _row(store.open_hours["MAIN"], day="FRIDAY")["to_hour"] = "19:00"


def _alter_set(store: Store) -> None:
    _row(list(store.sets.values()), name="Missing items")["description"] = CHANGED


def _alter_integration_profile(store: Store) -> None:
    profiles = list(store.integration_profiles.values())
    _row(profiles, code="SIS_SYNC")["description"] = CHANGED


@dataclass(frozen=True)
class Case:
    kind: Kind
    #: The change (``"kind key"``) and diff path that ``alter`` makes stale.
    touched: str
    path: str
    alter: Callable[[Store], None]
    #: Rollback cannot take back what an update added inside a resource (see
    #: ``_not_undone``): a profile's parameters. (Table rows the apply added are removed.)
    keeps_additions: bool = False
    #: Copy ``almasync.yaml`` too: its ``prune: locations: [MAIN]`` adds a delete.
    settings: bool = False

    @property
    def id(self) -> str:
        return self.kind.config_key


CASES = [
    Case(Kind.LOCATION, "locations MAIN/STACKS", "external_name", _alter_location,
         settings=True),
    Case(Kind.CODE_TABLE, "code_tables UserGroups", "rows[STAFF].description",
         _alter_code_table),
    Case(Kind.MAPPING_TABLE, "mapping_tables CurrencySubset", "rows[CAD].column1",
         _alter_mapping_table),
    Case(Kind.LETTER, "letters FulfillmentActivityLetter", "labels.header", _alter_letter),
    Case(Kind.LICENSE_TERM, "license_terms ARCHIVE", "description", _alter_license_term),
    Case(Kind.REMINDER, "reminders BIB_MMS/991234/GENERAL/Check renewal", "status",
         _alter_reminder),
    Case(Kind.OPEN_HOURS, "open_hours MAIN", "open_hour[WEEK FRIDAY].to_hour",
         _alter_open_hours),
    Case(Kind.SET, "sets Missing items", "description", _alter_set),
    Case(Kind.INTEGRATION_PROFILE, "integration_profiles SIS_SYNC", "description",
         _alter_integration_profile, keeps_additions=True),
]


def test_every_kind_has_a_case() -> None:
    """Every kind almasync writes; read-only kinds are never written (tests/kinds)."""
    assert {case.kind for case in CASES} == {h.kind for h in ORDER if not h.read_only}


every_kind = pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])


def _tree(case: Case, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The kind's example copied into a config tree (letters with their templates), and
    a value for every ``${VAR}`` the example refers to."""
    root = tmp_path / "config"
    root.mkdir()
    example = EXAMPLES / f"{case.kind.config_key}.yaml"
    shutil.copy(example, root)
    if case.kind is Kind.LETTER:
        shutil.copytree(EXAMPLES / "letters", root / "letters")
    if case.settings:
        shutil.copy(EXAMPLES / "almasync.yaml", root)
    env = {name: f"test-value-of-{name.lower()}"
           for name in _REFERENCE.findall(example.read_text(encoding="utf-8"))}
    return root, env


def _save_plan(almasync: Almasync, root: Path, env: dict[str, str]) -> dict[str, Any]:
    out = root.parent / "plan.json"
    result = almasync("plan", str(root), "--out", str(out), env=env)
    assert result.exit_code == ExitCode.OK, result.stderr
    saved: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert saved["changes"], result.stdout
    return saved


def _changes(plan: dict[str, Any]) -> dict[ChangeId, list[DiffLine]]:
    """A plan's changes by (action, kind, key), each with its field diffs."""
    return {(c["action"], c["kind"], c["key"]): sorted(
                (d["path"], json.dumps(d["before"]), json.dumps(d["after"]))
                for d in c["diff"])
            for c in plan["changes"]}


def _not_undone(plan: dict[str, Any]) -> dict[ChangeId, list[DiffLine]]:
    """The changes of ``plan`` that a plan shows again after a rollback of its apply, where
    an update added something inside a resource that almasync keeps once it is there.

    Integration profiles: parameters a declaration does not list are kept, and snapshots
    hold no secrets, so a credential the apply added stays. What rollback does set back
    (changed fields, changed rows) shows again; an update that only added shows nothing.
    """
    kept: dict[ChangeId, list[DiffLine]] = {}
    for change in plan["changes"]:
        ident: ChangeId = (change["action"], change["kind"], change["key"])
        diffs = [d for d in change["diff"] if d["absent"] != ["before"]]
        if change["action"] == "update" and not diffs:
            continue
        kept[ident] = sorted((d["path"], json.dumps(d["before"]), json.dumps(d["after"]))
                             for d in diffs)
    return kept


@every_kind
def test_saved_plan_applies_and_second_plan_is_empty(almasync: Almasync, case: Case,
                                                     tmp_path: Path) -> None:
    root, env = _tree(case, tmp_path)
    saved = _save_plan(almasync, root, env)
    result = almasync("apply", str(root.parent / "plan.json"), "--auto-approve", env=env)
    assert result.exit_code == ExitCode.OK, result.stdout + result.stderr
    assert f"Apply: {len(saved['changes'])} applied, 0 failed, 0 skipped." in result.stdout
    assert almasync.writes()
    assert almasync.plan_json(root, env=env)["changes"] == []


@every_kind
def test_stale_saved_plan_is_refused_with_nothing_written(almasync: Almasync, case: Case,
                                                          tmp_path: Path) -> None:
    root, env = _tree(case, tmp_path)
    saved = _save_plan(almasync, root, env)
    # The plan JSON names a kind in the singular (its ``kind`` field); messages as the files.
    planned = {f"{Kind(c['kind']).config_key} {c['key']}": {d["path"] for d in c["diff"]}
               for c in saved["changes"]}
    assert case.path in planned[case.touched]  # the altered field is one the plan changes
    with almasync.emu.store.lock:
        case.alter(almasync.emu.store)
    writes_before = len(almasync.writes())
    result = almasync("apply", str(root.parent / "plan.json"), "--auto-approve", env=env)
    assert result.exit_code == ExitCode.STALE_PLAN, result.stdout + result.stderr
    stale = [line for line in result.stderr.splitlines() if line.startswith("Stale:")]
    assert stale == [f"Stale: {case.touched} changed in Alma since the plan was made"]
    assert len(almasync.writes()) == writes_before


@every_kind
def test_rollback_brings_back_the_planned_changes(almasync: Almasync, case: Case,
                                                  tmp_path: Path) -> None:
    root, env = _tree(case, tmp_path)
    first = almasync.plan_json(root, env=env)
    assert first["changes"]
    applied = almasync("apply", str(root), "--auto-approve", env=env)
    assert applied.exit_code == ExitCode.OK, applied.stdout + applied.stderr
    [snapshot] = sorted((root / ".almasync" / "journals").glob("*.json"))
    undo = almasync("rollback", str(snapshot), "--auto-approve", "--force", env=env)
    assert undo.exit_code == ExitCode.OK, undo.stdout + undo.stderr
    again = almasync.plan_json(root, env=env)
    expected = _not_undone(first) if case.keeps_additions else _changes(first)
    assert _changes(again) == expected
    if case.keeps_additions:  # the exception is real: something was added and stays
        assert expected != _changes(first)
