"""The ``bare_singletons`` switch: one-element lists served as bare objects (FACTS 8)."""

from __future__ import annotations

import pytest

from almasync.emulator import SeedError
from almasync.emulator.seed import builtin_seed
from tests.emulator.conftest import Api, EmulatorFactory, assert_error


def test_one_element_lists_come_bare(make_emulator: EmulatorFactory) -> None:
    api = Api(make_emulator(bare_singletons=True))
    music = api.get("/conf/libraries/MUSIC/locations").json()
    assert music["location"]["code"] == "SCORES" and music["total_record_count"] == 1
    main = api.get("/conf/libraries/MAIN/locations").json()
    assert [loc["code"] for loc in main["location"]] == ["STACKS", "REF", "RESERVE", "STORAGE"]
    one_page = api.get("/conf/sets", params={"limit": 1}).json()
    assert one_page["set"]["name"] == "Missing items" and one_page["total_record_count"] == 2
    table = api.get("/conf/code-tables/InternalIndexingParameters")
    assert_error(table, 400, "90102")  # hidden table: errors keep their own shape
    assert table.json()["errorList"]["error"][0]["errorCode"] == "90102"


def test_the_switch_can_be_flipped_while_running(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator()
    api = Api(emu)
    assert api.get("/conf/libraries/MUSIC/locations").json()["location"][0]["code"] == "SCORES"
    emu.bare_singletons = True
    assert api.get("/conf/libraries/MUSIC/locations").json()["location"]["code"] == "SCORES"
    assert "<code>SCORES</code>" in api.get("/conf/libraries/MUSIC/locations",
                                            headers={"Accept": "application/xml"}).text


def test_bodies_in_either_form_are_accepted(make_emulator: EmulatorFactory) -> None:
    """A client that writes back what it read (a bare row) is understood."""
    emu = make_emulator(bare_singletons=True)
    api = Api(emu)
    body = api.get("/conf/code-tables/UserGroups").json()
    body["row"] = {"code": "STAFF", "description": "Staff only", "enabled": True}
    answer = api.put("/conf/code-tables/UserGroups", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["row"]["description"] == "Staff only"
    assert [r["code"] for r in emu.store.code_tables["UserGroups"]["rows"]] == ["STAFF"]


def test_a_seed_can_turn_it_on(make_emulator: EmulatorFactory) -> None:
    seed = builtin_seed("demo")
    seed["institution"]["bare_singletons"] = True
    assert make_emulator(seed).bare_singletons is True
    assert make_emulator(seed, bare_singletons=False).bare_singletons is False
    assert make_emulator().bare_singletons is False
    seed["institution"]["bare_singletons"] = "yes"
    with pytest.raises(SeedError, match=r"institution\.bare_singletons: true or false"):
        make_emulator(seed)
