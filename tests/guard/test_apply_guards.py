"""What apply finds out before writing, and one run per institution: a read-only key stops
before any write and leaves no journal; a second apply waits for the first (or gives up
after --lock-timeout, exit 5); two applies adding rows to one table both keep their row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from almasync.emulator import Emulator
from almasync.errors import ExitCode
from almasync.lock import institution_lock
from tests.conftest import Almasync

ROOT = Path(__file__).resolve().parents[2]
CHANGE = "locations:\n  MUSIC:\n    SCORES: {name: Scores and Parts, type: OPEN}\n"


def _row(code: str) -> str:
    return (f"code_tables:\n  UserGroups:\n    rows:\n"
            f"      - {{code: {code}, description: Group {code}, enabled: true}}\n")


def test_a_read_only_key_stops_before_any_write_with_no_journal(
        almasync: Almasync, config: Any, tmp_path: Path) -> None:
    root = config({"l.yaml": CHANGE})
    ro = Almasync(almasync.emu, almasync.runner, almasync.emu.read_only_key)
    result = ro("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "this API key may not write to Alma's Configuration area" in result.stderr
    assert "apply again" not in result.stdout + result.stderr
    assert not (root / ".almasync").exists()
    assert almasync.emu.write_count == 0
    assert [r.path for r in almasync.emu.requests if r.method != "GET"] == [
        "/almaws/v1/conf/test"]
    # A saved plan likewise.
    out = tmp_path / "plan.json"
    assert ro("plan", str(root), "--out", str(out)).exit_code == ExitCode.OK
    saved = ro("apply", str(out), "--auto-approve")
    assert saved.exit_code == ExitCode.UNAVAILABLE
    assert not (tmp_path / ".almasync").exists()
    assert almasync.emu.write_count == 0


def test_a_held_lock_and_lock_timeout_refuse_with_nothing_written(
        almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": CHANGE})
    with institution_lock("01DEMO_INST", command="apply"):
        result = almasync("apply", str(root), "--auto-approve", "--lock-timeout", "0")
    assert result.exit_code == ExitCode.BLOCKED
    assert (f"another almasync run against institution 01DEMO_INST holds its lock by apply "
            f"(pid {os.getpid()}") in result.stderr
    assert almasync.writes() == []
    # Another institution's lock is another lock.
    with institution_lock("01OTHER_INST"):
        assert almasync("apply", str(root), "--auto-approve",
                        "--lock-timeout", "0").exit_code == ExitCode.OK


def _apply_process(emu: Emulator, root: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ALMA_API_URL": emu.base_url,
           "ALMA_API_KEY": emu.api_key, "ALMASYNC_RATE_LIMIT": "0"}
    return subprocess.Popen([sys.executable, "-m", "almasync", "apply", str(root),
                             "--auto-approve"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_second_apply_waits_for_the_first_and_says_so(emulator: Emulator,
                                                         config: Any) -> None:
    root = config({"l.yaml": CHANGE})
    with institution_lock("01DEMO_INST", command="apply"):
        waiting = _apply_process(emulator, root)
        assert waiting.stderr is not None
        line = waiting.stderr.readline()
        assert line.startswith("Waiting for another almasync run apply (pid "), line
        assert "against institution 01DEMO_INST to finish" in line
        assert emulator.write_count == 0
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == ExitCode.OK, err
    assert "applied  ~ locations MUSIC/SCORES" in out


def test_two_applies_adding_rows_to_one_table_keep_both(emulator: Emulator,
                                                        config: Any, tmp_path: Path) -> None:
    first = config({"t.yaml": _row("ONE")})
    second = tmp_path / "second"
    second.mkdir()
    (second / "t.yaml").write_text(_row("TWO"))
    runs = [_apply_process(emulator, first), _apply_process(emulator, second)]
    outcomes = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outcomes
    with emulator.store.lock:
        codes = {row["code"] for row in emulator.store.code_tables["UserGroups"]["rows"]}
    assert {"ONE", "TWO"} <= codes


def test_apply_takes_over_a_lock_left_by_a_killed_run_and_says_so(
        almasync: Almasync, config: Any) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", "import os, signal\nfrom almasync.lock import institution_lock\n"
         "with institution_lock('01DEMO_INST', command='apply'):\n"
         "    print(os.getpid(), flush=True)\n    os.kill(os.getpid(), signal.SIGKILL)\n"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert killed.returncode == -9
    result = almasync("apply", str(config({"l.yaml": CHANGE})), "--auto-approve",
                      "--lock-timeout", "0")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert (f"Note: the lock of institution 01DEMO_INST was left by apply (pid "
            f"{int(killed.stdout)}") in result.stderr
    assert "ended without releasing it; taken over." in result.stderr


def test_journals_go_to_journal_dir_and_beside_the_journal_a_rollback_undoes(
        almasync: Almasync, config: Any, tmp_path: Path) -> None:
    root = config({"l.yaml": CHANGE})
    chosen = tmp_path / "kept" / "journals"
    applied = almasync("apply", str(root), "--auto-approve", "--journal-dir", str(chosen))
    assert applied.exit_code == ExitCode.OK, applied.stderr
    assert not (root / ".almasync").exists()
    [journal] = chosen.glob("*.json")
    assert str(journal) in applied.stderr
    undone = almasync("rollback", str(journal), "--auto-approve")
    assert undone.exit_code == ExitCode.OK, undone.stderr
    assert len(list(chosen.glob("*.json"))) == 2
    assert not (root / ".almasync").exists()
    elsewhere = tmp_path / "elsewhere"
    again = almasync("apply", str(root), "--auto-approve")
    assert again.exit_code == ExitCode.OK, again.stderr
    [second] = (root / ".almasync" / "journals").glob("*.json")
    assert almasync("rollback", str(second), "--auto-approve", "--journal-dir",
                    str(elsewhere)).exit_code == ExitCode.OK
    assert len(list(elsewhere.glob("*.json"))) == 1
