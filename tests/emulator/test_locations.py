"""Libraries, locations and circulation desks."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import Api, assert_error

LOCATIONS = "/conf/libraries/MAIN/locations"
FULL_FIELDS = {
    "code",
    "name",
    "external_name",
    "type",
    "remote_storage",
    "map",
    "suppress_from_publishing",
    "fulfillment_unit",
    "accession_placement",
    "call_number_type",
    "link",
}


def test_location_list_is_brief(api: Api) -> None:
    body = api.get(LOCATIONS).json()
    assert [loc["code"] for loc in body["location"]] == ["STACKS", "REF", "RESERVE", "STORAGE"]
    for loc in body["location"]:
        assert set(loc) == {
            "code",
            "name",
            "external_name",
            "type",
            "map",
            "remote_storage",
            "link",
        }


def test_location_get_is_full_and_decorated(api: Api) -> None:
    loc = api.get(LOCATIONS + "/STORAGE").json()
    assert set(loc) == FULL_FIELDS
    assert loc["name"] == "Basement Storage" and loc["external_name"] == "Storage"
    assert loc["type"] == {"value": "CLOSED", "desc": "Closed"}
    assert loc["suppress_from_publishing"] == "true"
    assert loc["fulfillment_unit"] == {"value": "DEFAULT_FU", "desc": "Default fulfillment unit"}
    assert loc["link"] == api.url(LOCATIONS + "/STORAGE")


def _new(**fields: object) -> dict[str, object]:
    return {"code": "MEDIA", "name": "Media Room", "type": "OPEN", **fields}


def test_create_location(api: Api) -> None:
    body = _new(
        external_name="Media",
        fulfillment_unit="RESERVES_FU",
        call_number_type="1",
        accession_placement="852j",
        suppress_from_publishing="true",
    )
    created = api.post(LOCATIONS, json=body)
    assert created.status_code == 200
    loc = created.json()
    assert loc["call_number_type"] == {"value": "1", "desc": "Dewey Decimal classification"}
    assert loc["suppress_from_publishing"] == "true"
    assert api.get(LOCATIONS + "/MEDIA").json() == loc
    assert api.get(LOCATIONS).json()["total_record_count"] == 5


@pytest.mark.parametrize("missing", ["code", "name", "type"])
def test_create_requires_code_name_type(api: Api, missing: str) -> None:
    body = _new()
    del body[missing]
    response = api.post(LOCATIONS, json=body)
    assert_error(response, 400, "401664")
    assert (
        response.json()["errorList"]["error"][0]["errorMessage"]
        == f"Mandatory field is missing: {missing}"
    )


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("type", "SHELF", "60297"),
        ("fulfillment_unit", "NO_SUCH_FU", "60299"),
        ("remote_storage", "NOWHERE", "60298"),
        ("accession_placement", "999x", "60300"),
        ("call_number_type", "Z", "60301"),
    ],
)
def test_create_validates_codes(api: Api, field: str, value: str, code: str) -> None:
    assert_error(api.post(LOCATIONS, json=_new(**{field: value})), 400, code)


def test_remote_storage_location_needs_a_remote_storage(api: Api) -> None:
    assert_error(api.post(LOCATIONS, json=_new(type="REMOTE_STORAGE")), 400, "60298")
    ok = api.post(LOCATIONS, json=_new(type="REMOTE_STORAGE", remote_storage="OFFSITE"))
    assert ok.status_code == 200 and ok.json()["remote_storage"] == "OFFSITE"


def test_duplicate_location_code(api: Api) -> None:
    response = api.post(LOCATIONS, json=_new(code="STACKS"))
    assert_error(response, 400, "402119")
    assert "already exists" in response.json()["errorList"]["error"][0]["errorMessage"]
    assert api.post("/conf/libraries/LAW/locations", json=_new(code="STACKS")).status_code == 200


def test_unknown_library(api: Api) -> None:
    assert_error(api.get("/conf/libraries/NOPE/locations"), 400, "402119")
    assert_error(api.post("/conf/libraries/NOPE/locations", json=_new()), 400, "402119")


def test_put_replaces_the_whole_location(api: Api) -> None:
    before = api.get(LOCATIONS + "/RESERVE").json()
    assert before["fulfillment_unit"]["value"] == "RESERVES_FU"
    body = {
        "name": "Reserves Room",
        "type": {"value": "OPEN", "desc": "Open"},
        "circ_desk": [{"circ_desk_code": "RESERVES_DESK"}],
    }
    after = api.put(LOCATIONS + "/RESERVE", json=body).json()
    assert after["name"] == "Reserves Room" and after["external_name"] == ""
    assert after["fulfillment_unit"]["value"] == "DEFAULT_FU"
    assert after["circ_desk"][0]["circ_desk_code"] == "RESERVES_DESK"
    again = api.put(LOCATIONS + "/RESERVE", json={"name": "Reserves Room", "type": "OPEN"}).json()
    assert "circ_desk" not in again
    assert api.get(LOCATIONS + "/RESERVE").json() == again


def test_put_round_trips_the_get_body(api: Api) -> None:
    """A GET body whose coded fields all hold a value goes back unchanged."""
    full = {"accession_placement": "852j", "call_number_type": "1"}
    assert api.put(LOCATIONS + "/STACKS", json=_new(code="STACKS", **full)).status_code == 200
    loc = api.get(LOCATIONS + "/STACKS").json()
    assert api.put(LOCATIONS + "/STACKS", json=loc).json() == loc


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("type", "60297"),
        ("fulfillment_unit", "60299"),
        ("accession_placement", "60300"),
        ("call_number_type", "60301"),
    ],
)
def test_empty_coded_value_echoed_is_refused(api: Api, field: str, code: str) -> None:
    """FACTS 8: a PUT echoing an empty enum object was refused (60300); leaving the field
    out is the safe write. The emulator refuses {"value": ""} on POST and PUT alike."""
    loc = api.get(LOCATIONS + "/REF").json()
    assert loc["accession_placement"] == {"value": "", "desc": None}
    assert_error(api.put(LOCATIONS + "/REF", json=loc), 400, "60300")
    body = {**_new(code="REF"), field: {"value": ""}}
    assert_error(api.put(LOCATIONS + "/REF", json=body), 400, code)
    assert_error(api.post(LOCATIONS, json={**_new(), field: {"value": "", "desc": None}}),
                 400, code)
    without = {k: v for k, v in loc.items() if not (isinstance(v, dict) and v["value"] == "")}
    assert api.put(LOCATIONS + "/REF", json=without).json() == loc


def test_locations_have_no_description(api: Api) -> None:
    """FACTS 8: a full GET of a location has no description. A POST carrying one succeeds
    (a live test did so), and nothing of it is kept."""
    created = api.post(LOCATIONS, json=_new(description="Media and film")).json()
    assert "description" not in created
    assert "description" not in api.get(LOCATIONS + "/MEDIA").json()


def test_type_comes_from_the_location_types_table(api: Api) -> None:
    table = api.emu.store.code_tables["LocationTypes"]
    assert [row["code"] for row in table["rows"]] == ["OPEN", "CLOSED", "REMOTE_STORAGE"]
    assert_error(api.post(LOCATIONS, json=_new(type="SEMINAR")), 400, "60297")
    table["rows"].append({"code": "SEMINAR", "description": "Seminar room", "default": False,
                          "enabled": True})
    created = api.post(LOCATIONS, json=_new(type="SEMINAR")).json()
    assert created["type"] == {"value": "SEMINAR", "desc": "Seminar room"}
    listed = api.get("/conf/code-tables/LocationTypes").json()
    assert "SEMINAR" in [row["code"] for row in listed["row"]]


def test_put_validates(api: Api) -> None:
    assert_error(api.put(LOCATIONS + "/REF", json={"name": "x", "type": "NOPE"}), 400, "60297")
    assert_error(api.put(LOCATIONS + "/NOPE", json={"name": "x", "type": "OPEN"}), 400, "402119")


def test_delete_location(api: Api) -> None:
    assert api.delete(LOCATIONS + "/REF").status_code == 204
    assert_error(api.get(LOCATIONS + "/REF"), 400, "402119")
    assert_error(api.delete(LOCATIONS + "/REF"), 400, "402119")


def test_location_with_items_cannot_be_deleted(api: Api) -> None:
    response = api.delete(LOCATIONS + "/STACKS")
    assert_error(response, 400, "402119")
    assert "Location has items" in response.json()["errorList"]["error"][0]["errorMessage"]


def test_libraries_are_full_objects(api: Api) -> None:
    libraries = api.get("/conf/libraries").json()["library"]
    assert [lib["code"] for lib in libraries] == ["MAIN", "LAW", "MUSIC"]
    main = api.get("/conf/libraries/MAIN").json()
    assert main == libraries[0]
    assert main["name"] == "Main Library" and main["path"] == "01DEMO_INST.MAIN"
    assert main["campus"] == {"value": "MAIN_CAMPUS", "desc": "Main campus"}
    assert main["number_of_locations"]["value"] == "4"


def test_circ_desks_are_paged(api: Api) -> None:
    page = api.get("/conf/libraries/MAIN/circ-desks", params={"limit": 1}).json()
    assert page["total_record_count"] == 2 and len(page["circ_desk"]) == 1
    desk = api.get("/conf/libraries/MAIN/circ-desks/DEFAULT_CIRC_DESK").json()
    assert desk["code"] == "DEFAULT_CIRC_DESK"
    assert [loc["location_code"] for loc in desk["location"]] == ["STACKS", "REF", "STORAGE"]
