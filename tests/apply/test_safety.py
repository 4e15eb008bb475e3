"""Safety rules block (exit 5, plan still printed, nothing written); --force lifts caps."""

from __future__ import annotations

from typing import Any

import pytest

from almasync.errors import ExitCode
from tests.conftest import Almasync

ONE = "locations:\n  MUSIC:\n    SCORES: {name: Scores and Parts, type: OPEN}\n"
TWO_UPDATES = ("locations:\n  MAIN:\n    STACKS: {name: S, type: OPEN}\n"
               "    REF: {name: R, type: OPEN}\n")


def _settings(text: str) -> dict[str, str]:
    return {"l.yaml": TWO_UPDATES, "almasync.yaml": text}


@pytest.mark.parametrize(("settings", "message"), [
    ("safety:\n  max_updates: 1\n", "2 updates exceed safety.max_updates (1)"),
    ("safety:\n  max_update_percent: 20\n",
     "update of 2 of 4 live locations (50%) exceeds safety.max_update_percent"),
    ("safety:\n  kinds:\n    locations: {max_updates: 1}\n",
     "2 updates of locations exceed safety.kinds.locations.max_updates (1)"),
    ("safety:\n  environments:\n    prod: {max_updates: 0}\n",
     "2 updates exceed safety.max_updates (0)"),
])
def test_update_caps_block_and_force_lifts(almasync: Almasync, config: Any, settings: str,
                                           message: str) -> None:
    env = {}
    args: list[str] = []
    if "environments" in settings:
        settings += (f"environments:\n  prod:\n    api_url: {almasync.emu.base_url}\n"
                     "    api_key_env: PROD_KEY\n")
        env = {"PROD_KEY": almasync.key}
        args = ["--env", "prod"]
    root = config(_settings(settings))
    result = almasync("apply", str(root), "--auto-approve", *args, env=env)
    assert result.exit_code == ExitCode.BLOCKED, result.stderr
    assert message in result.stderr
    assert "~ locations MAIN/STACKS" in result.stdout
    assert almasync.writes() == []
    forced = almasync("apply", str(root), "--auto-approve", "--force", *args, env=env)
    assert forced.exit_code == ExitCode.OK, forced.stderr
    assert "Safety cap lifted by --force" in forced.stderr


def test_delete_percent_per_kind(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": ONE, "almasync.yaml":
                   "prune:\n  locations: [MAIN]\nsafety:\n  max_delete_percent: 10\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.BLOCKED
    assert "delete of 4 of 5 live locations (80%)" in result.stderr


def test_protected_keys_are_never_deleted_even_with_force(almasync: Almasync,
                                                         config: Any) -> None:
    root = config({"l.yaml": ONE, "almasync.yaml":
                   "prune:\n  locations: [MAIN]\n"
                   "safety:\n  protected:\n    locations: [MAIN/STACKS]\n"})
    result = almasync("apply", str(root), "--auto-approve", "--force")
    assert result.exit_code == ExitCode.BLOCKED
    assert "locations MAIN/STACKS is protected" in result.stderr
    assert almasync.writes() == []


def test_unknown_kind_in_safety_is_invalid(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": ONE, "almasync.yaml": "safety:\n  kinds:\n    shelves: {}\n"})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "unknown kind 'shelves'" in result.stderr
