"""The adaptive rate: cut on refusals, climb back, and no 429 reaches the user."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from almasync.alma.client import AlmaClient
from almasync.alma.ratelimit import CLIMB, CUT_FACTOR, FLOOR, AdaptiveRate, limiter_for
from almasync.alma.retry import RetryPolicy
from almasync.cli import cli
from almasync.emulator import Emulator
from tests.conftest import EXAMPLES


class FakeClock:
    """Time that moves only when the limiter sleeps or the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def limiter(ceiling: float | None) -> tuple[AdaptiveRate, FakeClock]:
    clock = FakeClock()
    return AdaptiveRate(ceiling, clock=clock, sleep=clock.sleep), clock


def test_without_refusals_the_rate_is_the_ceiling() -> None:
    rate, clock = limiter(10.0)
    start = clock.now
    for _ in range(110):
        rate.acquire()
    # a burst of a fifth of a second's worth, then 10 calls per second
    assert clock.now - start == pytest.approx(10.8)
    assert rate.rate == 10.0


def test_a_refusal_cuts_the_rate_once_per_second() -> None:
    rate, clock = limiter(25.0)
    rate.on_throttled()
    rate.on_throttled()  # a refusal of a call that was in flight with the first
    assert rate.rate == pytest.approx(25.0 * CUT_FACTOR)
    assert rate.last_refused == 25.0
    assert rate.throttled == 2
    clock.now += 1.0
    before = rate.rate
    rate.on_throttled()
    assert rate.rate < before


def test_the_rate_never_falls_below_the_floor() -> None:
    rate, clock = limiter(25.0)
    for _ in range(30):
        rate.on_throttled()
        clock.now += 1.0
        rate.rate = min(rate.rate or 0.0, FLOOR * 1.01)  # hold the climb back
    assert rate.rate is not None and rate.rate >= FLOOR


def test_the_rate_climbs_back_and_slows_near_the_refused_rate() -> None:
    rate, clock = limiter(30.0)
    rate.on_throttled()  # refused at 30: cut to 21
    cut = rate.rate
    assert cut == pytest.approx(21.0)
    clock.now += 1.0
    rate.acquire()
    assert rate.rate == pytest.approx(cut + CLIMB)
    clock.now += 2.0
    rate.acquire()  # 27 = 90% of 30: from here on the climb is slow
    near = rate.rate
    assert near == pytest.approx(27.0)
    clock.now += 1.0
    rate.acquire()
    assert near < rate.rate < near + CLIMB  # type: ignore[operator]
    clock.now += 1000.0
    rate.acquire()
    assert rate.rate == 30.0  # never above the ceiling


def test_no_ceiling_means_no_limit() -> None:
    rate, _ = limiter(None)
    assert rate.acquire() == 0.0
    rate.on_throttled()
    assert rate.rate is None and rate.throttled == 1


def test_one_limiter_per_gateway_and_key() -> None:
    first = limiter_for("http://127.0.0.1:1", "key-a", 25.0)
    assert limiter_for("http://127.0.0.1:1", "key-a", 25.0) is first
    assert limiter_for("http://127.0.0.1:1", "key-b", 25.0) is not first
    assert limiter_for("http://127.0.0.1:2", "key-a", 25.0) is not first
    assert limiter_for("http://127.0.0.1:1", "key-a", 10.0) is first
    assert first.ceiling == 10.0 and first.rate == 10.0


def test_concurrent_reads_settle_under_a_lower_threshold(emulator: Emulator) -> None:
    emulator.rate_limit = 10.0
    client = AlmaClient(emulator.base_url, emulator.api_key, read_only=True, rate_limit=30.0,
                        retry=RetryPolicy(backoff=0.1))
    answers = client.map(lambda _: client.get("/conf/general"), range(60))
    assert len(answers) == 60  # every call answered: no 429 reached the caller
    refused = [r for r in emulator.requests if r.status == 429]
    assert refused, "the threshold below the ceiling should have refused some calls"
    assert client.bucket.throttled == len(refused)
    assert client.bucket.rate is not None and client.bucket.rate < 30.0


def test_plan_under_a_threshold_below_the_ceiling_succeeds_and_says_its_rate(
        emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    emulator.rate_limit = 6.0
    env = {"ALMA_API_URL": emulator.base_url, "ALMA_API_KEY": emulator.api_key,
           "ALMASYNC_RATE_LIMIT": "25"}
    with caplog.at_level(logging.INFO, logger="almasync.http"):
        result = CliRunner().invoke(cli, ["-v", "plan", str(EXAMPLES)], env=env)
    assert result.exit_code in (0, 2), result.stderr
    assert "PER_SECOND_THRESHOLD" not in result.stderr
    assert any(r.status == 429 for r in emulator.requests)
    settled = [r.getMessage() for r in caplog.records if "settled at" in r.getMessage()]
    assert settled and "ceiling 25/s" in settled[-1] and "refused" in settled[-1]
