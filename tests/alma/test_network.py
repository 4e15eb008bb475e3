"""Network faults: hung gateways, refused connections, unknown hosts, TLS errors.

Each fault is a real socket on loopback: a server that accepts and never answers, one
that answers TLS with plain text, and a port where nothing listens.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from almasync.alma.client import AlmaClient, WriteOutcomeUnknown
from almasync.alma.retry import RetryObserver, RetryPolicy
from almasync.emulator import Emulator
from almasync.errors import AlmaQuotaError, AlmaUnavailable, ConfigError, ExitCode
from tests.conftest import EXAMPLES, Almasync
from tests.loopback import LoopbackServer


class Silent(LoopbackServer):
    """A TCP server on loopback that accepts connections and reads, but never answers
    (``reply`` is sent on connect instead, when given). Counts connections."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply = reply
        self.connections = 0
        self._open: list[socket.socket] = []
        super().__init__()

    def accepted(self, conn: socket.socket) -> None:
        self.connections += 1
        self._open.append(conn)
        if self.reply:
            conn.sendall(self.reply)

    def close(self) -> None:
        super().close()
        for conn in self._open:
            conn.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    yield server
    server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(url: str, key: str = "key", **kwargs: object) -> AlmaClient:
    kwargs.setdefault("retry", RetryPolicy(backoff=0))
    return AlmaClient(url, key, read_only=False, rate_limit=None,
                      **kwargs)  # type: ignore[arg-type]


def test_a_hung_gateway_is_tried_a_bounded_number_of_times(silent: Silent) -> None:
    policy = RetryPolicy(backoff=0, read_retries=2)
    with _client(f"http://127.0.0.1:{silent.port}", timeout=0.2, retry=policy) as client, \
            pytest.raises(AlmaUnavailable) as caught:
        client.get("/conf/general")
    assert silent.connections == 1 + policy.read_retries
    assert str(caught.value) == ("could not reach Alma at 127.0.0.1: the connection was "
                                 "accepted but no answer came within 0.2 s")
    assert caught.value.exit_code == ExitCode.UNAVAILABLE


def test_an_unanswered_post_is_not_sent_twice(silent: Silent) -> None:
    with _client(f"http://127.0.0.1:{silent.port}", timeout=0.2) as client, \
            pytest.raises(WriteOutcomeUnknown) as caught:
        client.post("/conf/license-terms", {"code": "X"})
    assert silent.connections == 1
    assert "may or may not have made the change" in str(caught.value)


def test_connection_refused_names_the_host_in_one_line() -> None:
    with _client(f"http://127.0.0.1:{_free_port()}") as client, \
            pytest.raises(AlmaUnavailable) as caught:
        client.get("/conf/general")
    assert str(caught.value) == "could not reach Alma at 127.0.0.1: connection refused"


def test_an_unknown_host_says_dns() -> None:
    with _client("https://no-such-host.invalid") as client, \
            pytest.raises(AlmaUnavailable) as caught:
        client.get("/conf/general")
    message = str(caught.value)
    assert message.startswith("could not reach Alma at no-such-host.invalid: ")
    assert "DNS" in message and "\n" not in message


def test_tls_errors_are_not_retried() -> None:
    server = Silent(reply=b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    try:
        with _client(f"https://127.0.0.1:{server.port}",
                     retry=RetryPolicy(backoff=0, connect_retries=3)) as client, \
                pytest.raises(AlmaUnavailable) as caught:
            client.get("/conf/general")
    finally:
        server.close()
    assert server.connections == 1
    assert "TLS" in str(caught.value)


def test_the_daily_quota_is_not_retried(emulator: Emulator) -> None:
    client = _client(emulator.base_url, emulator.api_key)
    emulator.daily_budget = 0
    with pytest.raises(AlmaQuotaError) as caught:
        client.get("/conf/general")
    assert caught.value.code == "DAILY_THRESHOLD"
    assert [r.status for r in emulator.requests] == [429]


class CountingLimiter:
    """A limiter that records what the retry machinery tells it."""

    def __init__(self) -> None:
        self.throttled = 0
        self.acquired = 0

    def on_throttled(self) -> None:
        self.throttled += 1

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0


def test_each_429_reaches_the_limiter_and_each_retry_waits_for_a_token(
        emulator: Emulator) -> None:
    emulator.rate_limit = 2.0
    limiter = CountingLimiter()
    policy = RetryPolicy(backoff=0.1, status_retries=8)
    lines: list[str] = []
    observer = RetryObserver(limiter, None, lines.append)
    client = AlmaClient(emulator.base_url, emulator.api_key, read_only=True, rate_limit=None,
                        retry=policy)
    # The client's own limiter is a plain token bucket; observe through a counting one.
    client._retries = policy.retry(observer)
    for _ in range(6):
        client.get("/conf/general")
    refused = [r for r in emulator.requests if r.status == 429]
    assert refused and limiter.throttled == len(refused) == limiter.acquired == len(lines)
    assert all(line.startswith("retrying GET /conf/general") and "HTTP 429" in line
               for line in lines)


def test_retries_are_logged(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    emulator.fault_rate = 0.5
    emulator.fault_seed = 1
    client = _client(emulator.base_url, emulator.api_key,
                     retry=RetryPolicy(backoff=0, status_retries=8))
    with caplog.at_level(logging.INFO, logger="almasync.http"):
        for _ in range(5):
            client.get("/conf/general")
    faults = [r for r in emulator.requests if r.status == 500]
    retried = [m for m in caplog.messages if m.startswith("retrying GET /conf/general")]
    assert faults and len(retried) == len(faults)
    assert all("HTTP 500" in m for m in retried)


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_bad_backoff_setting_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError):
        RetryPolicy.from_env({"ALMASYNC_RETRY_BACKOFF": value})


def test_backoff_comes_from_the_environment() -> None:
    assert RetryPolicy.from_env({"ALMASYNC_RETRY_BACKOFF": "0"}).backoff == 0
    assert RetryPolicy.from_env({}).backoff == RetryPolicy().backoff


@pytest.mark.parametrize("how", ["env", "option"])
def test_plan_against_a_hung_gateway_ends_in_exit_4(silent: Silent, almasync: Almasync,
                                                    how: str) -> None:
    url = f"http://127.0.0.1:{silent.port}"
    env = {"ALMA_API_URL": url, "ALMASYNC_RETRY_BACKOFF": "0"}
    args = ["plan", str(EXAMPLES)]
    if how == "env":
        env["ALMASYNC_TIMEOUT"] = "0.2"
    else:
        args = ["--timeout", "0.2", *args]
    result = almasync(*args, env=env)
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert result.stderr.strip().splitlines() == [
        "Error: could not reach Alma at 127.0.0.1: the connection was accepted but no answer "
        "came within 0.2 s"]


@pytest.mark.parametrize("value", ["0", "soon"])
def test_a_bad_timeout_is_refused(almasync: Almasync, tmp_path: Path, value: str) -> None:
    result = almasync("plan", str(EXAMPLES), env={"ALMASYNC_TIMEOUT": value})
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "ALMASYNC_TIMEOUT" in result.stderr


def test_the_first_failure_of_a_map_starts_nothing_more(emulator: Emulator) -> None:
    started: list[int] = []
    one_started = threading.Event()
    never = threading.Event()

    def read(item: int) -> int:
        started.append(item)
        if item == 0:
            one_started.wait()
            raise AlmaUnavailable("no answer")
        one_started.set()
        never.wait(1.0)  # still busy while item 0 fails
        return item

    client = _client(emulator.base_url, emulator.api_key, workers=2)
    with pytest.raises(AlmaUnavailable, match="no answer"):
        client.map(read, range(10))
    assert sorted(started) == [0, 1]
    assert client.map(lambda i: i * 2, range(5)) == [0, 2, 4, 6, 8]


def test_the_proxy_of_the_environment_is_used(emulator: Emulator,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment's proxy settings, read once per client, still hold: a proxy that
    answers nothing makes Alma unreachable, and NO_PROXY lets the call go direct."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{dead}")
    with _client(emulator.base_url, emulator.api_key) as client, \
            pytest.raises(AlmaUnavailable):
        client.get("/conf/libraries")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with _client(emulator.base_url, emulator.api_key) as client:
        assert client.get("/conf/libraries")["library"]
