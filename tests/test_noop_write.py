"""Item 8: declaring nothing new and building the write gives back the live object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from almasync.doctor.captures import read
from almasync.doctor.client import Exchange
from almasync.doctor.noop import _judge, difference, without_alma_fields
from almasync.emulator.replay import Replay
from almasync.kinds import ORDER
from almasync.model import Kind
from tests.noop import capture_folders, outcomes, seeds, serving

SEEDS = seeds()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_object_the_emulator_serves_is_written_back_as_read(name: str) -> None:
    with serving(SEEDS[name]) as (url, key):
        found = outcomes(url, key)
    assert [f"{f.kind.value} {'/'.join(f.key)}: {f.message}"
            for o in found for f in o.findings] == []
    assert sum(o.checked for o in found) > 0
    if name in ("demo", "generated"):
        # every kind has objects in these seeds, and is checked
        assert {o.kind for o in found if o.checked} >= {
            h.kind for h in ORDER if h.kind is not Kind.INTEGRATION_PROFILE
            or name == "demo"}


def _read(path: str, body: Any, **params: str) -> Exchange:
    return Exchange("GET", path, params, body)


def test_a_write_that_drops_or_changes_a_field_is_named() -> None:
    live = {"code": "A", "type": {"value": "OPEN", "desc": "Open"}, "x_unknown": 1,
            "link": "http://host/almaws/v1/conf/libraries/L/locations/A"}
    path = "/conf/libraries/L/locations/A"
    dropped = Exchange("PUT", path, {}, {"code": "A", "type": {"value": "OPEN"}})
    assert _judge(Kind.LOCATION, dropped, [_read(path, live)]) == (
        f"PUT {path}: x_unknown: left out of the write")
    changed = Exchange("PUT", path, {}, {"code": "A", "type": {"value": "OPEN"},
                                         "x_unknown": "1"})
    assert "x_unknown: 1 live, \"1\" written" in str(
        _judge(Kind.LOCATION, changed, [_read(path, live)]))
    same = Exchange("PUT", path, {}, {"code": "A", "type": {"value": "OPEN"}, "x_unknown": 1})
    assert _judge(Kind.LOCATION, same, [_read(path, live)]) is None
    assert "DELETE" in str(_judge(Kind.LOCATION, Exchange("DELETE", path, {}, None), []))


def test_what_alma_owns_is_not_expected_back() -> None:
    reminder = {"id": "1", "text": "t", "created_by": {"value": "x", "desc": "X"},
                "created_date": "2025-01-01Z", "status": {"value": "NEW", "desc": "New"}}
    assert without_alma_fields(Kind.REMINDER, reminder) == {
        "id": "1", "text": "t", "status": {"value": "NEW"}}
    hours = {"open_hour": [{"type": {"value": "WEEK", "desc": "Week"}, "desc": "kept",
                            "inherited": False},
                           {"type": {"value": "WEEK"}, "inherited": True}]}
    assert without_alma_fields(Kind.OPEN_HOURS, hours) == {
        "open_hour": [{"type": {"value": "WEEK"}, "desc": "kept"}]}
    assert difference([1, 2], [1]) == ": 2 entries live, 1 written"


def _with_dated_standard_hours(folder: Path) -> list[Exchange]:
    """The demo capture, with Alma's valid-from/valid-to dates on every WEEK entry (FACTS
    §8: Alma fills them with today and today + 3 years)."""
    out = []
    for exchange in read(folder):
        body = exchange.body
        if exchange.path == "/conf/open-hours" and isinstance(body, dict):
            body = {**body, "open_hour": [
                {**e, "from_date": "2026-01-05Z", "to_date": "2029-01-05Z"}
                if e.get("type", {}).get("value") == "WEEK" else e
                for e in body.get("open_hour") or []]}
        out.append(Exchange(exchange.method, exchange.path, exchange.params, body,
                            exchange.status, exchange.headers))
    return out


def test_dated_standard_hours_are_written_back_as_read() -> None:
    folder = next(p for p in capture_folders() if p.name == "demo")
    with Replay(_with_dated_standard_hours(folder)) as replay:
        found = outcomes(replay.base_url, replay.api_key)
    hours = next(o for o in found if o.kind is Kind.OPEN_HOURS)
    assert hours.checked and hours.findings == []


def test_empty_codes_may_be_left_out_and_one_element_is_one_element() -> None:
    live = {"code": "A", "call_number_type": {"value": "", "desc": None}, "note": None,
            "row": {"code": "X"}}
    assert difference(without_alma_fields(Kind.LOCATION, live),
                      {"code": "A", "row": [{"code": "X"}]}) is None
    assert difference({"row": [{"code": "X"}]}, {"row": {"code": "Y"}}) == (
        'row.code: "X" live, "Y" written')
    assert difference({"type": {"value": "OPEN"}}, {}) == "type: left out of the write"


def _lists_of_one_as_bare_objects(value: Any) -> Any:
    """Every one-element list of a body as the bare object (FACTS §8: real Alma may)."""
    if isinstance(value, dict):
        return {k: _lists_of_one_as_bare_objects(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_lists_of_one_as_bare_objects(v) for v in value]
        return items[0] if len(items) == 1 and isinstance(items[0], dict) else items
    return value


def test_one_element_lists_as_bare_objects_are_written_back_as_read() -> None:
    folder = next(p for p in capture_folders() if p.name == "demo")
    exchanges = [Exchange(e.method, e.path, e.params,
                          _lists_of_one_as_bare_objects(_first_only(e.body)), e.status,
                          e.headers) for e in read(folder)]
    with Replay(exchanges) as replay:
        found = outcomes(replay.base_url, replay.api_key)
    assert [f.message for o in found for f in o.findings] == []
    assert {o.kind for o in found if o.checked} == {h.kind for h in ORDER}


def _first_only(body: Any) -> Any:
    """A list answer cut to its first entry (an institution with one set, one profile...)."""
    if not isinstance(body, dict) or "total_record_count" not in body:
        return body
    return {k: (v[:1] if isinstance(v, list) else v) for k, v in body.items()
            } | {"total_record_count": min(1, int(body["total_record_count"]))}


def test_without_values_a_finding_names_the_place_only() -> None:
    live = {"parameter": [{"name": {"value": "ftp_password"}, "value": "live-secret"}]}
    sent = {"parameter": [{"name": {"value": "ftp_password"}, "value": "other-secret"}]}
    found = difference(live, sent, values=False)
    assert found == "parameter[0].value: the value written is not the live one"
    assert difference({}, {"x": "new-secret"}, values=False) == "x: added by the write"
