"""post_apply jobs: shown in the plan, run after a successful apply, never after a failed one."""

from __future__ import annotations

from typing import Any

from almasync.errors import ExitCode
from tests.conftest import Almasync

CHANGE = "locations:\n  MUSIC:\n    SCORES: {name: Scores and Parts, type: OPEN}\n"
BAD = "locations:\n  MUSIC:\n    BAD: {name: Bad, type: OPEN, call_number_type: '99'}\n"
JOBS = ("post_apply:\n  - job_id: M26714670000011\n    set: New acquisitions 2026\n"
        "    wait: true\n    timeout: 60\n"
        "    params: {limit: 5}\n")


def _job_posts(almasync: Almasync) -> list[Any]:
    return [r for r in almasync.emu.requests
            if r.method == "POST" and r.path.startswith("/almaws/v1/conf/jobs/")]


def test_plan_shows_post_apply_jobs(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": CHANGE, "almasync.yaml": JOBS})
    result = almasync("plan", str(root))
    assert result.exit_code == 0, result.stderr
    assert "these jobs run (post_apply)" in result.stdout
    assert "run job M26714670000011 with set 'New acquisitions 2026', limit=5" in result.stdout
    assert _job_posts(almasync) == []


def test_jobs_run_after_a_successful_apply(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": CHANGE, "almasync.yaml": JOBS})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.OK, result.stdout + result.stderr
    assert len(_job_posts(almasync)) == 1
    assert "COMPLETED_SUCCESS" in result.stdout


def test_jobs_never_run_after_a_failed_apply(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": BAD, "almasync.yaml": JOBS})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert _job_posts(almasync) == []


def test_malformed_entry_is_invalid_config(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": CHANGE, "almasync.yaml":
                   "post_apply:\n  - {job_id: M1, profile_id: P1}\n"})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "almasync.yaml:2:5: almasync.post_apply.0: Value error, give exactly one of " \
        "job_id and profile_id" in result.stderr


def test_json_and_markdown_plans_list_post_apply_jobs(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": CHANGE, "almasync.yaml": JOBS})
    data = almasync.plan_json(root)
    assert data["post_apply"] == [
        "run job M26714670000011 with set 'New acquisitions 2026', limit=5; wait up to 60 s "
        "for it to end"]
    markdown = almasync("plan", str(root), "--format", "markdown").stdout
    assert "After a successful apply, these jobs run:" in markdown
