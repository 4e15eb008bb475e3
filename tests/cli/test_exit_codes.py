"""Every exit code of PRODUCT.md section 3, through the CLI against the emulator."""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from click.testing import CliRunner

from almasync.cli import cli
from almasync.errors import ExitCode
from tests.conftest import EXAMPLES, Almasync

SAME = "locations:\n  MUSIC:\n    SCORES: {name: Scores, external_name: Scores, type: OPEN}\n"
DIFFERENT = "locations:\n  MUSIC:\n    SCORES: {name: Scores and Parts, type: OPEN}\n"


def test_0_no_changes(almasync: Almasync, config: Any) -> None:
    result = almasync("plan", str(config({"l.yaml": SAME})), "--detailed-exitcode")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "No changes." in result.stdout


def test_2_changes_present_only_with_detailed_exitcode(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": DIFFERENT})
    assert almasync("plan", str(root)).exit_code == ExitCode.OK
    assert almasync("plan", str(root), "--detailed-exitcode").exit_code == ExitCode.CHANGES


def test_3_invalid_config_sends_nothing(almasync: Almasync, config: Any) -> None:
    result = almasync("plan", str(config({"l.yaml": "locations: 5\n"})))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert almasync.emu.requests == []


def test_3_missing_connection_settings(config: Any) -> None:
    result = CliRunner().invoke(cli, ["plan", str(config({"l.yaml": SAME}))],
                                env={"ALMA_API_URL": None, "ALMA_API_KEY": None})
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "set ALMA_API_URL and ALMA_API_KEY" in result.stderr


def test_3_plain_http_to_a_remote_host_is_refused(config: Any) -> None:
    result = CliRunner().invoke(cli, ["plan", str(config({"l.yaml": SAME}))],
                                env={"ALMA_API_URL": "http://alma.example.org",
                                     "ALMA_API_KEY": "k"})
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "only https is allowed" in result.stderr


def test_4_bad_key_is_refused_and_never_printed(almasync: Almasync, config: Any) -> None:
    secret = "l7xx-not-a-real-key-0123456789"
    result = almasync("-v", "plan", str(config({"l.yaml": SAME})),
                      env={"ALMA_API_KEY": secret})
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "ALMA_API_KEY" in result.stderr
    assert secret not in result.stdout + result.stderr


def test_4_read_only_key_cannot_apply(almasync: Almasync, config: Any) -> None:
    result = almasync("apply", str(config({"l.yaml": DIFFERENT})), "--auto-approve",
                      env={"ALMA_API_KEY": almasync.emu.read_only_key})
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "UNAUTHORIZED" in result.stderr
    assert almasync.emu.read_only_key not in result.stdout + result.stderr


def test_4_unreachable(config: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(cli, ["plan", str(config({"l.yaml": SAME}))],
                                env={"ALMA_API_URL": f"http://127.0.0.1:{port}",
                                     "ALMA_API_KEY": "secret-key-xyz",
                                     "ALMASYNC_RATE_LIMIT": "0"})
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "could not reach Alma" in result.stderr
    assert "secret-key-xyz" not in result.stderr


def test_5_safety_rule_blocks_but_prints(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": SAME, "almasync.yaml":
                   "prune:\n  locations: true\nsafety:\n  max_deletes: 2\n"})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.BLOCKED
    assert "- locations MAIN/STACKS" in result.stdout
    assert "exceed safety.max_deletes (2)" in result.stderr
    assert almasync.writes() == []
    assert almasync("plan", str(root)).exit_code == ExitCode.BLOCKED
    forced = almasync("apply", str(root), "--auto-approve", "--force")
    # Two of the demo's locations hold items, and Alma refuses to delete those.
    assert forced.exit_code == ExitCode.APPLY_FAILED, forced.stderr
    assert "Location has items" in forced.stderr
    assert "Apply: 4 applied, 2 failed, 0 skipped." in forced.stdout
    assert len(almasync.writes()) == 6


def test_5_environment_type_mismatch_stops_before_writes(almasync: Almasync,
                                                         config: Any) -> None:
    root = config({"l.yaml": DIFFERENT, "almasync.yaml":
                   f"environments:\n  prod:\n    api_url: {almasync.emu.base_url}\n"
                   "    api_key_env: PROD_KEY\n    environment_type: PRODUCTION\n"})
    result = almasync("apply", str(root), "--env", "prod", "--auto-approve",
                      env={"PROD_KEY": almasync.key})
    assert result.exit_code == ExitCode.BLOCKED
    assert "reports SANDBOX" in result.stderr
    assert almasync.writes() == []


def test_7_failed_changes(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": "locations:\n  MAIN:\n"
                             "    BAD: {name: Bad, type: OPEN, call_number_type: '99'}\n"})
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.APPLY_FAILED


def test_64_usage_errors(almasync: Almasync) -> None:
    assert almasync("plan", "--no-such-flag").exit_code == ExitCode.USAGE
    assert almasync("nosuchcommand").exit_code == ExitCode.USAGE
    assert almasync("plan", str(EXAMPLES), "--format", "yaml").exit_code == ExitCode.USAGE


def test_64_apply_without_a_terminal(almasync: Almasync, config: Any) -> None:
    result = almasync("apply", str(config({"l.yaml": DIFFERENT})))
    assert result.exit_code == ExitCode.USAGE
    assert "--auto-approve" in result.stderr
    assert almasync.writes() == []


def _run_on_tty(args: list[str], answer: str, env: dict[str, str],
                before_answer: Callable[[], object] | None = None) -> tuple[int, str]:
    """Run the real console entry point on a pseudo-terminal and answer its prompt (after
    ``before_answer()``: what happens while a person reads the plan)."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "almasync", *args], stdin=child,
                            stdout=child, stderr=child, env={**os.environ, **env},
                            close_fds=True)
    os.close(child)
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Only 'yes' will be accepted" in output:
                if before_answer is not None:
                    before_answer()
                os.write(main, answer.encode() + b"\n")
                answered = True
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=30)
    os.close(main)
    return code, output.decode(errors="replace")


def test_apply_prompts_on_a_terminal(almasync: Almasync, config: Any) -> None:
    root = str(config({"l.yaml": DIFFERENT}))
    env = {"ALMA_API_URL": almasync.emu.base_url, "ALMA_API_KEY": almasync.key,
           "ALMASYNC_RATE_LIMIT": "0"}
    code, output = _run_on_tty(["apply", root], "no", env)
    assert code == ExitCode.ERROR, output
    assert "Apply cancelled; nothing was changed." in output
    assert almasync.writes() == []
    code, output = _run_on_tty(["apply", root], "yes", env)
    assert code == ExitCode.OK, output
    assert "applied  ~ locations MUSIC/SCORES" in output


def test_version_and_help() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--version"]).exit_code == 0
    assert "plan" in runner.invoke(cli, ["--help"]).stdout




def test_64_bad_emulator_seed_and_bad_target(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--emulator", "no-such-seed")
    assert result.exit_code == ExitCode.USAGE
    assert "--emulator 'no-such-seed'" in result.stderr
    result = almasync("plan", str(EXAMPLES), "--target", "shelves")
    assert result.exit_code == ExitCode.USAGE
    assert "unknown kind 'shelves'" in result.stderr
