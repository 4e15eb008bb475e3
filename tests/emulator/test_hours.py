"""Open hours per scope, the computed calendar, and library relations."""

from __future__ import annotations

from typing import Any

from tests.emulator.conftest import Api, assert_error

CLOSURE = {
    "type": "EXCEPTION",
    "desc": "Inventory day",
    "from_date": "2026-08-03",
    "to_date": "2026-08-03",
    "from_hour": "00:00",
    "to_hour": "23:59",
    "status": {"value": "CLOSE"},
}


def test_open_hours_default_scope_is_the_institution(api: Api) -> None:
    body = api.get("/conf/open-hours").json()
    assert len(body["open_hour"]) == 3
    assert body == api.get("/conf/open-hours", params={"scope": "01DEMO_INST"}).json()
    week = body["open_hour"][0]
    assert week["type"] == {"value": "WEEK", "desc": "Week"} and week["inherited"] is False
    exception = body["open_hour"][2]
    assert exception["from_date"] == "2026-01-01Z" and exception["status"] == {
        "value": "CLOSE",
        "desc": "Closed",
    }


def test_open_hours_put_replaces_the_scope(api: Api) -> None:
    main = api.get("/conf/open-hours", params={"scope": "MAIN"}).json()["open_hour"]
    new_list: list[Any] = [*main[:1], CLOSURE]
    answer = api.put("/conf/open-hours", params={"scope": "MAIN"}, json={"open_hour": new_list})
    assert answer.status_code == 200
    stored = api.get("/conf/open-hours", params={"scope": "MAIN"}).json()["open_hour"]
    assert stored == answer.json()["open_hour"]
    assert [e["desc"] for e in stored] == ["Long weekdays", "Inventory day"]
    assert len(api.get("/conf/open-hours").json()["open_hour"]) == 3


def test_open_hours_delete_and_validation(api: Api) -> None:
    assert api.delete("/conf/open-hours", params={"scope": "LAW"}).status_code == 204
    assert api.delete("/conf/open-hours", params={"scope": "MAIN"}).status_code == 204
    assert api.get("/conf/open-hours", params={"scope": "MAIN"}).json() == {}
    assert_error(api.get("/conf/open-hours", params={"scope": "NOPE"}), 400, "402119")
    bad = {**CLOSURE, "from_date": "03/08/2026"}
    assert_error(api.put("/conf/open-hours", json={"open_hour": [bad]}), 400, "402119")
    assert_error(
        api.put("/conf/open-hours", json={"open_hour": [{**CLOSURE, "type": "HOLIDAY"}]}),
        400,
        "402119",
    )


def test_library_open_days_follow_the_calendar(api: Api) -> None:
    days = api.get(
        "/conf/libraries/MAIN/open-hours", params={"from": "2026-12-21", "to": "2026-12-27"}
    ).json()
    by_date = {d["date"]: d for d in days["day"]}
    assert by_date["2026-12-21Z"]["hour"] == [{"from": "07:30", "to": "23:59"}]
    assert by_date["2026-12-21Z"]["day_of_week"] == {"value": "MONDAY", "desc": "Monday"}
    assert "hour" not in by_date["2026-12-24Z"]
    assert "hour" not in by_date["2026-12-27Z"]
    assert_error(
        api.get(
            "/conf/libraries/MAIN/open-hours", params={"from": "2026-01-01", "to": "2026-03-01"}
        ),
        400,
        "402119",
    )
    default = api.get("/conf/libraries/LAW/open-hours").json()["day"]
    assert len(default) == 8


def test_relations(api: Api) -> None:
    main = api.get("/conf/relations", params={"scope": "MAIN"}).json()
    assert [r["library"]["value"] for r in main["relation"]] == ["LAW", "MUSIC"]
    everything = api.get("/conf/relations", params={"scope": "ALL"}).json()
    assert everything["total_record_count"] == 3
    assert_error(api.get("/conf/relations"), 400, "40166413")
    assert_error(api.get("/conf/relations", params={"scope": "NOPE"}), 400, "40166411")
    body = {"relation": [{"library": {"value": "LAW"}, "type": "RESOURCE_SHARING"}]}
    replaced = api.put("/conf/relations", params={"scope": "MUSIC"}, json=body).json()
    assert replaced["relation"][0]["source_library"]["value"] == "MUSIC"
    assert (
        api.delete(
            "/conf/relations", params={"scope": "MAIN", "libraryCode": "LAW,MUSIC"}
        ).status_code
        == 204
    )
    assert api.get("/conf/relations", params={"scope": "MAIN"}).json() == {"total_record_count": 0}
    assert_error(api.delete("/conf/relations", params={"scope": "MAIN"}), 400, "40166413")
    assert_error(
        api.put(
            "/conf/relations", params={"scope": "MAIN"}, json={"relation": [{"library": "NOPE"}]}
        ),
        400,
        "40166411",
    )
