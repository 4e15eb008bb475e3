"""post_apply jobs: plan lines, checks, and the run after an apply, against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from almasync.alma.client import AlmaClient
from almasync.config.loader import load_settings
from almasync.config.settings import PostApplyJob
from almasync.emulator import Emulator
from almasync.errors import ConfigError, ExitCode
from almasync.jobs import (
    JobEvent,
    Skipped,
    Starting,
    ThresholdReached,
    UnknownJob,
    Verdict,
    describe_post_apply,
    post_apply_exit,
    run_post_apply,
)
from tests.jobs.conftest import (
    CHANGE_ITEMS,
    EXPORT,
    FAST,
    FINES,
    MISSING_ITEMS,
    SIS_JOB,
    SIS_PROFILE,
    SYNC_BIBS,
    api_posts,
)


def test_plan_lines_describe_each_job_in_order() -> None:
    jobs = [PostApplyJob(job_id=EXPORT, set="New acquisitions 2026",
                         params={"job_name": "Weekly"}),
            PostApplyJob(profile_id=SIS_PROFILE, wait=False)]
    assert describe_post_apply(jobs) == [
        f"run job {EXPORT} with set 'New acquisitions 2026', job_name=Weekly; "
        "wait up to 3600 s for it to end",
        f"run the scheduled job of profile {SIS_PROFILE}; do not wait",
    ]
    assert describe_post_apply([]) == []


def test_malformed_entries_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "almasync.yaml").write_text(
        "post_apply:\n"
        "  - {wait: true}\n"
        f"  - {{job_id: {EXPORT}, profile_id: '{SIS_PROFILE}'}}\n"
        f"  - {{job_id: {EXPORT}, set: Missing items, params: {{set_id: '1'}}}}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert caught.value.exit_code == ExitCode.INVALID_CONFIG
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 3
    assert (":2:5: almasync.post_apply.0: Value error, give exactly one of job_id and "
            "profile_id") in messages[0]
    assert ":3:5: almasync.post_apply.1: Value error, give exactly one" in messages[1]
    assert ":4:5: almasync.post_apply.2: Value error, give the set either as" in messages[2]


def test_jobs_run_in_order_and_each_is_followed(emulator: Emulator,
                                                client: AlmaClient) -> None:
    events: list[JobEvent] = []
    jobs = [PostApplyJob(job_id=EXPORT, set="Missing items"),
            PostApplyJob(profile_id=SIS_PROFILE, wait=False)]
    outcomes = run_post_apply(client, jobs, events.append, pacing=FAST)
    assert [o.verdict for o in outcomes] == [Verdict.SUCCEEDED, Verdict.SUBMITTED]
    assert outcomes[0].instance is not None and outcomes[0].instance.job_id == EXPORT
    assert outcomes[1].submission is not None and outcomes[1].submission.job_id == SIS_JOB
    assert [(e.index, e.total) for e in events if isinstance(e, Starting)] == [(1, 2), (2, 2)]
    assert post_apply_exit(outcomes) == 0
    with emulator.store.lock:
        sent = emulator.store.job_instances[outcomes[0].instance.id]["parameters"]
    assert sent == {"set_id": MISSING_ITEMS}


def test_a_job_that_does_not_succeed_skips_the_rest(emulator: Emulator,
                                                    client: AlmaClient) -> None:
    events: list[JobEvent] = []
    jobs = [PostApplyJob(job_id=CHANGE_ITEMS, set="Missing items"),
            PostApplyJob(job_id=SYNC_BIBS), PostApplyJob(job_id=FINES)]
    outcomes = run_post_apply(client, jobs, events.append, pacing=FAST)
    assert [o.verdict for o in outcomes] == [Verdict.WITH_ERRORS, Verdict.SKIPPED,
                                             Verdict.SKIPPED]
    assert post_apply_exit(outcomes) == 7
    skipped = [e for e in events if isinstance(e, Skipped)]
    assert len(skipped) == 2 and "job 1 did not succeed (finished with errors)" in skipped[0].reason
    assert len(api_posts(emulator)) == 1


def test_an_error_is_recorded_not_raised(emulator: Emulator, client: AlmaClient) -> None:
    outcomes = run_post_apply(client, [PostApplyJob(job_id="M1234500000011"),
                                       PostApplyJob(job_id=SYNC_BIBS)], pacing=FAST)
    assert [o.verdict for o in outcomes] == [Verdict.ERROR, Verdict.SKIPPED]
    assert isinstance(outcomes[0].error, UnknownJob)
    assert post_apply_exit(outcomes) == ExitCode.INVALID_CONFIG


def test_thresholds_wait_for_a_slot_only_when_asked(slow_emulator: Emulator,
                                                    slow_client: AlmaClient) -> None:
    jobs = [PostApplyJob(job_id=j, wait=False) for j in (SYNC_BIBS, FINES, SIS_JOB, SYNC_BIBS)]
    outcomes = run_post_apply(slow_client, jobs, pacing=FAST)
    assert [o.verdict for o in outcomes][-1] is Verdict.ERROR
    assert isinstance(outcomes[-1].error, ThresholdReached)
    assert post_apply_exit(outcomes) == ExitCode.UNAVAILABLE
    assert api_posts(slow_emulator) == [200, 200, 200, 400]
