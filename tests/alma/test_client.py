"""The HTTP client against the emulator: read-only refusal, paging, retries, limits."""

from __future__ import annotations

import logging

import pytest

from almasync.alma.client import AlmaClient, check_base_url
from almasync.alma.retry import RetryPolicy
from almasync.emulator import Emulator
from almasync.errors import (
    AlmaAuthError,
    AlmaError,
    AlmaQuotaError,
    ConfigError,
    ExitCode,
    ReadOnlyViolation,
)


def client_for(emu: Emulator, *, read_only: bool = False, **kwargs: object) -> AlmaClient:
    kwargs.setdefault("retry", RetryPolicy(backoff=0))
    return AlmaClient(emu.base_url, emu.api_key, read_only=read_only, rate_limit=None,
                      **kwargs)  # type: ignore[arg-type]


def test_read_only_client_refuses_writes_before_the_network(emulator: Emulator) -> None:
    client = client_for(emulator, read_only=True)
    for call in (lambda: client.post("/conf/license-terms", {"code": "X"}),
                 lambda: client.put("/conf/license-terms/X", {}),
                 lambda: client.put_xml("/conf/letters/X", "<letter/>"),
                 lambda: client.delete("/conf/license-terms/ARCHIVE")):
        with pytest.raises(ReadOnlyViolation):
            call()
    assert emulator.requests == []
    assert client.get("/conf/general")["environment_type"]["value"] == "SANDBOX"


def test_paged_lists_are_read_to_the_end(emulator: Emulator) -> None:
    client = client_for(emulator)
    for i in range(130):
        client.post("/conf/reminders", {
            "entity": {"entity_type": {"value": "BIB_MMS"}, "entity_id": f"99{i:04d}"},
            "type": {"value": "GENERAL"}, "status": {"value": "NEW"},
            "text": f"r{i}", "reminder_date": "2026-12-01"})
    params = {"from": "1900-01-01", "to": "2999-12-31"}
    everything = client.get_list("/conf/reminders", "reminder", params, paged=True)
    assert len({r["id"] for r in everything}) == len(everything) >= 130
    offsets = [r.query.get("offset") for r in emulator.requests
               if r.method == "GET" and r.path.endswith("/conf/reminders")]
    assert offsets == ["0", "100"]


def test_empty_list_key_is_absent_and_means_no_entries(empty_emulator: Emulator) -> None:
    client = client_for(empty_emulator)
    assert client.get("/conf/license-terms") == {"total_record_count": 0}
    assert client.get_list("/conf/license-terms", "license_term") == []


def test_not_found_is_an_alma_error_with_code(emulator: Emulator) -> None:
    with pytest.raises(AlmaError) as caught:
        client_for(emulator).get("/conf/license-terms/NOPE")
    assert caught.value.status == 400 and caught.value.code == "403400"
    assert caught.value.exit_code == ExitCode.ERROR


def test_per_second_threshold_is_retried(emulator: Emulator) -> None:
    emulator.rate_limit = 5.0
    client = AlmaClient(emulator.base_url, emulator.api_key, read_only=True, rate_limit=None,
                        retry=RetryPolicy(backoff=0.25))
    for _ in range(12):
        client.get("/conf/general")
    throttled = [r for r in emulator.requests if r.status == 429]
    assert throttled, "the emulator should have refused some calls"
    assert client.calls == len(emulator.requests)


def test_server_errors_on_reads_are_retried(emulator: Emulator) -> None:
    emulator.fault_rate = 0.5
    emulator.fault_seed = 1
    client = client_for(emulator, retry=RetryPolicy(status_retries=8, backoff=0))
    for _ in range(10):
        assert client.get("/conf/general")
    assert any(r.status == 500 for r in emulator.requests)


def test_daily_quota_exhausted_is_exit_4_and_remaining_is_tracked(emulator: Emulator) -> None:
    client = client_for(emulator)
    client.get("/conf/general")
    assert client.remaining is not None and client.remaining > 0
    emulator.daily_budget = 0
    with pytest.raises(AlmaQuotaError) as caught:
        client.get("/conf/general")
    assert caught.value.exit_code == ExitCode.UNAVAILABLE


def test_the_key_never_reaches_logs_or_errors(emulator: Emulator,
                                              caplog: pytest.LogCaptureFixture) -> None:
    secret = "not-the-key-but-secret-0123456789"
    client = AlmaClient(emulator.base_url, secret, read_only=True, rate_limit=None)
    with caplog.at_level(logging.DEBUG), pytest.raises(AlmaAuthError) as caught:
        client.get("/conf/general")
    assert secret not in str(caught.value) + caplog.text + repr(client)


@pytest.mark.parametrize(("url", "ok"), [
    ("https://api-eu.hosted.exlibrisgroup.com", True),
    ("https://api-eu.hosted.exlibrisgroup.com/almaws/v1/", True),
    ("http://127.0.0.1:8080", True),
    ("http://localhost:8080", True),
    ("http://[::1]:8080", True),
    ("http://api-eu.hosted.exlibrisgroup.com", False),
    ("ftp://x", False),
    ("api-eu.hosted.exlibrisgroup.com", False),
])
def test_base_url_rules(url: str, ok: bool) -> None:
    if ok:
        assert check_base_url(url).endswith(("com", "8080"))
    else:
        with pytest.raises(ConfigError):
            check_base_url(url)
