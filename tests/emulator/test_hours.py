"""Open hours per scope, the computed calendar, and library relations."""

from __future__ import annotations

import datetime as dt
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


def _own(api: Api, scope: str) -> list[Any]:
    entries = api.get("/conf/open-hours", params={"scope": scope}).json().get("open_hour", [])
    return [e for e in entries if not e["inherited"]]


def test_open_hours_default_scope_is_the_institution(api: Api) -> None:
    body = api.get("/conf/open-hours").json()
    assert len(body["open_hour"]) == 9
    assert body == api.get("/conf/open-hours", params={"scope": "01DEMO_INST"}).json()
    monday = body["open_hour"][0]
    assert monday == {
        "type": {"value": "WEEK", "desc": "Week"},
        "inherited": False,
        "desc": "Weekdays",
        "day": {"value": "MONDAY", "desc": "Monday"},
        "from_date": "2026-01-01Z",
        "to_date": "2028-12-31Z",
        "from_hour": "08:00",
        "to_hour": "22:00",
        "status": {"value": "OPEN", "desc": "Open"},
    }
    exception = body["open_hour"][7]
    assert exception["from_date"] == "2026-01-01Z" and exception["status"] == {
        "value": "CLOSE",
        "desc": "Closed",
    }
    assert body["open_hour"][8] == {
        "type": {"value": "EVENT", "desc": "Event"},
        "inherited": False,
        "desc": "End of Semester",
        "from_date": "2026-12-18Z",
        "to_date": "2026-12-18Z",
    }


def test_a_library_shows_the_institutions_entries_as_inherited(api: Api) -> None:
    main = api.get("/conf/open-hours", params={"scope": "MAIN"}).json()["open_hour"]
    own, inherited = main[:7], main[7:]
    assert not any(e["inherited"] for e in own)
    assert len(inherited) == 9 and all(e["inherited"] for e in inherited)
    law = api.get("/conf/open-hours", params={"scope": "LAW"}).json()["open_hour"]
    assert [e["desc"] for e in law] == [e["desc"] for e in inherited]
    refused = api.put("/conf/open-hours", params={"scope": "MAIN"}, json={"open_hour": main})
    assert_error(refused, 400, "402119")
    assert "inherited" in refused.json()["errorList"]["error"][0]["errorMessage"]


def test_open_hours_put_replaces_the_scope(api: Api) -> None:
    main = _own(api, "MAIN")
    new_list: list[Any] = [*main[:1], CLOSURE]
    answer = api.put("/conf/open-hours", params={"scope": "MAIN"}, json={"open_hour": new_list})
    assert answer.status_code == 200
    stored = api.get("/conf/open-hours", params={"scope": "MAIN"}).json()["open_hour"]
    assert stored == answer.json()["open_hour"]
    assert [e["desc"] for e in stored if not e["inherited"]] == ["Long weekdays", "Inventory day"]
    assert len(api.get("/conf/open-hours").json()["open_hour"]) == 9


def test_standard_hours_without_dates_get_three_years_from_today(api: Api) -> None:
    today = dt.datetime.fromtimestamp(api.emu.clock(), dt.UTC).date()
    week = {"type": "WEEK", "day": {"value": "SUNDAY"}, "from_hour": "12:00", "to_hour": "16:00"}
    answer = api.put("/conf/open-hours", params={"scope": "LAW"}, json={"open_hour": [week]})
    assert answer.status_code == 200, answer.text
    sunday = answer.json()["open_hour"][0]
    assert sunday["from_date"] == f"{today.isoformat()}Z"
    assert sunday["to_date"].startswith(f"{today.year + 3}-")
    assert sunday["status"] == {"value": "OPEN", "desc": "Open"}


def test_open_hours_refusals_are_strict(api: Api) -> None:
    week = {"type": "WEEK", "day": {"value": "MONDAY"}, "from_hour": "09:00", "to_hour": "17:00"}
    refused = {
        "unknown field": {**CLOSURE, "colour": "red"},
        "unknown type": {**CLOSURE, "type": "HOLIDAY"},
        "several days": {**week, "day": [{"value": "MONDAY"}, {"value": "TUESDAY"}]},
        "no day": {k: v for k, v in week.items() if k != "day"},
        "day on an exception": {**CLOSURE, "day": "MONDAY"},
        "not a weekday": {**week, "day": "FUNDAY"},
        "event without a date": {"type": "EVENT", "desc": "End of Semester"},
        "inherited": {**CLOSURE, "inherited": True},
        "bad date": {**CLOSURE, "from_date": "03/08/2026"},
    }
    for name, entry in refused.items():
        answer = api.put("/conf/open-hours", params={"scope": "LAW"}, json={"open_hour": [entry]})
        assert answer.status_code == 400, name
        assert_error(answer, 400, "402119")
    twice = api.put(
        "/conf/open-hours", params={"scope": "LAW"}, json={"open_hour": [week, dict(week)]}
    )
    assert_error(twice, 400, "402119")
    assert "one standard-hours entry" in twice.text
    assert _own(api, "LAW") == []


def test_the_event_type_code_is_the_stores(api: Api) -> None:
    with api.emu.store.lock:
        api.emu.store.open_hours_event_type = "SEMESTER_END"
    entries = api.get("/conf/open-hours").json()["open_hour"]
    event = entries[-1]
    assert event["type"] == {"value": "SEMESTER_END", "desc": "Event"}
    assert_error(
        api.put("/conf/open-hours", json={"open_hour": [{**event, "type": "EVENT"}]}), 400, "402119"
    )
    answer = api.put("/conf/open-hours", json={"open_hour": entries})
    assert answer.status_code == 200, answer.text
    assert answer.json()["open_hour"] == entries


def test_open_hours_delete_and_validation(api: Api) -> None:
    assert api.delete("/conf/open-hours", params={"scope": "LAW"}).status_code == 204
    assert api.delete("/conf/open-hours", params={"scope": "MAIN"}).status_code == 204
    assert _own(api, "MAIN") == []
    assert_error(api.get("/conf/open-hours", params={"scope": "NOPE"}), 400, "402119")
    bad = {**CLOSURE, "from_date": "03/08/2026"}
    assert_error(api.put("/conf/open-hours", json={"open_hour": [bad]}), 400, "402119")


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
