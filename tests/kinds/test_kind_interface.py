"""What every kind says about itself: its capabilities, said once, and what the engine does
with them; problems found in Alma reported for every kind together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from almasync import engine
from almasync.alma.client import AlmaClient
from almasync.config.loader import DesiredState
from almasync.config.settings import Settings
from almasync.errors import ConfigError, ExitCode, Mark
from almasync.kinds import ORDER
from almasync.kinds.base import Capabilities, KindHandler
from almasync.model import Kind
from almasync.plan.changes import Action, Change
from almasync.plan.plan import Plan
from tests.conftest import EXAMPLES, Almasync


@pytest.mark.parametrize("handler", ORDER, ids=lambda h: h.kind.value)
def test_a_kind_writes_exactly_what_its_capabilities_allow(handler: KindHandler) -> None:
    """A write the capabilities allow is the kind's own; one they do not is the base's
    refusal, so the two can never disagree."""
    for action in ("create", "update", "delete"):
        own = getattr(type(handler), action) is not getattr(KindHandler, action)
        assert own == handler.capabilities.allows(action), (handler.kind, action)
    assert handler.capabilities.prune == handler.capabilities.delete


def test_capabilities_of_the_fixed_kinds() -> None:
    fixed = {h.kind for h in ORDER if not h.capabilities.create and not h.read_only}
    assert fixed == {Kind.CODE_TABLE, Kind.MAPPING_TABLE, Kind.LETTER}
    assert not Capabilities(read_only=True).allows("update")
    assert not Capabilities(read_only=True).prune
    letters = next(h for h in ORDER if h.kind is Kind.LETTER)
    assert not letters.prunable(("FineFeeReportLetter",), True)


def test_a_saved_plan_that_writes_what_alma_cannot_stops_before_any_write() -> None:
    mark = Mark("letters.yaml", 2, 3)
    plan = Plan((Change(Action.CREATE, Kind.LETTER, ("NewLetter",), None, {"enabled": True},
                        mark=mark),
                 Change(Action.DELETE, Kind.CODE_TABLE, ("UserGroups",), {"rows": []}, None)),
                (), {}, {})
    with pytest.raises(ConfigError) as raised:
        engine.check_ready(plan)
    assert [str(p) for p in raised.value.problems] == [
        "code_tables UserGroups: Alma has no way to delete it through the API",
        "letters.yaml:2:3: letters NewLetter: Alma has no way to create it through the API"]


def test_problems_found_in_alma_are_reported_for_every_kind_at_once(
        almasync: Almasync, config: Any) -> None:
    """A missing code table and a set whose type Alma cannot change are found by two kinds'
    reads: one plan names both, at their lines."""
    root = config({"t.yaml": "code_tables:\n  usergroups: {rows: []}\n",
                   "s.yaml": "sets:\n  Missing items:\n    type: ITEMIZED\n"
                             "    content: BIB_MMS\n    members: []\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 't.yaml'}:2:3: code table 'usergroups' does not exist in Alma" \
        in result.stderr
    assert f"{root / 's.yaml'}:3:5: sets.Missing items.type: the set is LOGICAL in Alma" \
        in result.stderr
    assert almasync.writes() == []


def test_read_one_reads_one_resource_by_key(almasync: Almasync) -> None:
    """Every kind reads one resource by its key, in the same normalised form as its list
    read; a key Alma lacks is None."""
    with AlmaClient(almasync.emu.base_url, almasync.key, read_only=True,
                    rate_limit=None) as client:
        live = engine.read_live(client, DesiredState(Path("."), Settings()), everything=True,
                                detail=True)
        for handler in ORDER:
            key = min(live[handler.kind])
            one = handler.read_one(client, key)
            assert one is not None, handler.kind
            assert {name: one[name] for name in live[handler.kind][key] if name in one} == \
                {name: value for name, value in live[handler.kind][key].items()
                 if name in one}, handler.kind
        locations = next(h for h in ORDER if h.kind is Kind.LOCATION)
        assert locations.read_one(client, ("MAIN", "NO_SUCH_LOCATION")) is None
    assert almasync.writes() == []


def test_before_and_after_have_one_form_for_every_kind(almasync: Almasync) -> None:
    """The examples update every kind: each update's ``before`` holds the live values of
    what ``after`` declares, field by field of the same type (no summaries, no labels), and
    each diff entry compares values of one type."""
    data = almasync.plan_json(EXAMPLES)
    updates = [c for c in data["changes"] if c["action"] == "update"]
    assert {c["kind"] for c in updates} == {h.kind.value for h in ORDER if not h.read_only}
    for change in updates:
        before, after = change["before"], change["after"]
        assert before and set(before) <= set(after), change["key"]
        for name, value in before.items():
            assert value is None or type(value) is type(after[name]), (change["key"], name)
        for diff in change["diff"]:
            if "before" not in diff["absent"] and "after" not in diff["absent"] \
                    and None not in (diff["before"], diff["after"]):
                assert type(diff["before"]) is type(diff["after"]), (change["key"], diff)
