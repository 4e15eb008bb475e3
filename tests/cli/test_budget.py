"""The call budget: plan's last line, apply --max-calls (exit 5) and the daily quota
(exit 4), each refusing before anything is written."""

from __future__ import annotations

import json
import re
from pathlib import Path

from almasync import budget
from almasync.errors import ExitCode
from almasync.plan.plan import Plan
from tests.conftest import EXAMPLES, Almasync
from tests.test_request_counts import SECRETS

LINE = re.compile(r"Calls: plan made (\d+); apply would make about (\d+) \((.*?)\)(.*)\.$")


def _budget_line(stderr: str) -> re.Match[str]:
    lines = [line for line in stderr.splitlines() if line.startswith("Calls:")]
    assert len(lines) == 1, stderr
    found = LINE.match(lines[0])
    assert found, lines[0]
    return found


def test_plan_ends_with_its_calls_and_the_estimate_for_apply(almasync: Almasync) -> None:
    almasync.emu.daily_budget = 10_000
    result = almasync("plan", str(EXAMPLES), "--format", "json", env=SECRETS)
    assert result.exit_code == 0, result.stderr
    plan = Plan.from_dict(json.loads(result.stdout))
    made = len(almasync.emu.requests)
    found = _budget_line(result.stderr)
    assert int(found[1]) == made
    assert int(found[2]) == made + budget.write_calls(plan)
    assert found[3] == "rate not limited"  # the tests run with ALMASYNC_RATE_LIMIT=0
    remaining = almasync.emu.remaining
    share = 100.0 * int(found[2]) / remaining
    assert found[4] == f", {share:.1f}% of the {remaining} calls Alma has left today"


def test_the_estimate_is_given_in_seconds_at_the_clients_rate(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), env={**SECRETS, "ALMASYNC_RATE_LIMIT": "10"})
    found = _budget_line(result.stderr)
    assert found[3] == f"about {int(found[2]) / 10:.1f} s at 10 calls/s"


def test_max_calls_below_the_estimate_refuses_with_nothing_written(almasync: Almasync,
                                                                   tmp_path: Path) -> None:
    plan = almasync("plan", str(EXAMPLES), "--out", str(tmp_path / "plan.json"), env=SECRETS)
    estimate = int(_budget_line(plan.stderr)[2])
    result = almasync("apply", str(EXAMPLES), "--auto-approve", "--max-calls",
                      str(estimate - 1), "--journal-dir", str(tmp_path / "j"), env=SECRETS)
    assert result.exit_code == ExitCode.BLOCKED
    assert f"more than --max-calls {estimate - 1}; nothing was written" in result.stderr
    saved = almasync("apply", str(tmp_path / "plan.json"), "--auto-approve", "--max-calls",
                     "10", "--journal-dir", str(tmp_path / "j"), env=SECRETS)
    assert saved.exit_code == ExitCode.BLOCKED
    assert almasync.writes() == []
    assert not (tmp_path / "j").exists()


def test_max_calls_at_the_estimate_applies(almasync: Almasync, tmp_path: Path) -> None:
    plan = almasync("plan", str(EXAMPLES), env=SECRETS)
    estimate = int(_budget_line(plan.stderr)[2])
    result = almasync("apply", str(EXAMPLES), "--auto-approve", "--max-calls", str(estimate),
                      "--journal-dir", str(tmp_path / "j"), env=SECRETS)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert almasync.writes()


def test_a_daily_quota_below_the_estimate_refuses_to_start(almasync: Almasync,
                                                           tmp_path: Path) -> None:
    plan = almasync("plan", str(EXAMPLES), env=SECRETS)
    reads, estimate = (int(n) for n in _budget_line(plan.stderr).group(1, 2))
    # Enough for the plan the apply makes first, not for its writes.
    almasync.emu.daily_budget = reads + (estimate - reads) // 2
    result = almasync("apply", str(EXAMPLES), "--auto-approve",
                      "--journal-dir", str(tmp_path / "j"), env=SECRETS)
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "left today (X-Exl-Api-Remaining); nothing was written" in result.stderr
    assert almasync.writes() == []
    assert not (tmp_path / "j").exists()


def test_markdown_footer_uses_the_same_accounting(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--format", "json", env=SECRETS)
    plan = Plan.from_dict(json.loads(result.stdout))
    text = almasync("plan", str(EXAMPLES), "--format", "markdown", env=SECRETS).stdout
    assert f"apply makes about {budget.write_calls(plan)} calls besides reading what this " \
           "plan read" in text
