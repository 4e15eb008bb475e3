"""License terms, reminders and integration profiles."""

from __future__ import annotations

from typing import Any

import pytest

from almasync.emulator.seed import builtin_seed
from tests.emulator.conftest import Api, assert_error


def test_license_terms_crud(api: Api) -> None:
    listing = api.get("/conf/license-terms").json()
    assert {t["code"]: t["name"] for t in listing["license_term"]} == {
        "ARCHIVE": "Archiving right",
        "ILLELEC": "Interlibrary loan electronic",
        "WALKIN": "Walk-in users",
    }
    term = api.post(
        "/conf/license-terms", json={"code": "TDM", "name": "Text and data mining"}
    ).json()
    assert term["type"] == {"value": "USAGE", "desc": "Usage"}
    assert api.get("/conf/license-terms/TDM").json() == term
    assert_error(
        api.post("/conf/license-terms", json={"code": "TDM", "name": "Again"}), 400, "60198"
    )
    assert_error(api.post("/conf/license-terms", json={"code": "X"}), 400, "500021")
    assert_error(api.post("/conf/license-terms", json={"name": "No code"}), 400, "500021")
    assert_error(
        api.post("/conf/license-terms", json={"code": "Y", "name": "Y", "type": "ZZZ"}),
        400,
        "60195",
    )


def test_license_term_put_replaces_and_can_rename(api: Api) -> None:
    updated = api.put("/conf/license-terms/ARCHIVE", json={"name": "Archival copies"}).json()
    assert updated["type"]["value"] == "USAGE" and updated["description"] == ""
    assert_error(
        api.put("/conf/license-terms/ARCHIVE", json={"code": "WALKIN", "name": "x"}), 400, "60198"
    )
    renamed = api.put("/conf/license-terms/ARCHIVE", json={"code": "ARCHIVAL", "name": "x"})
    assert renamed.status_code == 200
    assert_error(api.get("/conf/license-terms/ARCHIVE"), 400, "403400")
    assert_error(api.put("/conf/license-terms/NOPE", json={"name": "x"}), 400, "403400")
    assert api.delete("/conf/license-terms/ARCHIVAL").status_code == 204
    assert_error(api.delete("/conf/license-terms/ARCHIVAL"), 400, "403400")


def _reminder(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "entity": {"entity_type": {"value": "BIB_MMS"}, "entity_id": "991240"},
        "type": {"value": "GENERAL"},
        "status": {"value": "NEW"},
        "text": "Order the new edition",
        "reminder_date": "2026-10-01",
    }
    body.update(fields)
    return body


def test_reminder_shape(api: Api) -> None:
    rem = api.get("/conf/reminders/5100000010005501").json()
    assert rem["entity"] == {
        "description": "Introduction to library science / Demo Press, 2019.",
        "entity_type": {"value": "BIB_MMS", "desc": "All Titles"},
        "entity_id": "991234",
        "link": api.url("/bibs/991234"),
    }
    assert rem["type"] == {"value": "GENERAL", "desc": "General"}
    assert rem["status"] == {"value": "NEW", "desc": "New"}
    assert rem["reminder_date"] == "2026-12-01Z"
    assert rem["link"] == api.url("/conf/reminders/5100000010005501")


def test_reminder_create_assigns_numeric_id(api: Api) -> None:
    created = api.post(
        "/conf/reminders", json=_reminder(id="ignored", created_date="1999-01-01Z")
    ).json()
    assert created["id"].isdigit() and created["id"] != "ignored"
    assert created["created_date"] != "1999-01-01Z"
    assert api.get(f"/conf/reminders/{created['id']}").json() == created
    changed = api.put(
        f"/conf/reminders/{created['id']}", json=_reminder(status="CLOSED", text="Done")
    ).json()
    assert changed["status"]["value"] == "CLOSED" and changed["id"] == created["id"]
    assert api.delete(f"/conf/reminders/{created['id']}").status_code == 204
    assert_error(api.get(f"/conf/reminders/{created['id']}"), 400, "60177")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"entity": {"entity_type": "BIB_MMS"}}, "60184"),
        ({"entity": {"entity_type": "ITEM", "entity_id": "991240"}}, "60183"),
        ({"entity": {"entity_type": "BIB_MMS", "entity_id": "abc"}}, "60182"),
        ({"type": "NOPE"}, "60178"),
        ({"type": None}, "60178"),
        ({"status": "MAYBE"}, "60179"),
        ({"reminder_date": None}, "60185"),
        ({"reminder_date": "tomorrow"}, "40166410"),
    ],
)
def test_reminder_validation(api: Api, change: dict[str, Any], code: str) -> None:
    assert_error(api.post("/conf/reminders", json=_reminder(**change)), 400, code)


def test_reminder_filters_order_and_paging(api: Api) -> None:
    def ids(**params: Any) -> list[str]:
        body = api.get("/conf/reminders", params=params).json()
        return [r["entity"]["entity_id"] for r in body.get("reminder", [])]

    assert ids() == ["991234", "991235", "991236"]
    assert ids(order_by="reminder_date") == ["991236", "991235", "991234"]
    assert ids(order_by="reminder_date", direction="desc") == ["991234", "991235", "991236"]
    assert ids(type="RENEWAL") == ["991235"]
    assert ids(status="CLOSED") == ["991236"]
    assert ids(entity_id="991234") == ["991234"]
    assert ids(**{"from": "2026-01-01", "to": "2026-12-31"}) == ["991234", "991235"]
    assert ids(**{"from": "2026-12-01"}) == ["991234"]
    assert ids(limit=1, offset=1) == ["991235"]
    assert_error(api.get("/conf/reminders", params={"order_by": "text"}), 400, "40166410")
    assert_error(api.get("/conf/reminders", params={"type": "NOPE"}), 400, "40166410")
    assert_error(api.get("/conf/reminders", params={"from": "01/01/2026"}), 400, "40166410")


def test_a_seed_may_refuse_wide_reminder_windows(make_emulator: Any) -> None:
    """Whether Alma takes 1900..2999 is unknown; institution.reminder_window_days refuses
    windows wider than that many days."""
    seed = builtin_seed("demo")
    seed["institution"]["reminder_window_days"] = 400
    api = Api(make_emulator(seed))
    wide = api.get("/conf/reminders", params={"from": "1900-01-01", "to": "2999-12-31"})
    assert_error(wide, 400, "40166410")
    assert "at most 400 days" in wide.text
    narrow = api.get("/conf/reminders", params={"from": "2026-01-01", "to": "2026-12-31"})
    assert narrow.json()["total_record_count"] == 2


def _pair(entry: dict[str, Any]) -> tuple[str, str]:
    return entry["action"]["value"], entry["name"]["value"]


def test_integration_profiles(api: Api) -> None:
    page = api.get("/conf/integration-profiles").json()
    assert page["total_record_count"] == 4
    bursar = next(p for p in page["integration_profile"] if p["code"] == "BURSAR_FINES")
    assert bursar["type"] == {"value": "BURSAR", "desc": "Bursar"}
    # The list GET carries the flat parameter list, each entry tagged with its action.
    assert [_pair(e) for e in bursar["parameter"]] == [
        ("EXPORT", "ftp_server"), ("EXPORT", "ftp_user"), ("EXPORT", "ftp_password"),
        ("IMPORT", "ftp_server"), ("IMPORT", "ftp_user"), ("IMPORT", "ftp_password")]
    assert "actions" not in bursar and "parameters" not in bursar
    full = api.get(f"/conf/integration-profiles/{bursar['id']}").json()
    assert full["parameter"] == bursar["parameter"]
    users = api.get("/conf/integration-profiles", params={"type": "USERS"}).json()
    assert [p["code"] for p in users["integration_profile"]] == ["SIS_SYNC"]
    assert_error(api.get("/conf/integration-profiles", params={"type": "NOPE"}), 400, "40166404")
    assert (
        api.get("/conf/integration-profiles", params={"limit": 1}).json()["total_record_count"] == 4
    )


def test_integration_types_come_from_the_code_table(api: Api) -> None:
    table = api.get("/conf/code-tables/IntegrationTypes").json()
    codes = {row["code"] for row in table["row"]}
    assert {"CENTRAL_CATALOG_INTEGRATION", "ILL_INTEGRATION", "PROXY_DEFINITION",
            "REMOTE_STORAGE", "BURSAR", "USERS"} <= codes
    created = api.post("/conf/integration-profiles",
                       json={"code": "ILL1", "type": {"value": "ILL_INTEGRATION"}})
    assert created.json()["type"] == {"value": "ILL_INTEGRATION", "desc": "ILL Integration"}
    with api.emu.store.lock:
        rows = api.emu.store.code_tables["IntegrationTypes"]["rows"]
        api.emu.store.code_tables["IntegrationTypes"]["rows"] = [
            r for r in rows if r["code"] != "PROXY_DEFINITION"]
    refused = api.post("/conf/integration-profiles",
                       json={"code": "PROXY1", "type": "PROXY_DEFINITION"})
    assert_error(refused, 400, "40166404")


def test_integration_profile_crud_keeps_free_form_fields(api: Api) -> None:
    body = {
        "code": "RFID_MAIN",
        "type": {"value": "RFID"},
        "description": "RFID pads",
        "system": {"value": "OTHER"},
        "parameter": [
            {"action": {"value": "SCAN", "desc": "Scan"}, "name": "vendor", "value": "Acme"},
            {"action": "CHECKIN", "name": {"value": "vendor"}, "value": "Other", "x": [1]},
        ],
    }
    created = api.post("/conf/integration-profiles", json=body).json()
    assert created["id"].isdigit() and created["system"] == {"value": "OTHER"}
    # action and name as {"value"} (desc is output-only), everything else exactly as sent
    assert created["parameter"] == [
        {"action": {"value": "SCAN"}, "name": {"value": "vendor"}, "value": "Acme"},
        {"action": {"value": "CHECKIN"}, "name": {"value": "vendor"}, "value": "Other",
         "x": [1]},
    ]
    path = f"/conf/integration-profiles/{created['id']}"
    replaced = api.put(path, json={"code": "RFID_MAIN", "type": "RFID"}).json()
    assert "parameter" not in replaced and replaced["description"] == ""
    assert "system" not in replaced
    single = {"action": "SCAN", "name": "port", "value": "8443"}
    one = api.put(path, json={"code": "RFID_MAIN", "type": "RFID", "parameter": single}).json()
    assert one["parameter"] == [{"action": {"value": "SCAN"}, "name": {"value": "port"},
                                 "value": "8443"}]
    assert_error(
        api.post("/conf/integration-profiles", json={"code": "X", "type": "BAD"}), 400, "40166404"
    )
    assert_error(api.put("/conf/integration-profiles/42", json=body), 400, "60304")
    assert api.delete(path).status_code == 204
    assert_error(api.delete(path), 400, "60304")


@pytest.mark.parametrize(
    ("parameter", "code", "message"),
    [
        ([{"name": "ftp_server", "value": "a"}], "401664", "parameter[0].action"),
        ([{"action": "EXPORT", "name": "x", "value": "a"}, {"action": {"value": "EXPORT"},
                                                            "value": "b"}],
         "401664", "parameter[1].name"),
        ([{"action": {"value": ""}, "name": "x"}], "401664", "parameter[0].action"),
        ([{"action": "EXPORT", "name": "ftp_server", "value": "a"},
          {"action": "EXPORT", "name": "ftp_server", "value": "b"}], "40166410",
         "ftp_server of action EXPORT"),
        (["ftp_server"], "40166410", "parameter[0]"),
    ],
)
def test_parameters_are_identified_by_action_and_name(
    api: Api, parameter: list[Any], code: str, message: str
) -> None:
    bursar = "/conf/integration-profiles/6100000040005501"
    before = api.get(bursar).json()
    body = {"code": "BURSAR_FINES", "type": "BURSAR", "parameter": parameter}
    for response in (api.put(bursar, json=body),
                     api.post("/conf/integration-profiles", json={**body, "code": "NEW"})):
        assert_error(response, 400, code)
        assert message in response.json()["errorList"]["error"][0]["errorMessage"]
    assert api.get(bursar).json() == before
    codes = [p["code"] for p in api.get("/conf/integration-profiles").json()["integration_profile"]]
    assert "NEW" not in codes


def test_a_seed_may_hold_parameters_the_api_refuses(make_emulator: Any) -> None:
    """A seed stands for an institution that deviates: its entries are served as given,
    and a PUT that echoes them is refused like any other."""
    deviant = [
        {"name": {"value": "ftp_server"}, "value": "no-action.example.edu"},
        {"action": {"value": "EXPORT"}, "name": {"value": "x"}, "value": "1"},
        {"action": {"value": "EXPORT"}, "name": {"value": "x"}, "value": "2"},
    ]
    seed = {
        "format": 1,
        "institution": {"code": "01DEV_INST", "name": "Deviant"},
        "integration_profiles": [
            {"id": "1", "code": "ODD", "type": "USERS", "parameter": deviant}
        ],
    }
    api = Api(make_emulator(seed=seed))
    served = api.get("/conf/integration-profiles/1").json()
    assert served["parameter"] == deviant
    assert_error(api.put("/conf/integration-profiles/1", json=served), 400, "401664")
    assert api.get("/conf/integration-profiles/1").json() == served
