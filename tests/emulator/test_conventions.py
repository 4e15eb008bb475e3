"""Alma's conventions: envelopes, paging, value/desc, links, formats, error bodies."""

from __future__ import annotations

import json

import pytest
import requests

from almasync.emulator import Emulator
from tests.emulator.conftest import Api, EmulatorFactory, alma_code, assert_error

JSON_TYPE = "application/json;charset=UTF-8"


def test_list_envelope_has_singular_key_and_total(api: Api) -> None:
    body = api.get("/conf/libraries").json()
    assert set(body) == {"library", "total_record_count"}
    assert body["total_record_count"] == 3 == len(body["library"])


def test_empty_list_omits_the_array_key(make_emulator: EmulatorFactory) -> None:
    api = Api(make_emulator("empty"))
    for path in (
        "/conf/libraries/MAIN/locations",
        "/conf/license-terms",
        "/conf/reminders",
        "/conf/sets",
    ):
        assert api.get(path).json() == {"total_record_count": 0}, path


def test_paging_default_is_ten_and_limit_offset_apply(make_emulator: EmulatorFactory) -> None:
    seed = {
        "institution": {"code": "01PAGE_INST"},
        "license_terms": {},
        "reminders": [
            {
                "entity_id": f"99{n:04d}",
                "type": "GENERAL",
                "text": f"r{n}",
                "reminder_date": "2026-01-01",
            }
            for n in range(25)
        ],
    }
    api = Api(make_emulator(seed))
    first = api.get("/conf/reminders").json()
    assert first["total_record_count"] == 25 and len(first["reminder"]) == 10
    page = api.get("/conf/reminders", params={"limit": 100, "offset": 20}).json()
    assert len(page["reminder"]) == 5
    assert api.get("/conf/reminders", params={"limit": 0}).json() == {"total_record_count": 25}
    beyond = api.get("/conf/reminders", params={"offset": 30}).json()
    assert beyond == {"total_record_count": 25}


@pytest.mark.parametrize("limit", ["101", "-1", "ten"])
def test_limit_out_of_range_is_rejected(api: Api, limit: str) -> None:
    assert_error(api.get("/conf/sets", params={"limit": limit}), 400, "40166410")


def test_unpaged_lists_ignore_limit_and_return_everything(api: Api) -> None:
    body = api.get("/conf/libraries/MAIN/locations", params={"limit": "1"}).json()
    assert body["total_record_count"] == 4 and len(body["location"]) == 4
    tables = api.get("/conf/code-tables", params={"limit": "2"}).json()
    assert len(tables["code_table"]) == tables["total_record_count"] > 2


def test_value_desc_and_absolute_links(api: Api) -> None:
    loc = api.get("/conf/libraries/MAIN/locations/RESERVE").json()
    assert loc["type"] == {"value": "CLOSED", "desc": "Closed"}
    assert loc["link"] == api.url("/conf/libraries/MAIN/locations/RESERVE")
    assert loc["call_number_type"] == {"value": "", "desc": None}


def test_content_type_is_alma_json(api: Api) -> None:
    response = api.get("/conf/general")
    assert response.headers["Content-Type"] == JSON_TYPE


def test_error_envelope_shape(api: Api) -> None:
    response = api.get("/conf/license-terms/NOPE")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    assert body["errorsExist"] is True and body["result"] is None
    [error] = body["errorList"]["error"]
    assert error["errorCode"] == "403400"
    assert error["errorMessage"]
    assert error["trackingId"].startswith("E01-")


def test_xml_errors_on_request(api: Api) -> None:
    for kwargs in ({"headers": {"Accept": "application/xml"}}, {"params": {"format": "xml"}}):
        response = api.get("/conf/license-terms/NOPE", **kwargs)
        assert response.status_code == 400
        assert response.headers["Content-Type"] == "application/xml;charset=UTF-8"
        assert 'xmlns="http://com/exlibris/urm/general/xmlbeans"' in response.text
        assert "<web_service_result" in response.text
        assert alma_code(response) == "403400"


def test_xml_mirror_of_json_resources(api: Api) -> None:
    text = api.get("/conf/libraries/MAIN/locations/STACKS", params={"format": "xml"}).text
    assert '<location link="' in text
    assert '<type desc="Open">OPEN</type>' in text
    listing = api.get("/conf/libraries", headers={"Accept": "application/xml"}).text
    assert '<libraries total_record_count="3">' in listing


def test_accept_preferences(api: Api) -> None:
    mixed = api.get("/conf/general", headers={"Accept": "application/json, application/xml;q=0.9"})
    assert mixed.headers["Content-Type"] == JSON_TYPE
    anything = api.get("/conf/general", headers={"Accept": "*/*"})
    assert anything.headers["Content-Type"] == JSON_TYPE
    json_wins = api.get(
        "/conf/general", params={"format": "json"}, headers={"Accept": "application/xml"}
    )
    assert json_wins.headers["Content-Type"] == JSON_TYPE


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/conf/libraries/NOPE", "402119"),
        ("/conf/libraries/MAIN/locations/NOPE", "402119"),
        ("/conf/libraries/MAIN/circ-desks/NOPE", "401664"),
        ("/conf/code-tables/NoSuchTable", "90101"),
        ("/conf/mapping-tables/NoSuchTable", "90101"),
        ("/conf/letters/NoSuchLetter", "40166411"),
        ("/conf/license-terms/NOPE", "403400"),
        ("/conf/reminders/123", "60177"),
        ("/conf/sets/123", "60107"),
        ("/conf/sets/123/members", "60107"),
        ("/conf/integration-profiles/123", "60304"),
        ("/conf/jobs/M1", "402216"),
        ("/conf/jobs/X1", "402215"),
        ("/conf/jobs/M26714670000011/instances/1", "402218"),
        ("/conf/printers/1", "402899"),
        ("/conf/deposit-profiles/1", "401871"),
        ("/conf/md-import-profiles/1", "401871"),
    ],
)
def test_not_found_is_400_with_the_kinds_code(api: Api, path: str, code: str) -> None:
    assert_error(api.get(path), 400, code)


def test_post_and_put_answer_200_with_the_object_delete_204(api: Api) -> None:
    created = api.post("/conf/license-terms", json={"code": "TXT", "name": "Text mining"})
    assert created.status_code == 200 and created.json()["code"] == "TXT"
    updated = api.put(
        "/conf/license-terms/TXT", json={"code": "TXT", "name": "Text and data mining"}
    )
    assert updated.status_code == 200 and updated.json()["name"] == "Text and data mining"
    deleted = api.delete("/conf/license-terms/TXT")
    assert deleted.status_code == 204 and deleted.content == b""
    assert "Content-Type" not in deleted.headers


def test_input_accepts_bare_and_wrapped_values(api: Api) -> None:
    for n, type_value in enumerate(["OPEN", {"value": "OPEN"}, {"value": "OPEN", "desc": "Open"}]):
        body = {
            "code": f"NEW{n}",
            "name": f"New {n}",
            "type": type_value,
            "fulfillment_unit": {"value": "DEFAULT_FU"},
        }
        response = api.post("/conf/libraries/MAIN/locations", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["type"] == {"value": "OPEN", "desc": "Open"}


def test_invalid_json_body_is_an_alma_error(api: Api) -> None:
    response = api.post(
        "/conf/license-terms", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "402119")


def test_api_key_as_query_parameter(emu: Emulator) -> None:
    response = requests.get(
        emu.base_url + "/almaws/v1/conf/general", params={"apikey": emu.api_key}, timeout=10
    )
    assert response.status_code == 200
    assert emu.requests[-1].query == {"apikey": "***"}


def test_json_bodies_are_utf8(api: Api) -> None:
    body = api.get("/conf/code-tables/UserGroups", params={"lang": "fr"}).content
    assert "Étudiant".encode() in body
    assert json.loads(body)["language"] == {"value": "fr", "desc": "French"}
