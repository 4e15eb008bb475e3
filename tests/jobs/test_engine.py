"""The job engine against the emulator's job state machine, over real HTTP."""

from __future__ import annotations

import pytest

from almasync.alma.client import AlmaClient
from almasync.emulator import Emulator
from almasync.errors import ExitCode
from almasync.jobs import (
    JobEvent,
    JobExit,
    Pacing,
    RunRequest,
    SlotWait,
    SubmitOutcomeUnknown,
    Submitted,
    ThresholdReached,
    Update,
    Verdict,
    follow,
    run,
    submit_once,
)
from tests.jobs.conftest import (
    CHANGE_ITEMS,
    EXPORT,
    FAST,
    FINES,
    MISSING_ITEMS,
    SYNC_BIBS,
    api_posts,
    finish,
    make_client,
)

ORDER = ["QUEUED", "PENDING", "INITIALIZING", "RUNNING", "FINALIZING", "COMPLETED_SUCCESS"]


class FakeTime:
    """A clock that moves only when the engine sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def pacing(self, first: float = 10.0, cap: float = 30.0) -> Pacing:
        return Pacing(first=first, cap=cap, sleep=self.sleep, clock=self.clock)


def test_wait_follows_the_states_in_order_to_success(client: AlmaClient) -> None:
    events: list[JobEvent] = []
    outcome = run(client, RunRequest(job_id=EXPORT, params={"set_id": MISSING_ITEMS},
                                     wait=True), pacing=FAST, on_event=events.append)
    assert outcome.verdict is Verdict.SUCCEEDED
    assert outcome.exit_code == int(JobExit.OK) == 0
    assert outcome.instance is not None and outcome.instance.status == "COMPLETED_SUCCESS"
    assert outcome.instance.percent == 100
    assert ("Records processed", "120") in {(c.label, c.value) for c in
                                            outcome.instance.counters}
    assert isinstance(events[0], Submitted)
    seen = [e.instance.status for e in events if isinstance(e, Update) and e.status_changed]
    assert seen[0] == "QUEUED" and seen[-1] == "COMPLETED_SUCCESS"
    assert [ORDER.index(s) for s in seen] == sorted({ORDER.index(s) for s in seen})


@pytest.mark.parametrize(("job", "params", "status", "verdict", "code"), [
    (CHANGE_ITEMS, {"set_id": MISSING_ITEMS}, "COMPLETED_FAILED", Verdict.WITH_ERRORS, 7),
    (SYNC_BIBS, {}, "COMPLETED_WARNING", Verdict.WITH_ERRORS, 7),
    (FINES, {}, "FAILED", Verdict.FAILED, 8),
])
def test_final_status_maps_to_exit_code(client: AlmaClient, job: str, params: dict[str, str],
                                        status: str, verdict: Verdict, code: int) -> None:
    events: list[JobEvent] = []
    outcome = run(client, RunRequest(job_id=job, params=params, wait=True), pacing=FAST,
                  on_event=events.append)
    assert outcome.instance is not None and outcome.instance.status == status
    assert outcome.verdict is verdict
    assert outcome.exit_code == code
    alerts = [a for e in events if isinstance(e, Update) for a in e.new_alerts]
    assert alerts == list(outcome.instance.alerts) and alerts


def test_manual_handling_required_ends_the_wait(emulator: Emulator,
                                                client: AlmaClient) -> None:
    with emulator.store.lock:
        emulator.store.jobs[SYNC_BIBS]["outcome"] = "MANUAL_HANDLING_REQUIRED"
    outcome = run(client, RunRequest(job_id=SYNC_BIBS, wait=True), pacing=FAST)
    assert outcome.verdict is Verdict.NEEDS_PERSON
    assert outcome.exit_code == int(JobExit.NEEDS_PERSON) == 9


@pytest.mark.parametrize("status", ["USER_ABORTED", "SYSTEM_ABORTED", "SKIPPED"])
def test_aborted_instances_count_as_failed(slow_emulator: Emulator, slow_client: AlmaClient,
                                           status: str) -> None:
    submission = submit_once(slow_client, SYNC_BIBS, {})
    finish(slow_emulator, submission.instance_id, status)
    outcome = follow(slow_client, submission.instance_id, pacing=FAST)
    assert outcome.verdict is Verdict.FAILED
    assert outcome.exit_code == JobExit.JOB_FAILED


def test_polls_back_off_and_are_capped(client: AlmaClient) -> None:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        FAST.sleep(seconds)

    pacing = Pacing(first=0.01, cap=0.04, sleep=sleep)
    outcome = run(client, RunRequest(job_id=SYNC_BIBS, wait=True), pacing=pacing)
    assert outcome.verdict is Verdict.WITH_ERRORS
    assert sleeps[:3] == [0.01, 0.02, 0.04]
    assert set(sleeps[2:]) == {0.04}


def test_timeout_returns_the_last_state_and_exit_10(slow_client: AlmaClient) -> None:
    fake = FakeTime()
    outcome = run(slow_client, RunRequest(job_id=SYNC_BIBS, wait=True, timeout=100),
                  pacing=fake.pacing())
    assert fake.sleeps == [10, 20, 30, 30, 10]
    assert outcome.verdict is Verdict.NOT_FINISHED
    assert outcome.exit_code == int(JobExit.NOT_FINISHED) == 10
    assert outcome.instance is not None and outcome.instance.status == "QUEUED"


def test_without_wait_only_the_submission_is_sent(emulator: Emulator,
                                                  client: AlmaClient) -> None:
    outcome = run(client, RunRequest(job_id=SYNC_BIBS), pacing=FAST)
    assert outcome.verdict is Verdict.SUBMITTED and outcome.exit_code == 0
    assert outcome.instance_id in emulator.store.job_instances
    assert [r.method for r in emulator.requests] == ["POST"]


# -- Alma's thresholds ------------------------------------------------------------------


def _fill_slots(client: AlmaClient) -> list[str]:
    """Start three jobs through the API (they stay QUEUED on the slow emulator)."""
    return [submit_once(client, job, params).instance_id for job, params in
            ((EXPORT, {"set_id": MISSING_ITEMS}), (SYNC_BIBS, {}), (FINES, {}))]


def test_a_fourth_running_job_is_refused_with_402222(slow_emulator: Emulator,
                                                     slow_client: AlmaClient) -> None:
    _fill_slots(slow_client)
    with pytest.raises(ThresholdReached) as caught:
        run(slow_client, RunRequest(job_id=CHANGE_ITEMS, params={"set_id": MISSING_ITEMS}))
    assert caught.value.alma.code == "402222"
    assert caught.value.exit_code == ExitCode.UNAVAILABLE
    assert "execution threshold reached (Alma 402222: Execution threshold reached" \
        in str(caught.value)
    assert "already running" not in str(caught.value)
    assert "Nothing was started" in str(caught.value)
    assert len(slow_emulator.store.job_instances) == 3 + 3  # the seed's three, and ours
    assert api_posts(slow_emulator) == [200, 200, 200, 400]


def test_a_sixth_start_within_the_hour_is_refused_with_402223(
        slow_emulator: Emulator, slow_client: AlmaClient) -> None:
    for _ in range(5):
        finish(slow_emulator, submit_once(slow_client, SYNC_BIBS, {}).instance_id)
    with pytest.raises(ThresholdReached) as caught:
        submit_once(slow_client, SYNC_BIBS, {})
    assert caught.value.alma.code == "402223"
    message = str(caught.value)
    # Which code is which limit is not known: the message names both and claims neither.
    assert "execution threshold reached (Alma 402223" in message
    assert "at most 3 jobs started through the API are running" in message
    assert "at most 5 times in the past hour" in message
    assert "does not say which of the two was reached" in message


def test_wait_for_slot_retries_once_a_slot_frees(slow_emulator: Emulator,
                                                 slow_client: AlmaClient) -> None:
    running = _fill_slots(slow_client)
    events: list[JobEvent] = []

    def on_event(event: JobEvent) -> None:
        events.append(event)
        if isinstance(event, SlotWait) and len(events) == 2:
            finish(slow_emulator, running[0])  # a job ends while we wait

    outcome = run(slow_client, RunRequest(job_id=CHANGE_ITEMS, params={"set_id": MISSING_ITEMS},
                                          slot_timeout=60), pacing=FAST, on_event=on_event)
    assert outcome.verdict is Verdict.SUBMITTED
    waits = [e for e in events if isinstance(e, SlotWait)]
    assert len(waits) == 2 and "402222" in waits[0].reason
    assert api_posts(slow_emulator) == [200, 200, 200, 400, 400, 200]


def test_wait_for_slot_gives_up_after_the_slot_timeout(slow_emulator: Emulator,
                                                       slow_client: AlmaClient) -> None:
    _fill_slots(slow_client)
    fake = FakeTime()
    with pytest.raises(ThresholdReached) as caught:
        run(slow_client, RunRequest(job_id=SYNC_BIBS, slot_timeout=45), pacing=fake.pacing())
    assert fake.sleeps == [10, 20, 15]
    assert caught.value.waited == 45
    assert "Still refused after waiting 45 s for a slot" in str(caught.value)
    assert api_posts(slow_emulator) == [200, 200, 200, 400, 400, 400, 400]


# -- a submission whose answer was lost is never repeated ---------------------------------


def test_dropped_connection_is_reported_and_not_retried(emulator: Emulator,
                                                        client: AlmaClient) -> None:
    emulator.drop_rate = 1.0
    with pytest.raises(SubmitOutcomeUnknown) as caught:
        run(client, RunRequest(job_id=SYNC_BIBS, slot_timeout=60), pacing=FAST)
    assert caught.value.exit_code == ExitCode.UNAVAILABLE
    assert "may or may not have started" in str(caught.value)
    assert api_posts(emulator) == [0]


def test_lost_answer_after_the_job_started_is_not_resubmitted(emulator: Emulator) -> None:
    before = set(emulator.store.job_instances)
    emulator.latency = 0.5  # Alma starts the job, then answers too late for the client
    with make_client(emulator, timeout=(5.0, 0.1)) as impatient, \
            pytest.raises(SubmitOutcomeUnknown):
        run(impatient, RunRequest(job_id=SYNC_BIBS, wait=True), pacing=FAST)
    started = set(emulator.store.job_instances) - before
    assert len(started) == 1
