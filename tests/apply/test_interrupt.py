"""Interrupting an apply: SIGINT/SIGTERM while a write is in flight, the second signal, and
what the report, the journal and rollback make of it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from almasync import workflow
from almasync.alma.client import AlmaClient
from almasync.apply import Outcome as Done
from almasync.emulator import Emulator
from almasync.errors import ExitCode
from tests.apply.test_workflow import client_for, plan_of
from tests.conftest import Almasync

ROOT = Path(__file__).resolve().parents[2]
DOZEN = "locations:\n  MAIN:\n" + "".join(
    f"    NEW{i:02d}: {{name: New {i}, type: OPEN}}\n" for i in range(12))


#: Changes written at once: when the signal comes with the n-th write arriving, the writes
#: already started on the other workers (at most this many less one) still land.
WORKERS = AlmaClient("http://127.0.0.1:1", "key", read_only=True).workers


def interrupted(out: str, signame: str) -> tuple[int, int]:
    """The applied and not-applied counts of the closing line of an interrupted apply."""
    found = re.search(rf"Interrupted by {signame}: (\d+) applied, (\d+) not applied, "
                      r"0 unknown\.", out)
    assert found, out
    return int(found[1]), int(found[2])


def new_codes(emu: Emulator) -> set[str]:
    return {code for code in emu.store.locations["MAIN"] if code.startswith("NEW")}


def posts(emu: Emulator) -> int:
    """POSTs that write (not the write-access probe ``POST /conf/test``)."""
    return sum(1 for r in emu.requests
               if r.method == "POST" and not r.path.rstrip("/").endswith("/conf/test"))


def start_apply(emu: Emulator, root: Path, *extra: str,
                state_home: Path | None = None) -> subprocess.Popen[str]:
    """``almasync apply ROOT --auto-approve`` as a process; ``state_home`` stands for
    another machine (its own institution locks)."""
    env = {**os.environ, "ALMA_API_URL": emu.base_url, "ALMA_API_KEY": emu.api_key,
           "ALMASYNC_RATE_LIMIT": "0", "PYTHONPATH": str(ROOT)}
    if state_home is not None:
        env["XDG_STATE_HOME"] = str(state_home)
    return subprocess.Popen([sys.executable, "-m", "almasync", "apply", str(root),
                             "--auto-approve", *extra], env=env, cwd=root.parent, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def signal_on_post(emu: Emulator, number: int, send: Any, latency: float = 0.0) -> None:
    """Call ``send()`` when the ``number``-th POST that writes arrives (before it is
    handled; the write-access probe ``POST /conf/test`` is not counted); from that write on,
    answers to writes take ``latency`` seconds more."""
    count = [0]
    lock = threading.Lock()

    def hook(method: str, path: str) -> None:
        if method != "POST" or path.rstrip("/").endswith("/conf/test"):
            return
        with lock:
            count[0] += 1
            hit = count[0] == number
        if hit:
            emu.write_latency = latency
            send()

    emu.on_request = hook


def journal_of(root: Path) -> dict[str, Any]:
    [path] = (root / ".almasync" / "journals").glob("*.json")
    body: dict[str, Any] = json.loads(path.read_text())
    return body


def test_ctrl_c_with_a_create_in_flight_reports_what_landed(
        almasync: Almasync, config: Any) -> None:
    """A dozen creates, SIGINT while the fifth is in flight: the fifth still lands, and so
    do the writes already started beside it; the report names exactly what landed and
    says the rest were not applied, the journal agrees, and rollback deletes exactly
    those."""
    emu = almasync.emu
    root = config({"l.yaml": DOZEN})
    before = new_codes(emu)
    process = start_apply(emu, root)
    signal_on_post(emu, 5, lambda: process.send_signal(signal.SIGINT), 0.5)
    out, err = process.communicate(timeout=120)
    emu.on_request = None
    emu.write_latency = 0.0
    assert process.returncode == ExitCode.INTERRUPTED, out + err
    landed = new_codes(emu) - before
    assert 5 <= len(landed) <= 5 + WORKERS - 1
    assert interrupted(out, "SIGINT") == (len(landed), 12 - len(landed))
    named = {line.split("MAIN/")[1] for line in out.splitlines()
             if line.startswith("  applied ")}
    assert named == landed
    journal = journal_of(root)
    applied = {change["key_parts"][1] for change, state in zip(
        journal["plan"], journal["states"], strict=True) if state["state"] == "applied"}
    assert applied == landed
    assert {s["state"] for s in journal["states"]} == {"applied", "not_applied"}
    path = str(next((root / ".almasync" / "journals").glob("*.json")))
    assert path in err and "almasync rollback" in err
    assert posts(emu) == len(landed)

    deletes_before = sum(1 for r in emu.requests if r.method == "DELETE")
    undo = almasync("rollback", path, "--auto-approve")
    assert undo.exit_code == ExitCode.OK, undo.stdout + undo.stderr
    assert new_codes(emu) == before
    assert sum(1 for r in emu.requests if r.method == "DELETE") - deletes_before == len(landed)

    again = almasync("apply", str(root), "--auto-approve")
    assert again.exit_code == ExitCode.OK, again.stderr
    assert len(new_codes(emu) - before) == 12
    assert almasync.plan_json(root)["changes"] == []


def test_apply_again_after_an_interruption_converges(almasync: Almasync,
                                                      config: Any) -> None:
    emu = almasync.emu
    root = config({"l.yaml": DOZEN})
    process = start_apply(emu, root)
    signal_on_post(emu, 3, lambda: process.send_signal(signal.SIGTERM), 0.3)
    out, err = process.communicate(timeout=120)
    emu.on_request = None
    emu.write_latency = 0.0
    assert process.returncode == ExitCode.INTERRUPTED, out + err
    applied, rest = interrupted(out, "SIGTERM")
    assert 3 <= applied <= 3 + WORKERS - 1 and applied + rest == 12
    again = almasync("apply", str(root), "--auto-approve")
    assert again.exit_code == ExitCode.OK, again.stderr
    assert f"Apply: {rest} applied, 0 failed, 0 skipped." in again.stdout
    assert almasync.plan_json(root)["changes"] == []


def test_no_answer_within_the_grace_period_is_read_back(emulator: Emulator, config: Any,
                                                        tmp_path: Path) -> None:
    """The answers of the writes in flight take longer than the grace period: those
    resources are read back instead, and found created."""
    root = config({"l.yaml": DOZEN})
    main = threading.main_thread().ident
    assert main is not None
    signal_on_post(emulator, 3, lambda: signal.pthread_kill(main, signal.SIGTERM), 30.0)
    results: list[Any] = []
    with client_for(emulator) as client:
        plan = plan_of(client, root)
        options = workflow.Options(journal_dir=tmp_path / "journals", grace=0.2)
        outcome = workflow.run(client, plan, options,
                               workflow.Seams(on_result=results.append))
    emulator.write_latency = 0.0
    assert outcome.interrupted == "SIGTERM"
    assert outcome.exit_code == ExitCode.INTERRUPTED
    landed = new_codes(emulator)
    assert 3 <= len(landed) <= 3 + WORKERS - 1
    assert [r.change.key for r in results] == [c.key for c in plan.changes]
    assert [r.outcome for r in results] == [
        Done.APPLIED if r.change.key[1] in landed else Done.NOT_APPLIED for r in results]
    assert outcome.journal is not None
    states = [s["state"] for s in json.loads(outcome.journal.read_text())["states"]]
    assert states == ["applied" if r.outcome is Done.APPLIED else "not_applied"
                      for r in results]


def test_a_second_signal_stops_at_once(almasync: Almasync, config: Any) -> None:
    """Two signals while writes are in flight: the process stops without waiting; the
    journal shows each of them started, and rollback settles them by reading Alma."""
    emu = almasync.emu
    root = config({"l.yaml": DOZEN})
    before = new_codes(emu)
    process = start_apply(emu, root)

    def twice() -> None:
        process.send_signal(signal.SIGINT)
        threading.Timer(0.3, lambda: process.send_signal(signal.SIGINT)).start()

    signal_on_post(emu, 3, twice, 60.0)
    out, err = process.communicate(timeout=50)
    emu.on_request = None
    emu.write_latency = 0.0
    assert process.returncode == ExitCode.INTERRUPTED, out + err
    assert "Stopped at once" in err
    states = [s["state"] for s in journal_of(root)["states"]]
    started = states.count("started")
    landed = len(new_codes(emu) - before)
    assert 1 <= started <= WORKERS and 3 <= landed <= 3 + WORKERS - 1
    assert states.count("applied") + started == landed
    # The first signal already settled that the others never start.
    assert set(states) <= {"applied", "started", "pending", "not_applied"}
    path = str(next((root / ".almasync" / "journals").glob("*.json")))
    undo = almasync("rollback", path, "--auto-approve")
    assert undo.exit_code == ExitCode.OK, undo.stdout + undo.stderr
    assert new_codes(emu) == before


def signal_at_first_request(emu: Emulator, process: subprocess.Popen[str],
                            signum: int = signal.SIGTERM) -> None:
    """Send ``signum`` to ``process`` when its first request reaches ``emu`` (while it reads,
    before anything is confirmed or written)."""
    sent = threading.Event()

    def hook(method: str, path: str) -> None:
        if not sent.is_set():
            sent.set()
            process.send_signal(signum)

    emu.on_request = hook


def test_sigterm_before_any_write_stops_with_nothing_written(almasync: Almasync,
                                                             config: Any) -> None:
    emu = almasync.emu
    root = config({"l.yaml": DOZEN})
    process = start_apply(emu, root)
    signal_at_first_request(emu, process)
    out, err = process.communicate(timeout=120)
    emu.on_request = None
    assert process.returncode == ExitCode.INTERRUPTED, out + err
    assert "Interrupted; nothing more was done." in err
    assert almasync.writes() == []
    assert not (root / ".almasync").exists()


def test_a_signal_while_reading_before_the_writes_writes_nothing(
        emulator: Emulator, config: Any, tmp_path: Path) -> None:
    root = config({"l.yaml": DOZEN})
    main = threading.main_thread().ident
    assert main is not None
    sent = threading.Event()

    def hook(method: str, path: str) -> None:
        if not sent.is_set():
            sent.set()
            signal.pthread_kill(main, signal.SIGINT)

    with client_for(emulator) as client:
        plan = plan_of(client, root)
        emulator.on_request = hook
        outcome = workflow.run(client, plan,
                               workflow.Options(journal_dir=tmp_path / "journals"))
    emulator.on_request = None
    assert outcome.stage is workflow.Stage.INTERRUPTED
    assert outcome.exit_code == ExitCode.INTERRUPTED
    assert outcome.report is not None
    assert {r.outcome for r in outcome.report.results} == {Done.NOT_APPLIED}
    assert [r for r in emulator.requests if r.method != "GET"] == []
    assert not (tmp_path / "journals").exists()
