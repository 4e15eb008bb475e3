"""Keys, thresholds, switches (latency, faults, drops, crash) and the server's lifecycle."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from almasync.emulator import DEFAULT_API_KEY, DEFAULT_READ_ONLY_KEY, Emulator, PortInUseError
from tests.emulator.conftest import Api, EmulatorFactory, alma_code, assert_error


def test_default_keys() -> None:
    assert DEFAULT_API_KEY == "emulator-rw-key"
    assert DEFAULT_READ_ONLY_KEY == "emulator-ro-key"


def test_missing_or_unknown_key_is_403_invalid_request(emu: Emulator) -> None:
    url = emu.base_url + "/almaws/v1/conf/libraries"
    missing = requests.get(url, headers={"Accept": "application/json"}, timeout=10)
    assert_error(missing, 403, "INVALID_REQUEST")
    wrong = requests.get(url, headers={"Authorization": "apikey nope"}, timeout=10)
    assert_error(wrong, 403, "INVALID_REQUEST")


def test_custom_keys(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(api_key="rw-secret", read_only_key="ro-secret")
    assert Api(emu, "rw-secret").get("/conf/general").status_code == 200
    assert Api(emu, "ro-secret").get("/conf/general").status_code == 200
    assert_error(Api(emu, DEFAULT_API_KEY).get("/conf/general"), 403, "INVALID_REQUEST")


def test_read_only_key_reads_but_cannot_write(emu: Emulator) -> None:
    ro = Api(emu, emu.read_only_key)
    assert ro.get("/conf/libraries/MAIN/locations").status_code == 200
    for response in (
        ro.post("/conf/license-terms", json={"code": "X", "name": "X"}),
        ro.put("/conf/license-terms/ARCHIVE", json={"code": "ARCHIVE", "name": "Changed"}),
        ro.delete("/conf/license-terms/ARCHIVE"),
        ro.post("/conf/test"),
    ):
        assert response.status_code == 400
        assert response.headers["Content-Type"] == "application/xml;charset=UTF-8"
        assert 'xmlns="http://com/exlibris/urm/general/xmlbeans"' in response.text
        assert alma_code(response) == "UNAUTHORIZED"
        assert "API-key not defined or not configured to allow this API." in response.text
    assert "ARCHIVE" in emu.store.license_terms
    assert emu.store.license_terms["ARCHIVE"]["name"] == "Archiving right"
    assert emu.write_count == 0


def test_key_test_endpoint(emu: Emulator) -> None:
    api = Api(emu)
    assert api.get("/conf/test").json() == {"test": "GET - OK - institutionCode: 01DEMO_INST"}
    assert api.post("/conf/test").json() == {"test": "POST - OK"}
    xml = api.get("/conf/test", headers={"Accept": "application/xml"})
    assert xml.headers["Content-Type"].startswith("application/xml")
    assert xml.text.endswith("<test>GET - OK - institutionCode: 01DEMO_INST</test>")
    assert emu.write_count == 0


def test_per_second_threshold(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(rate_limit=2.0)
    api = Api(emu)
    statuses = [api.get("/conf/general").status_code for _ in range(6)]
    assert statuses[:2] == [200, 200]
    assert 429 in statuses
    limited = next(r for r in (api.get("/conf/general") for _ in range(5)) if r.status_code == 429)
    assert_error(limited, 429, "PER_SECOND_THRESHOLD")
    assert limited.json()["errorList"]["error"][0]["errorMessage"] == (
        "HTTP requests are more than allowed per second"
    )
    time.sleep(0.6)
    assert api.get("/conf/general").status_code == 200


def test_rate_limit_can_be_switched_off_while_running(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(rate_limit=1.0)
    api = Api(emu)
    api.get("/conf/general")
    assert api.get("/conf/general").status_code == 429
    emu.rate_limit = None
    assert all(api.get("/conf/general").status_code == 200 for _ in range(5))


def test_daily_budget_header_and_threshold(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(daily_budget=3)
    api = Api(emu)
    remaining = [api.get("/conf/general").headers["X-Exl-Api-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    assert_error(api.get("/conf/general"), 429, "DAILY_THRESHOLD")
    emu.daily_budget = 10
    assert api.get("/conf/general").headers["X-Exl-Api-Remaining"] == "9"


def test_latency_is_added(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(latency=0.3)
    started = time.monotonic()
    Api(emu).get("/conf/general")
    assert time.monotonic() - started >= 0.3


def _fault_pattern(emu: Emulator, count: int) -> list[int]:
    api = Api(emu)
    return [api.get("/conf/general").status_code for _ in range(count)]


def test_injected_faults_are_reproducible_by_seed(make_emulator: EmulatorFactory) -> None:
    first = _fault_pattern(make_emulator(fault_rate=0.5, fault_seed=7), 20)
    second = _fault_pattern(make_emulator(fault_rate=0.5, fault_seed=7), 20)
    other = _fault_pattern(make_emulator(fault_rate=0.5, fault_seed=8), 20)
    assert first == second
    assert first != other
    assert set(first) == {200, 500}


def test_injected_fault_is_general_error_and_not_applied(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(fault_rate=1.0)
    response = Api(emu).post("/conf/license-terms", json={"code": "NEW", "name": "New"})
    assert_error(response, 500, "GENERAL_ERROR")
    assert "NEW" not in emu.store.license_terms
    assert emu.write_count == 0
    emu.fault_rate = 0.0
    assert (
        Api(emu).post("/conf/license-terms", json={"code": "NEW", "name": "New"}).status_code == 200
    )


def test_dropped_connections(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        Api(emu).get("/conf/general")
    assert emu.requests[-1].status == 0
    emu.drop_rate = 0.0
    assert Api(emu).get("/conf/general").status_code == 200


def test_drop_after_apply_loses_the_answer_not_the_write(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(drop_rate=1.0, drop_after_apply=True)
    with pytest.raises(requests.ConnectionError):
        Api(emu).post("/conf/license-terms", json={"code": "LOST", "name": "Answer lost"})
    assert "LOST" in emu.store.license_terms
    assert emu.write_count == 1
    assert emu.requests[-1].status == 0
    assert Api(emu).get("/conf/license-terms/LOST").status_code == 200


def test_drops_are_reproducible_by_seed(make_emulator: EmulatorFactory) -> None:
    def pattern(emu: Emulator) -> list[str]:
        api, out = Api(emu), []
        for _ in range(12):
            try:
                out.append(str(api.get("/conf/general").status_code))
            except requests.ConnectionError:
                out.append("dropped")
        return out

    first = pattern(make_emulator(drop_rate=0.4, fault_seed=3))
    assert first == pattern(make_emulator(drop_rate=0.4, fault_seed=3))
    assert "dropped" in first and "200" in first


def test_crash_after_writes_and_recover(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(crash_after_writes=2)
    api = Api(emu)
    for code in ("A1", "A2"):
        assert api.post("/conf/license-terms", json={"code": code, "name": code}).status_code == 200
    assert emu.write_count == 2
    with pytest.raises(requests.ConnectionError):
        api.get("/conf/license-terms")
    with pytest.raises(requests.ConnectionError):
        api.post("/conf/license-terms", json={"code": "A3", "name": "A3"})
    assert "A3" not in emu.store.license_terms
    emu.recover()
    assert api.get("/conf/license-terms").status_code == 200
    assert api.post("/conf/license-terms", json={"code": "A3", "name": "A3"}).status_code == 200


def test_crash_counts_writes_from_when_it_is_armed(emu: Emulator) -> None:
    api = Api(emu)
    api.post("/conf/license-terms", json={"code": "B1", "name": "B1"})
    emu.crash_after_writes = 1
    assert api.get("/conf/license-terms").status_code == 200
    assert api.delete("/conf/license-terms/B1").status_code == 204
    with pytest.raises(requests.ConnectionError):
        api.get("/conf/license-terms")


def test_failed_writes_do_not_count(emu: Emulator) -> None:
    api = Api(emu)
    api.post("/conf/license-terms", json={"code": "ARCHIVE", "name": "Duplicate"})
    api.get("/conf/general")
    assert emu.write_count == 0


def test_requests_are_recorded_in_order(emu: Emulator) -> None:
    api = Api(emu)
    api.get("/conf/libraries")
    api.get("/conf/sets", params={"limit": "5"})
    api.delete("/conf/license-terms/NOPE")
    recorded = [(r.method, r.path, r.query, r.status) for r in emu.requests]
    assert recorded == [
        ("GET", "/almaws/v1/conf/libraries", {}, 200),
        ("GET", "/almaws/v1/conf/sets", {"limit": "5"}, 200),
        ("DELETE", "/almaws/v1/conf/license-terms/NOPE", {}, 400),
    ]


def test_write_bodies_are_recorded_as_sent(emu: Emulator) -> None:
    api = Api(emu)
    sent = b'{"code": "TDM", "name": "Text and data mining"}'
    api.post("/conf/license-terms", data=sent, headers={"Content-Type": "application/json"})
    api.post("/conf/license-terms", data=b"{not json", headers={"Content-Type": "application/json"})
    api.get("/conf/license-terms/TDM")
    assert [(r.method, r.status, r.body) for r in emu.requests] == [
        ("POST", 200, sent), ("POST", 400, b"{not json"), ("GET", 200, b"")]


def test_concurrent_requests(emu: Emulator) -> None:
    errors: list[int] = []

    def hammer() -> None:
        api = Api(emu)
        for _ in range(20):
            status = api.get("/conf/libraries/MAIN/locations").status_code
            if status != 200:
                errors.append(status)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(emu.requests) == 80


def _server_threads() -> list[str]:
    names = [t.name for t in threading.enumerate()]
    return [n for n in names if n.startswith("alma-emulator")]


def test_start_stop_frees_the_port_and_threads() -> None:
    emu = Emulator(seed="empty").start()
    port = emu.port
    assert emu.base_url == f"http://127.0.0.1:{port}"
    Api(emu).get("/conf/general")
    assert "alma-emulator" in _server_threads()
    emu.stop()
    emu.stop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
    assert _server_threads() == []


def test_context_manager_and_fixed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Emulator(seed="empty").start(port=port) as emu:
        assert emu.port == port
        with pytest.raises(PortInUseError):
            Emulator(seed="empty").start(port=port)
    assert not emu.running
