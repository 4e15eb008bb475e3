"""Pure parts of the engine: reading Alma's instance JSON, phases, exit codes, backoff."""

from __future__ import annotations

import itertools

import pytest

from almasync.errors import ExitCode
from almasync.jobs import Instance, JobExit, JobOutcome, Pacing, Phase, Verdict
from almasync.jobs.model import PHASES

# Alma's systemJobStatus code table, with what each means for the exit code.
EXPECTED = {
    "QUEUED": 10, "PENDING": 10, "INITIALIZING": 10, "RUNNING": 10, "FINALIZING": 10,
    "COMPLETED_SUCCESS": 0, "COMPLETED_NO_BULKS": 0,
    "COMPLETED_WARNING": 7, "COMPLETED_FAILED": 7,
    "FAILED": 8, "USER_ABORTED": 8, "SYSTEM_ABORTED": 8, "SKIPPED": 8,
    "MANUAL_HANDLING_REQUIRED": 9,
}


def _instance(status: str, **extra: object) -> Instance:
    return Instance.from_json({"id": "1", "status": {"value": status}, **extra}, "M1")


@pytest.mark.parametrize(("status", "code"), sorted(EXPECTED.items()))
def test_every_alma_status_has_an_exit_code(status: str, code: int) -> None:
    assert status in PHASES
    assert JobOutcome.seen("job M1", _instance(status)).exit_code == code


def test_codes_reuse_the_shared_table_where_it_fits() -> None:
    assert int(JobExit.OK) == int(ExitCode.OK)
    assert int(JobExit.FINISHED_WITH_ERRORS) == int(ExitCode.APPLY_FAILED)
    assert {int(c) for c in JobExit} <= {int(c) for c in ExitCode}
    assert int(JobExit.NOT_FINISHED) == int(ExitCode.NOT_FINISHED)


def test_an_unknown_status_is_never_success() -> None:
    assert _instance("SOMETHING_NEW").phase is Phase.ACTIVE
    ended = _instance("SOMETHING_NEW", end_time="2026-01-01T00:00:00.000Z")
    assert ended.phase is Phase.FAILED


def test_instance_json_variations() -> None:
    inst = Instance.from_json({
        "id": "1108569450000121", "progress": "50.776",
        "status": {"value": "RUNNING", "desc": "Running"},
        "alert": {"value": "alert_general_success", "desc": "Done."},
        "counter": [{"type": {"value": "c.total", "desc": "Total"}, "value": "7"},
                    {"type": {"value": "c.bare"}, "value": 3}],
        "job_info": {"id": "M26714670000011", "name": "Export"},
    })
    assert (inst.status, inst.status_label, inst.percent) == ("RUNNING", "Running", 50)
    assert inst.alerts == ("Done.",)
    assert [(c.label, c.value) for c in inst.counters] == [("Total", "7"), ("c.bare", "3")]
    assert (inst.job_id, inst.job_name) == ("M26714670000011", "Export")
    assert Instance.from_json({"status": "FAILED", "progress": None}).progress == 0


def test_outcome_exit_codes_for_verdicts_without_a_final_state() -> None:
    running = _instance("RUNNING")
    assert JobOutcome("job M1", Verdict.NOT_FINISHED, running).exit_code == 10
    assert JobOutcome("job M1", Verdict.SUBMITTED).exit_code == 0
    assert JobOutcome("job M1", Verdict.SKIPPED).exit_code == 0


def test_pacing_doubles_to_the_cap() -> None:
    assert list(itertools.islice(Pacing().delays(), 7)) == [2, 4, 8, 16, 30, 30, 30]
    assert list(itertools.islice(Pacing(first=45).delays(), 2)) == [45, 45]
    with pytest.raises(ValueError):
        Pacing(first=0)
