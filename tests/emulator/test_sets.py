"""Sets: brief lists, full sets, members and the manage-members operations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.conftest import Api, assert_error

ITEMIZED = "/conf/sets/3100000020005501"
LOGICAL = "/conf/sets/3100000010005501"


def _members(*ids: str) -> dict[str, Any]:
    return {"members": {"member": [{"id": i} for i in ids]}}


def test_set_list_is_brief(api: Api) -> None:
    """FACTS 8: list entries carry the metadata, but neither number_of_members nor query."""
    sets = api.get("/conf/sets").json()["set"]
    assert [s["name"] for s in sets] == ["Missing items", "New acquisitions 2026"]
    for entry in sets:
        assert set(entry) == {"id", "name", "description", "type", "content", "status", "origin",
                              "private", "status_date", "created_by", "created_date", "link"}
    assert sets[1]["private"] == {"value": "false", "desc": "No"}
    assert sets[1]["description"] == "Titles bought in 2026"
    assert api.get(ITEMIZED).json()["number_of_members"] == {
        "value": "2", "link": api.url(ITEMIZED + "/members")}


def test_set_list_filters(api: Api) -> None:
    def names(**params: str) -> list[str]:
        return [s["name"] for s in api.get("/conf/sets", params=params).json().get("set", [])]

    assert names(set_type="LOGICAL") == ["Missing items"]
    assert names(content_type="BIB_MMS") == ["New acquisitions 2026"]
    assert names(q="name~acquisitions") == ["New acquisitions 2026"]
    assert names(q="name~New_acquisitions_2026") == ["New acquisitions 2026"]
    assert names(q="name~2026_NEW") == ["New acquisitions 2026"]  # words, in any order
    assert names(q="name~new_acq") == []  # whole words only
    assert names(q="name~items AND created_by~exl_api") == ["Missing items"]
    assert_error(api.get("/conf/sets", params={"q": "name~_"}), 400, "60106")
    assert names(set_origin="UI_CZ") == []
    assert_error(api.get("/conf/sets", params={"q": "acquisitions"}), 400, "60106")
    assert_error(api.get("/conf/sets", params={"set_type": "OTHER"}), 400, "40166410")


def test_set_full(api: Api) -> None:
    logical = api.get(LOGICAL).json()
    assert logical["type"] == {"value": "LOGICAL", "desc": "Logical"}
    assert logical["query"]["value"] == "ITEM where ITEM ((process_type EQUAL MISSING))"
    assert logical["private"] == {"value": "false", "desc": "No"}
    itemized = api.get(ITEMIZED).json()
    assert "query" not in itemized
    assert itemized["content"] == {"value": "BIB_MMS", "desc": "All Titles"}


def test_members_list_shape_and_paging(api: Api) -> None:
    body = api.get(ITEMIZED + "/members").json()
    assert body["total_record_count"] == 2
    assert body["member"][0] == {
        "id": "991234",
        "description": "Introduction to library science / Demo Press, 2019.",
        "link": api.url("/bibs/991234"),
    }
    page = api.get(ITEMIZED + "/members", params={"limit": 1, "offset": 1}).json()
    assert [m["id"] for m in page["member"]] == ["991235"]


def _ids(api: Api, path: str = ITEMIZED) -> list[str]:
    body = api.get(path + "/members", params={"limit": 100}).json()
    return [m["id"] for m in body.get("member", [])]


def test_manage_members(api: Api) -> None:
    full = api.get(ITEMIZED).json()
    added = api.post(ITEMIZED, params={"op": "add_members"}, json={**full, **_members("991236")})
    assert added.status_code == 200 and added.json()["number_of_members"]["value"] == "3"
    assert _ids(api) == ["991234", "991235", "991236"]
    api.post(ITEMIZED, params={"op": "delete_members"}, json=_members("991234"))
    assert _ids(api) == ["991235", "991236"]
    api.post(ITEMIZED, params={"op": "replace_members"}, json=_members("991240", "991235"))
    assert _ids(api) == ["991240", "991235"]


@pytest.mark.parametrize(
    ("op", "body", "code"),
    [
        ("add_members", _members("991234"), "60115"),
        ("delete_members", _members("999999"), "60117"),
        ("add_members", _members("991240", "991240"), "60119"),
        ("add_members", {"members": {"member": [{}]}}, "60114"),
        ("add_members", {}, "60113"),
        ("add_members", _members("not-a-number"), "60116"),
        ("rename", _members("991240"), "60111"),
        ("", _members("991240"), "60111"),
    ],
)
def test_manage_members_errors(api: Api, op: str, body: dict[str, Any], code: str) -> None:
    assert_error(api.post(ITEMIZED, params={"op": op}, json=body), 400, code)


def test_manage_members_limits(api: Api) -> None:
    too_many = _members(*(f"99{n:06d}" for n in range(1001)))
    assert_error(api.post(ITEMIZED, params={"op": "add_members"}, json=too_many), 400, "60118")
    just_enough = _members(*(f"98{n:06d}" for n in range(1000)))
    assert api.post(ITEMIZED, params={"op": "add_members"}, json=just_enough).status_code == 200
    assert api.get(ITEMIZED).json()["number_of_members"]["value"] == "1002"
    assert_error(api.post(LOGICAL, params={"op": "add_members"}, json=_members("1")), 400, "60112")
    assert_error(
        api.post("/conf/sets/1", params={"op": "add_members"}, json=_members("1")), 400, "60107"
    )


def test_lenient_member_ids(api: Api) -> None:
    body = _members("991234", "bad-id", "991299")
    params = {"op": "add_members", "fail_on_invalid_id": "false"}
    assert api.post(ITEMIZED, params=params, json=body).status_code == 200
    assert _ids(api) == ["991234", "991235", "991299"]


def test_create_update_delete_set(api: Api) -> None:
    body = {
        "name": "Weeding 2026",
        "type": {"value": "ITEMIZED"},
        "content": {"value": "BIB_MMS"},
        "private": {"value": "true"},
        "members": _members("991234")["members"],
    }
    created = api.post("/conf/sets", json=body).json()
    assert created["number_of_members"]["value"] == "0"
    assert created["private"] == {"value": "true", "desc": "Yes"}
    path = f"/conf/sets/{created['id']}"
    assert_error(api.post("/conf/sets", json=body), 400, "402263")
    assert_error(api.put(path, json={**body, "name": "Missing items"}), 400, "402263")
    updated = api.put(
        path, json={"name": "Weeding 2026 (final)", "type": "ITEMIZED", "content": "BIB_MMS",
                    "private": "false"}
    ).json()
    assert updated["private"]["value"] == "false" and updated["description"] == ""
    omitted = api.put(
        path, json={"name": "Weeding 2026 (final)", "type": "ITEMIZED", "content": "BIB_MMS"}
    ).json()
    assert omitted["private"] == {"value": "true", "desc": "Yes"}  # FACTS 8: defaults to true
    assert_error(
        api.put(
            path,
            json={
                "name": "x",
                "type": "LOGICAL",
                "content": "BIB_MMS",
                "query": "BIB_MMS where BIB_MMS ((all CONTAIN x))",
            },
        ),
        400,
        "402261",
    )
    assert api.delete(path).status_code == 204
    assert_error(api.delete(path), 400, "402264")
    assert_error(api.get(path), 400, "60107")


def test_create_set_validation(api: Api) -> None:
    assert_error(
        api.post("/conf/sets", json={"name": "x", "type": "MIXED", "content": "ITEM"}),
        400,
        "402262",
    )
    logical = {"name": "Lost", "type": "LOGICAL", "content": "ITEM"}
    assert_error(api.post("/conf/sets", json=logical), 400, "402119")
    wrong_query = {**logical, "query": "USER where USER ((all CONTAIN x))"}
    assert_error(api.post("/conf/sets", json=wrong_query), 400, "402269")
    assert_error(
        api.post("/conf/sets", json={**logical, "query": "ITEM where x", "private": "perhaps"}),
        400,
        "60209",
    )


def test_combine_sets(api: Api) -> None:
    base = {"type": "ITEMIZED", "content": "BIB_MMS"}
    other = api.post("/conf/sets", json={**base, "name": "Other"}).json()
    api.post(
        f"/conf/sets/{other['id']}", params={"op": "add_members"}, json=_members("991235", "991299")
    )
    combined = api.post(
        "/conf/sets",
        params={"set1": ITEMIZED.rsplit("/", 1)[1], "set2": other["id"], "combine": "AND"},
        json={**base, "name": "Both"},
    ).json()
    assert _ids(api, f"/conf/sets/{combined['id']}") == ["991235"]
    assert_error(
        api.post(
            "/conf/sets", params={"set1": other["id"], "set2": "1"}, json={**base, "name": "Bad"}
        ),
        400,
        "402264",
    )
