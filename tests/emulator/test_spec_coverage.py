"""Every operation of Ex Libris' conf.json is served, and answers within Alma's conventions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests

from almasync.emulator import Emulator
from tests.emulator.conftest import Api

# Methods, paths and parameters of every operation in Ex Libris' OpenAPI document for the
# Configuration API, kept as test data so that a fresh clone runs these tests.
OPERATIONS_FILE = Path(__file__).resolve().parents[1] / "data" / "conf_operations.json"

SAMPLES = {
    "codeTableName": "UserGroups",
    "mappingTableName": "CurrencySubset",
    "deposit_profile_id": "6300000010005501",
    "id": "6100000020005501",
    "job_id": "S99999900000011",
    "instance_id": "8100000030005501",
    "letterCode": "FulfillmentActivityLetter",
    "libraryCode": "MAIN",
    "circDeskCode": "DEFAULT_CIRC_DESK",
    "locationCode": "REF",
    "license_term_code": "WALKIN",
    "profile_id": "6200000010005501",
    "printer_id": "1400000010005501",
    "reminder_id": "5100000010005501",
    "set_id": "3100000020005501",
    "workflow_id": "7100000010005501",
}
PATH_OVERRIDES = {
    "/events": {"job_id": "S88888800000011", "instance_id": "8100000020005501"},
}
QUERY = {
    "/matches": {"population": "SINGLE_MATCHES"},
    "/conf/relations": {"scope": "MAIN"},
    "/conf/jobs/{job_id}": {"op": "run"},
    "/md-import-profiles/{profile_id}": {"op": "run"},
}
NON_JSON_OK = {"/download"}
ORDER = {"GET": 0, "POST": 1, "PUT": 2, "DELETE": 3}


def _operations() -> list[tuple[str, str]]:
    data = json.loads(OPERATIONS_FILE.read_text(encoding="utf-8"))
    ops = [(op["method"], op["path"]) for op in data["operations"]]
    return sorted(ops, key=lambda op: ORDER[op[0]])


OPERATIONS = _operations()


def test_every_path_parameter_of_the_operations_is_declared() -> None:
    data = json.loads(OPERATIONS_FILE.read_text(encoding="utf-8"))
    for op in data["operations"]:
        in_path = set(re.findall(r"\{(\w+)\}", op["path"]))
        declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert in_path == declared, op
        assert all(p["required"] for p in op["parameters"] if p["in"] == "path"), op
        assert in_path <= set(SAMPLES) | {k for o in PATH_OVERRIDES.values() for k in o}


@pytest.fixture(scope="module")
def shared_api() -> Iterator[Api]:
    with Emulator(seed="demo", rate_limit=None) as emu:
        yield Api(emu)


def _url(path: str) -> tuple[str, dict[str, str]]:
    samples = dict(SAMPLES)
    query: dict[str, str] = {}
    for fragment, override in PATH_OVERRIDES.items():
        if path.endswith(fragment):
            samples.update(override)
    for fragment, extra in QUERY.items():
        if path.endswith(fragment):
            query.update(extra)
    concrete = re.sub(r"\{(\w+)\}", lambda m: samples[m.group(1)], path)
    return concrete.removeprefix("/almaws/v1"), query


def _check_envelope(body: Any) -> None:
    assert set(body) == {"errorsExist", "errorList", "result"}, body
    assert body["errorsExist"] is True and body["result"] is None
    errors = body["errorList"]["error"]
    assert isinstance(errors, list) and errors
    assert set(errors[0]) >= {"errorCode", "errorMessage"}


def test_the_spec_has_68_operations() -> None:
    assert len(OPERATIONS) == 68


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_is_served_within_alma_conventions(
    shared_api: Api, method: str, path: str
) -> None:
    url, query = _url(path)
    kwargs: dict[str, Any] = {"params": query}
    if method in ("POST", "PUT"):
        kwargs["json"] = {}
    response: requests.Response = shared_api.session.request(
        method, shared_api.url(url), timeout=10, **kwargs
    )
    content_type = response.headers.get("Content-Type", "")
    if response.status_code == 204:
        assert method == "DELETE" and response.content == b""
        return
    if method == "GET":
        assert response.status_code == 200, response.text
    assert response.status_code in (200, 400), response.text
    if any(path.endswith(f) for f in NON_JSON_OK) and response.status_code == 200:
        assert content_type.startswith(("application/xml", "application/octet-stream"))
        return
    assert content_type == "application/json;charset=UTF-8"
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code == 400:
        _check_envelope(body)
        assert body["errorList"]["error"][0]["errorCode"] != "ROUTING_ERROR"


def test_unknown_paths_and_methods_are_routing_errors(shared_api: Api) -> None:
    for method, path in (
        ("GET", "/conf/nothing-here"),
        ("DELETE", "/conf/libraries/MAIN"),
        ("GET", "/bibs/1"),
    ):
        response = shared_api.session.request(method, shared_api.url(path), timeout=10)
        assert response.status_code == 400
        _check_envelope(response.json())
        assert response.json()["errorList"]["error"][0]["errorCode"] == "ROUTING_ERROR"


def test_trailing_slash_is_optional(shared_api: Api) -> None:
    assert shared_api.get("/conf/libraries/MAIN/circ-desks/").status_code == 200
    assert shared_api.get("/conf/libraries/MAIN/circ-desks").status_code == 200
    assert shared_api.get("/conf/libraries/").status_code == 200


GETS = [op for op in OPERATIONS if op[0] == "GET"]


@pytest.fixture(scope="module")
def read_api() -> Iterator[Api]:
    with Emulator(seed="demo", rate_limit=None) as emu:
        yield Api(emu)


@pytest.mark.parametrize(("method", "path"), GETS, ids=[p for _, p in GETS])
def test_every_get_also_answers_well_formed_xml(read_api: Api, method: str, path: str) -> None:
    url, query = _url(path)
    response = read_api.get(url, params={**query, "format": "xml"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag
