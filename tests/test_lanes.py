"""Which changes apply may write at once: waves by kind and direction, lanes by write
target and dependency."""

from __future__ import annotations

from almasync.lanes import waves
from almasync.model import Fields, Key, Kind
from almasync.plan.changes import Action, Change


def update(kind: Kind, key: Key, after: Fields) -> Change:
    return Change(Action.UPDATE, kind, key, {}, after)


def test_a_wave_per_kind_and_direction_in_plan_order() -> None:
    changes = [
        Change(Action.DELETE, Kind.LOCATION, ("LAW", "OLD"), {"name": "Old"}, None),
        Change(Action.DELETE, Kind.LOCATION, ("MAIN", "OLD"), {"name": "Old"}, None),
        update(Kind.CODE_TABLE, ("UserGroups",), {"rows": []}),
        Change(Action.CREATE, Kind.LOCATION, ("MAIN", "NEW"), None, {"name": "New"}),
        update(Kind.LOCATION, ("MAIN", "STACKS"), {"name": "Stacks"}),
    ]
    assert waves(changes) == [[[0], [1]], [[2]], [[3], [4]]]


def test_one_tables_declarations_share_a_lane_other_tables_do_not() -> None:
    rows = {"rows": [{"code": "A", "description": "A"}]}
    changes = [
        update(Kind.CODE_TABLE, ("ItemPolicy", "scope=LAW"), rows),
        update(Kind.CODE_TABLE, ("ItemPolicy", "scope=MAIN"), rows),
        update(Kind.CODE_TABLE, ("UserGroups",), rows),
        update(Kind.CODE_TABLE, ("UserGroups", "lang=fr"), rows),
        update(Kind.CODE_TABLE, ("systemJobStatus", "lang=fr"), rows),
        update(Kind.MAPPING_TABLE, ("UserGroups",), rows),
    ]
    assert waves(changes) == [[[0, 1], [2, 3], [4]], [[5]]]


def test_letters_go_one_at_a_time() -> None:
    """Each letter is read through the lists of letters, which every letter's write
    changes; labels go into code tables letters may share."""
    changes = [
        update(Kind.LETTER, ("FulReturnLetter",), {"labels": {"header": "Returned"}}),
        update(Kind.LETTER, ("FulLoanLetter",), {"enabled": False}),
        update(Kind.LETTER, ("OrderLetter",), {"labels": {"header": "Ordered"}}),
    ]
    assert waves(changes) == [[[0, 1, 2]]]


def test_kinds_found_through_a_shared_list_go_one_at_a_time() -> None:
    """Sets (a name search), integration profiles (the list, by code) and open-hours scopes
    (one path) are each read through something every write of the kind changes."""
    changes = [
        update(Kind.SET, ("Missing items",), {"description": "a"}),
        update(Kind.SET, ("Weeding",), {"description": "b"}),
        update(Kind.INTEGRATION_PROFILE, ("SIS",), {"description": "c"}),
        update(Kind.INTEGRATION_PROFILE, ("RFID",), {"description": "d"}),
        update(Kind.OPEN_HOURS, ("MAIN",), {"entries": []}),
        update(Kind.OPEN_HOURS, ("LAW",), {"entries": []}),
        update(Kind.LOCATION, ("MAIN", "STACKS"), {"name": "Stacks"}),
        update(Kind.LOCATION, ("MAIN", "REF"), {"name": "Reference"}),
    ]
    assert waves(changes) == [[[0, 1]], [[2, 3]], [[4, 5]], [[6], [7]]]
