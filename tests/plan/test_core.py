"""The pure core: differ, change order, safety rules at and around their caps and the plan
file. No network: these are functions of values."""

from __future__ import annotations

from typing import Any

import pytest

from almasync.config.settings import Caps, Safety
from almasync.errors import ConfigError
from almasync.kinds import HANDLERS, rank
from almasync.model import Kind, Resource
from almasync.plan import safety
from almasync.plan.changes import ABSENT, Action, Change, FieldDiff, order_key
from almasync.plan.differ import diff_kind, field_diffs, fingerprint, unmanaged
from almasync.plan.plan import Plan

TERMS = HANDLERS[Kind.LICENSE_TERM]


def _term(code: str, **fields: Any) -> Resource:
    return Resource(Kind.LICENSE_TERM, (code,), fields)


# -- differ ------------------------------------------------------------------------------


def test_field_diffs_name_each_changed_added_and_removed_field() -> None:
    diffs = field_diffs({"name": "B", "type": "X", "rows": {"GRAD": {"enabled": True}}},
                        {"name": "A", "extra": 1, "rows": {"GRAD": {"enabled": False}}})
    assert diffs == (FieldDiff("extra", 1, ABSENT), FieldDiff("name", "A", "B"),
                     FieldDiff("rows[GRAD].enabled", False, True),
                     FieldDiff("type", ABSENT, "X"))
    assert field_diffs({"a": [1, 2]}, {"a": [1, 2]}) == ()
    assert field_diffs({"a": 1}, {"a": "1"}) == (FieldDiff("a", "1", 1),)


def test_field_diffs_of_equal_values_of_other_types_still_differ() -> None:
    # Equal to Python (1 == 1.0 == True) is not the same value in Alma's JSON.
    assert field_diffs({"a": True}, {"a": 1}) == (FieldDiff("a", 1, True),)
    nested = {"rows": {"A": {"n": [1, {"b": None}], "c": "x"}}}
    assert field_diffs(nested, {"rows": {"A": {"c": "x", "n": [1, {"b": None}]}}}) == ()
    assert field_diffs({"a": float("nan")}, {"a": float("nan")}) != ()


def test_fingerprint_is_stable_and_sensitive() -> None:
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert fingerprint(None) is None


def test_diff_kind_creates_updates_and_prunes_only_in_scope() -> None:
    desired = {("NEW",): _term("NEW", name="New"), ("SAME",): _term("SAME", name="Same"),
               ("EDIT",): _term("EDIT", name="After")}
    live = {("SAME",): {"name": "Same", "type": "T"}, ("EDIT",): {"name": "Before"},
            ("GONE",): {"name": "Gone"}}
    kept = diff_kind(TERMS, desired, live, False)
    assert [(c.action, c.key) for c in kept] == [(Action.CREATE, ("NEW",)),
                                                 (Action.UPDATE, ("EDIT",))]
    update = kept[1]
    assert update.before == {"name": "Before"} and update.after == {"name": "After"}
    assert update.diffs == (FieldDiff("name", "Before", "After"),)
    assert update.fingerprint == fingerprint({"name": "Before"})
    pruned = diff_kind(TERMS, desired, live, True)
    assert pruned[-1].action is Action.DELETE and pruned[-1].key == ("GONE",)
    assert pruned[-1].before == {"name": "Gone"} and pruned[-1].after is None
    assert unmanaged(desired, live) == [("GONE",)]


# -- order -------------------------------------------------------------------------------


def _change(action: Action, kind: Kind, key: str) -> Change:
    return Change(action, kind, (key,), None, None)


def test_deletes_come_first_in_reverse_dependency_order_then_writes_in_order() -> None:
    early, late = Kind.CODE_TABLE, Kind.LICENSE_TERM
    assert rank(early) < rank(late)
    changes = [_change(Action.CREATE, late, "b"), _change(Action.UPDATE, early, "a"),
               _change(Action.DELETE, early, "x"), _change(Action.DELETE, late, "y"),
               _change(Action.CREATE, late, "a")]
    ordered = sorted(changes, key=lambda c: order_key(c, rank(c.kind)))
    assert [(c.action.value, c.kind, c.key[0]) for c in ordered] == [
        ("delete", late, "y"), ("delete", early, "x"), ("update", early, "a"),
        ("create", late, "a"), ("create", late, "b")]


# -- safety, at and just over each cap -----------------------------------------------------


def _plan(deletes: int = 0, updates: int = 0, live: int = 10,
          kind: Kind = Kind.LICENSE_TERM) -> Plan:
    changes = [_change(Action.DELETE, kind, f"d{i}") for i in range(deletes)]
    changes += [_change(Action.UPDATE, kind, f"u{i}") for i in range(updates)]
    return Plan(tuple(changes), live_counts={kind: live})


@pytest.mark.parametrize(("field", "action"), [("max_deletes", "deletes"),
                                               ("max_updates", "updates")])
def test_an_absolute_cap_allows_exactly_its_number(field: str, action: str) -> None:
    rules = Safety(**{field: 3})
    assert safety.judge(_plan(**{action: 3}, live=100), rules).caps == ()
    over = safety.judge(_plan(**{action: 4}, live=100), rules)
    assert over.caps == (f"4 {action} exceed safety.{field} (3)",)


@pytest.mark.parametrize(("field", "action"), [("max_delete_percent", "deletes"),
                                               ("max_update_percent", "updates")])
def test_a_percentage_cap_allows_exactly_its_share(field: str, action: str) -> None:
    rules = Safety(**{field: 30})
    assert safety.judge(_plan(**{action: 3}, live=10), rules).caps == ()
    over = safety.judge(_plan(**{action: 4}, live=10), rules).caps
    assert len(over) == 1 and "(40%)" in over[0] and f"safety.{field} (30%)" in over[0]


def test_a_kinds_own_caps_apply_to_it_alone() -> None:
    rules = Safety(kinds={"license_terms": Caps(max_deletes=1)})
    assert safety.judge(_plan(deletes=1), rules).caps == ()
    assert safety.judge(_plan(deletes=2), rules).caps == (
        "2 deletes of license_terms exceed safety.kinds.license_terms.max_deletes (1)",)
    assert safety.judge(_plan(deletes=2, kind=Kind.CODE_TABLE), rules).caps == ()


def test_with_no_live_resources_any_delete_is_100_percent() -> None:
    verdict = safety.judge(_plan(deletes=1, live=0), Safety(max_delete_percent=99))
    assert verdict.caps and "(100%)" in verdict.caps[0]


def test_protection_is_not_lifted_by_force() -> None:
    rules = Safety(protected={"license_terms": ["d0"]})
    verdict = safety.judge(_plan(deletes=2), rules)
    assert verdict.protected == ("license_terms d0 is protected (safety.protected."
                                 "license_terms) and is never deleted",)
    assert verdict.blocking(force=True) == verdict.protected
    capped = safety.judge(_plan(deletes=2), Safety(max_deletes=1))
    assert capped.blocking(force=True) == () and capped.blocking(force=False) == capped.caps


# -- the plan file -----------------------------------------------------------------------


def test_a_plan_survives_its_file_form() -> None:
    changes = (
        Change(Action.DELETE, Kind.LICENSE_TERM, ("OLD",), {"name": "Old"}, None, (),
               fingerprint({"name": "Old"})),
        Change(Action.UPDATE, Kind.CODE_TABLE, ("UserGroups",), {"rows": {}},
               {"rows": {"X": {}}}, (FieldDiff("rows[X]", ABSENT, {}),), "abc"),
        Change(Action.CREATE, Kind.LOCATION, ("MAIN", "NEW"), None, {"name": "N"}),
    )
    plan = Plan(changes, live_counts={Kind.LICENSE_TERM: 4}, target={"institution": "I"})
    again = Plan.from_dict(plan.to_dict())
    assert again.changes == plan.changes
    assert again.live_counts == plan.live_counts and again.target == plan.target
    assert plan.to_dict()["summary"] == {"create": 1, "update": 1, "delete": 1}
    assert plan.to_dict()["changes"][2]["key"] == "MAIN/NEW"


@pytest.mark.parametrize("body", [{"format_version": 2, "changes": []},
                                  {"format_version": 1},
                                  {"format_version": 1, "changes": [{"action": "burn"}]}])
def test_a_damaged_or_foreign_plan_file_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Plan.from_dict(body)
