"""Code tables and mapping tables."""

from __future__ import annotations

from typing import Any

from tests.emulator.conftest import Api, assert_error

USER_GROUPS = "/conf/code-tables/UserGroups"
CURRENCY = "/conf/mapping-tables/CurrencySubset"


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = body.get("row", [])
    return rows


def test_code_table_list_is_summaries_without_hidden_tables(api: Api) -> None:
    body = api.get("/conf/code-tables").json()
    names = [t["name"] for t in body["code_table"]]
    assert "UserGroups" in names and "InternalIndexingParameters" not in names
    assert all("row" not in t for t in body["code_table"])
    assert body["total_record_count"] == len(names)


def test_code_table_get(api: Api) -> None:
    table = api.get(USER_GROUPS).json()
    assert table["name"] == "UserGroups"
    assert table["scope"]["institution_id"]["value"] == "01DEMO_INST"
    assert table["scope"]["library_id"] == {"value": "", "desc": None}
    assert [r["code"] for r in _rows(table)] == ["STAFF", "GRAD", "UNDERGRAD", "FACULTY"]
    assert _rows(table)[1] == {
        "code": "GRAD",
        "description": "Graduate student",
        "default": True,
        "enabled": True,
    }


def test_code_table_errors(api: Api) -> None:
    assert_error(api.get("/conf/code-tables/Nope"), 400, "90101")
    assert_error(api.put("/conf/code-tables/Nope", json={"row": []}), 400, "90101")
    assert_error(api.get("/conf/code-tables/InternalIndexingParameters"), 400, "90102")
    assert_error(api.put("/conf/code-tables/InternalIndexingParameters", json={}), 400, "90102")
    assert_error(api.put("/conf/code-tables/systemJobStatus", json={"row": []}), 400, "90123")
    assert_error(api.get(USER_GROUPS, params={"scope": "NOWHERE"}), 400, "40166411")


def test_code_table_put_replaces_all_rows(api: Api) -> None:
    table = api.get(USER_GROUPS).json()
    table["row"] = [
        {"code": "STAFF", "description": "Library staff", "enabled": "true"},
        {"code": "ALUMNI", "description": "Alumni", "default": True},
    ]
    answer = api.put(USER_GROUPS, json=table)
    assert answer.status_code == 200
    rows = _rows(api.get(USER_GROUPS).json())
    assert rows == [
        {"code": "STAFF", "description": "Library staff", "default": False, "enabled": True},
        {"code": "ALUMNI", "description": "Alumni", "default": True, "enabled": True},
    ]
    assert _rows(answer.json()) == rows


def test_code_table_single_default(api: Api) -> None:
    rows = [
        {"code": "A", "description": "A", "default": True},
        {"code": "B", "description": "B", "default": True},
    ]
    assert_error(api.put(USER_GROUPS, json={"row": rows}), 400, "90122")
    assert len(_rows(api.get(USER_GROUPS).json())) == 4


def test_code_table_languages(api: Api) -> None:
    french = api.get(USER_GROUPS, params={"lang": "fr"}).json()
    assert french["language"] == {"value": "fr", "desc": "French"}
    assert _rows(french)[0]["description"] == "Personnel"
    rows = [dict(r) for r in _rows(french)]
    rows[0]["description"] = "Membres du personnel"
    assert api.put(USER_GROUPS, params={"lang": "fr"}, json={"row": rows}).status_code == 200
    assert (
        _rows(api.get(USER_GROUPS, params={"lang": "fr"}).json())[0]["description"]
        == "Membres du personnel"
    )
    assert _rows(api.get(USER_GROUPS).json())[0]["description"] == "Staff"


def test_library_scope_is_stored_separately(api: Api) -> None:
    law = api.get("/conf/code-tables/ItemPolicy", params={"scope": "LAW"}).json()
    assert law["scope"]["library_id"] == {"value": "LAW", "desc": "Law Library"}
    assert [r["code"] for r in _rows(law)] == ["TWO_HOURS", "FOUR_WEEKS"]
    body = {
        "scope": {"library_id": {"value": "MUSIC"}},
        "row": [{"code": "LISTEN", "description": "Listening room only"}],
    }
    assert api.put("/conf/code-tables/ItemPolicy", json=body).status_code == 200
    music = api.get("/conf/code-tables/ItemPolicy", params={"scope": "MUSIC"}).json()
    assert [r["code"] for r in _rows(music)] == ["LISTEN"]
    institution = api.get("/conf/code-tables/ItemPolicy").json()
    assert [r["code"] for r in _rows(institution)] == ["ONE_WEEK", "FOUR_WEEKS", "REFERENCE"]
    main = api.get("/conf/code-tables/ItemPolicy", params={"scope": "MAIN"}).json()
    assert main["scope"]["library_id"]["value"] == ""
    assert _rows(main) == _rows(institution)


def test_library_scope_not_legal_for_institution_tables(api: Api) -> None:
    response = api.put(USER_GROUPS, params={"scope": "MAIN"}, json={"row": []})
    assert_error(response, 400, "90121")


def test_mapping_table_get_and_list(api: Api) -> None:
    listing = api.get("/conf/mapping-tables").json()
    names = [t["name"] for t in listing["mapping_table"]]
    assert "CurrencySubset" in names and "InternalJobRouting" not in names
    table = api.get(CURRENCY).json()
    assert _rows(table)[0] == {"column0": "USD", "column1": "TRUE", "enabled": True}
    assert [r["column0"] for r in _rows(table)] == ["USD", "EUR", "GBP", "CAD"]


def test_mapping_table_put_replaces_rows(api: Api) -> None:
    rows = [
        {"column0": "USD", "column1": "TRUE", "enabled": True},
        {"column0": "JPY", "column1": "FALSE"},
    ]
    assert api.put(CURRENCY, json={"row": rows}).status_code == 200
    assert _rows(api.get(CURRENCY).json()) == [
        {"column0": "USD", "column1": "TRUE", "enabled": True},
        {"column0": "JPY", "column1": "FALSE", "enabled": True},
    ]


def test_mapping_table_errors(api: Api) -> None:
    assert_error(api.get("/conf/mapping-tables/Nope"), 400, "90101")
    assert_error(api.put("/conf/mapping-tables/Nope", json={}), 400, "90101")
    assert_error(api.get("/conf/mapping-tables/InternalJobRouting"), 400, "90102")
    assert_error(api.put("/conf/mapping-tables/InternalJobRouting", json={}), 400, "90102")
    assert_error(api.put("/conf/mapping-tables/SystemLanguages", json={"row": []}), 400, "90125")
    assert_error(api.put(CURRENCY, params={"scope": "MAIN"}, json={"row": []}), 400, "90127")
    bad_column = {"row": [{"column0": "USD", "column5": "x"}]}
    assert_error(api.put(CURRENCY, json=bad_column), 400, "402119")


def test_mapping_table_library_scope(api: Api) -> None:
    body = {
        "scope": {"library_id": {"value": "LAW"}},
        "row": [{"column0": "SELFCHECK9", "column1": "LAW", "column2": "LAW_DESK"}],
    }
    assert api.put("/conf/mapping-tables/CirculationDeskMapping", json=body).status_code == 200
    law = api.get("/conf/mapping-tables/CirculationDeskMapping", params={"scope": "LAW"}).json()
    assert [r["column0"] for r in _rows(law)] == ["SELFCHECK9"]
    institution = api.get("/conf/mapping-tables/CirculationDeskMapping").json()
    assert len(_rows(institution)) == 2
