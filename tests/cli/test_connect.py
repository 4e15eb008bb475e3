"""Where commands connect, and what they say about the daily API quota."""

from __future__ import annotations

from typing import Any

from almasync.errors import ExitCode
from tests.conftest import Almasync

SAME = "locations:\n  MUSIC:\n    SCORES: {name: Scores, external_name: Scores, type: OPEN}\n"


def test_low_daily_quota_is_reported(almasync: Almasync, config: Any) -> None:
    almasync.emu.daily_budget = 3000
    result = almasync("plan", str(config({"l.yaml": SAME})))
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "API calls left today" in result.stderr


def test_plenty_of_quota_says_nothing(almasync: Almasync, config: Any) -> None:
    result = almasync("plan", str(config({"l.yaml": SAME})))
    assert "API calls left today" not in result.stderr


def test_environment_from_settings(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": SAME, "almasync.yaml":
                   f"environments:\n  sandbox:\n    api_url: {almasync.emu.base_url}\n"
                   "    api_key_env: SANDBOX_KEY\n"})
    result = almasync("plan", str(root), "--env", "sandbox",
                      env={"SANDBOX_KEY": almasync.key, "ALMA_API_URL": None,
                           "ALMA_API_KEY": None})
    assert result.exit_code == ExitCode.OK, result.stderr
    host = almasync.emu.base_url.removeprefix("http://")
    assert (f"Target: institution 01DEMO_INST at {host} (environment sandbox, SANDBOX)"
            in result.stdout)
    missing = almasync("plan", str(root), "--env", "sandbox", env={"SANDBOX_KEY": None})
    assert missing.exit_code == ExitCode.INVALID_CONFIG
    assert "$SANDBOX_KEY, which is not set" in missing.stderr
    unknown = almasync("plan", str(root), "--env", "prod")
    assert unknown.exit_code == ExitCode.INVALID_CONFIG
    assert "no such environment in almasync.yaml (sandbox)" in unknown.stderr
