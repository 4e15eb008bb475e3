"""The institution lock: one apply or rollback per institution on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from almasync.errors import ExitCode, LockTimeout
from almasync.lock import Holder, institution_lock, lock_path

ROOT = Path(__file__).resolve().parents[2]


def test_the_lock_lives_in_the_state_directory_keyed_by_institution(
        _state_home: Path) -> None:
    assert lock_path("01DEMO_INST") == _state_home / "almasync" / "locks" / "01DEMO_INST.lock"
    assert lock_path("../x/y").parent == lock_path("01DEMO_INST").parent
    with institution_lock("01DEMO_INST", command="apply") as path:
        assert path.read_text().startswith("{")
        assert f'"pid": {os.getpid()}' in path.read_text()
    assert path.read_text() == ""


def test_a_second_run_waits_for_the_first_and_is_told_who_holds_it() -> None:
    held, release, done = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with institution_lock("01DEMO_INST", command="apply"):
            order.append("first in")
            held.set()
            release.wait(30)
            order.append("first out")
        done.set()

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(30)
    waited: list[Holder | None] = []

    def on_wait(holder: Holder | None) -> None:
        waited.append(holder)
        release.set()

    with institution_lock("01DEMO_INST", on_wait=on_wait, poll=0.01):
        order.append("second in")
    thread.join(30)
    assert order == ["first in", "first out", "second in"]
    assert len(waited) == 1 and waited[0] is not None
    assert waited[0].pid == os.getpid() and waited[0].command == "apply"


def test_other_institutions_do_not_wait() -> None:
    with institution_lock("01A_INST"), institution_lock("01B_INST", timeout=0):
        pass


def test_lock_timeout_refuses_with_exit_5_naming_the_holder() -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom almasync.lock import institution_lock\n"
         "with institution_lock('01DEMO_INST', command='apply'):\n"
         "    print('held', flush=True)\n    sys.stdin.read()\n"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(LockTimeout) as err, institution_lock("01DEMO_INST", timeout=0):
            pass
        assert err.value.exit_code is ExitCode.BLOCKED
        assert f"apply (pid {holder.pid}" in str(err.value)
        assert "--lock-timeout" in str(err.value)
    finally:
        holder.communicate("", timeout=30)
    with institution_lock("01DEMO_INST", timeout=0):
        pass


def test_a_lock_left_by_a_killed_run_is_taken_over_and_reported() -> None:
    killed = subprocess.run(
        [sys.executable, "-c", "import os, signal\nfrom almasync.lock import institution_lock\n"
         "with institution_lock('01DEMO_INST', command='apply'):\n"
         "    print(os.getpid(), flush=True)\n    os.kill(os.getpid(), signal.SIGKILL)\n"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert killed.returncode == -9
    pid = int(killed.stdout)
    stale: list[Holder] = []
    with institution_lock("01DEMO_INST", timeout=0, on_stale=stale.append):
        pass
    assert [h.pid for h in stale] == [pid]
    assert not stale[0].alive
