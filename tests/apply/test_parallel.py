"""Writes side by side: independent changes of one kind overlap in time, changes to one
table never do, results come in plan order, a failure skips only its dependants, the order
across kinds holds, and an interruption settles every write in flight. Which calls
overlapped is read from the emulator's record of when each request arrived and was
answered; nothing here measures time."""

from __future__ import annotations

import contextlib
import itertools
import json
import signal
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from almasync import workflow
from almasync.apply import Outcome as Done
from almasync.apply import Result
from almasync.emulator import Emulator
from almasync.emulator.gateway import RecordedRequest
from almasync.errors import ExitCode
from tests.apply.test_interrupt import WORKERS
from tests.apply.test_kill import tree
from tests.apply.test_workflow import client_for, plan_of

EIGHT = "locations:\n  MAIN:\n" + "".join(
    f"    NEW{i}: {{name: New {i}, type: OPEN}}\n" for i in range(8))


def written(emu: Emulator, part: str = "") -> list[RecordedRequest]:
    """Writes (not the write-access probe) whose path holds ``part``."""
    return [r for r in emu.requests if r.method != "GET" and part in r.path
            and not r.path.rstrip("/").endswith("/conf/test")]


def most_at_once(calls: Iterable[RecordedRequest]) -> int:
    """The most of ``calls`` that were being served at one moment."""
    edges = sorted([(r.arrived, 1) for r in calls] + [(r.answered, -1) for r in calls],
                   key=lambda edge: (edge[0], edge[1]))
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def meet(emu: Emulator, count: int, wanted: Any) -> None:
    """Hold the first ``count`` requests ``wanted(method, path)`` picks until all of them
    have arrived (they then overlap for certain), or give up after a minute: one at a
    time, they never would."""
    gate = threading.Barrier(count, timeout=60)
    seen = [0]
    lock = threading.Lock()

    def hook(method: str, path: str) -> None:
        if not wanted(method, path):
            return
        with lock:
            seen[0] += 1
            waits = seen[0] <= count
        if waits:
            with contextlib.suppress(threading.BrokenBarrierError):
                gate.wait()

    emu.on_request = hook


def run(emu: Emulator, root: Path, tmp_path: Path, **options: Any
        ) -> tuple[workflow.Outcome, list[Result], list[str]]:
    results: list[Result] = []
    with client_for(emu) as client:
        plan = plan_of(client, root)
        outcome = workflow.run(client, plan, workflow.Options(
            journal_dir=tmp_path / "journals", **options),
            workflow.Seams(on_result=results.append))
    emu.on_request = None
    assert [r.change for r in results] == list(plan.changes)
    assert outcome.journal is not None
    states = [s["state"] for s in json.loads(outcome.journal.read_text())["states"]]
    return outcome, results, states


def test_independent_creates_overlap_and_are_reported_in_plan_order(
        emulator: Emulator, config: Any, tmp_path: Path) -> None:
    """Eight new locations: the first two POSTs are in flight together, the first one is
    answered last of all, yet every result comes in plan order."""
    root = config({"l.yaml": EIGHT})
    first_waits = threading.Event()
    posts = [0]
    lock = threading.Lock()

    def hook(method: str, path: str) -> None:
        if method == "POST" and "/locations" in path:
            with lock:
                posts[0] += 1
                number = posts[0]
            if number == 1:  # the first create is answered after all the others arrive
                first_waits.wait(60)
            elif number == 8:
                first_waits.set()

    emulator.on_request = hook
    outcome, results, states = run(emulator, root, tmp_path)
    assert outcome.exit_code == ExitCode.OK
    assert [r.outcome for r in results] == [Done.APPLIED] * 8
    assert states == ["applied"] * 8
    creates = written(emulator, "/locations")
    assert 1 < most_at_once(creates) <= WORKERS
    [first] = [r for r in creates if b'"NEW0"' in r.body]
    assert first.answered >= max(r.arrived for r in creates)


def test_declarations_of_one_table_are_never_written_at_once(
        emulator: Emulator, config: Any, tmp_path: Path) -> None:
    """ItemPolicy customised for two libraries, UserGroups and its French translation
    (which waits on it): the two tables are written side by side, each one's declarations
    one after the other."""
    root = config({"t.yaml": """\
code_tables:
  ItemPolicy:
    - scope: LAW
      rows: [{code: TWO_HOURS, description: Two hour loan}]
    - scope: MAIN
      rows: [{code: ONE_WEEK, description: Seven day loan}]
  UserGroups:
    - rows: [{code: PHD, description: Doctoral student}]
    - lang: fr
      rows: [{code: PHD, description: Doctorant}]
"""})
    meet(emulator, 2, lambda method, path: method == "PUT")
    outcome, results, states = run(emulator, root, tmp_path)
    assert outcome.exit_code == ExitCode.OK, results
    assert [r.change.key[0] for r in results] == ["ItemPolicy"] * 2 + ["UserGroups"] * 2
    assert states == ["applied"] * 4
    assert most_at_once(written(emulator, "/code-tables/")) == 2
    for table in ("ItemPolicy", "UserGroups"):
        puts = written(emulator, f"/code-tables/{table}")
        assert len(puts) == 2 and most_at_once(puts) == 1
        # The second declaration read the table after the first one's PUT was answered.
        reads = [r for r in emulator.requests if r.method == "GET"
                 and r.path.endswith(f"/code-tables/{table}") and r.arrived > puts[0].arrived]
        assert reads and min(r.arrived for r in reads) >= puts[0].answered


def test_a_failure_in_a_wave_skips_only_its_dependants(
        emulator: Emulator, config: Any, tmp_path: Path) -> None:
    """systemJobStatus cannot be customised: its update fails and its translation, which
    waits on it, is skipped; the other table of the wave and the next kind are written."""
    root = config({"t.yaml": """\
code_tables:
  systemJobStatus:
    - rows: [{code: QUEUED, description: Waiting}]
    - lang: fr
      rows: [{code: QUEUED, description: En attente}]
  UserGroups:
    rows: [{code: STAFF, description: Library staff}]
locations:
  MAIN:
    NEW1: {name: New 1, type: OPEN}
"""})
    outcome, results, states = run(emulator, root, tmp_path)
    assert [(r.change.name, r.outcome) for r in results] == [
        ("code_tables UserGroups", Done.APPLIED),
        ("code_tables systemJobStatus", Done.FAILED),
        ("code_tables systemJobStatus/lang=fr", Done.SKIPPED),
        ("locations MAIN/NEW1", Done.APPLIED)]
    assert "depends on code_tables systemJobStatus" in str(results[2].error)
    assert states == ["applied", "failed", "skipped", "applied"]
    assert outcome.exit_code == ExitCode.APPLY_FAILED
    assert "NEW1" in emulator.store.locations["MAIN"]


def test_each_wave_settles_before_the_next_kind_starts(emulator: Emulator,
                                                       tmp_path: Path) -> None:
    """Deletes, code tables, locations, license terms, reminders: every write of one kind
    and direction is answered before the first write of the next arrives."""
    root = tree(tmp_path)
    emulator.latency = 0.02
    outcome, results, _ = run(emulator, root, tmp_path, force=True)
    assert outcome.exit_code == ExitCode.OK, results
    waves: list[tuple[str, bool]] = []
    for result in results:
        wave = (result.change.kind.value, result.change.action.value == "delete")
        if wave not in waves:
            waves.append(wave)
    assert waves == [("location", True), ("code_table", False), ("location", False),
                     ("license_term", False), ("reminder", False)]
    paths = {"location": "/locations", "code_table": "/code-tables/",
             "license_term": "/license-terms", "reminder": "/reminders"}
    calls = [[r for r in written(emulator, paths[kind]) if (r.method == "DELETE") == delete]
             for kind, delete in waves]
    assert all(calls)
    for before, after in itertools.pairwise(calls):
        assert max(r.answered for r in before) <= min(r.arrived for r in after)


def test_an_interruption_settles_every_write_in_flight(emulator: Emulator, config: Any,
                                                       tmp_path: Path) -> None:
    """SIGINT while two creates are in flight together: both land and are reported
    applied, the journal marked each started before its request, nothing else starts."""
    root = config({"l.yaml": EIGHT})
    main = threading.main_thread().ident
    assert main is not None
    journals = tmp_path / "journals"
    gate = threading.Barrier(2, timeout=60)
    seen: list[list[str]] = []
    posts = [0]
    lock = threading.Lock()

    def hook(method: str, path: str) -> None:
        if method != "POST" or "/locations" not in path:
            return
        with lock:
            posts[0] += 1
            number = posts[0]
        if number > 2:
            return
        gate.wait()  # both creates have arrived: both are in flight
        if number == 1:
            [journal] = journals.glob("*.json")
            seen.append([s["state"] for s in json.loads(journal.read_text())["states"]])
            signal.pthread_kill(main, signal.SIGINT)

    emulator.on_request = hook
    emulator.write_latency = 0.2
    outcome, results, states = run(emulator, root, tmp_path)
    emulator.write_latency = 0.0
    assert outcome.interrupted == "SIGINT"
    assert seen and seen[0].count("started") >= 2
    landed = {code for code in emulator.store.locations["MAIN"] if code.startswith("NEW")}
    assert 2 <= len(landed) <= WORKERS
    assert {r.change.key[1] for r in results if r.outcome is Done.APPLIED} == landed
    assert {r.outcome for r in results if r.change.key[1] not in landed} == {Done.NOT_APPLIED}
    assert [s == "applied" for s in states] == [r.change.key[1] in landed for r in results]
    assert set(states) == {"applied", "not_applied"}
    assert len(written(emulator, "/locations")) == len(landed)


def test_losing_alma_in_a_wave_stops_new_writes_and_settles_those_in_flight(
        emulator: Emulator, config: Any, tmp_path: Path) -> None:
    """Alma goes away after three creates: the writes in flight then are settled (their
    answers are lost and the read-back cannot reach Alma: unknown), no further write
    starts, and the rest are reported as not attempted; the run stops with exit 4."""
    # More creates than can be in flight when Alma goes: some are never started.
    count = 3 + 2 * WORKERS
    root = config({"l.yaml": "locations:\n  MAIN:\n" + "".join(
        f"    NEW{i}: {{name: New {i}, type: OPEN}}\n" for i in range(count))})
    emulator.crash_after_writes = 3
    outcome, results, states = run(emulator, root, tmp_path)
    emulator.recover()
    assert outcome.exit_code == ExitCode.UNAVAILABLE
    assert outcome.report is not None and outcome.report.aborted
    outcomes = [r.outcome for r in results]
    applied, unknown = outcomes.count(Done.APPLIED), outcomes.count(Done.UNKNOWN)
    # A write already past the gateway when the third one crashed it still lands.
    assert applied >= 3
    assert unknown >= 1
    assert applied + unknown <= 3 + WORKERS
    skipped = [r for r in results if r.outcome is Done.SKIPPED]
    assert len(skipped) == count - applied - unknown
    assert {r.error for r in skipped} == {"not attempted: the run stopped"}
    assert states == [{Done.APPLIED: "applied", Done.UNKNOWN: "unknown",
                       Done.SKIPPED: "skipped"}[o] for o in outcomes]
    # Nothing started after Alma was lost: each create went out once at most.
    assert len([r for r in emulator.requests if r.method == "POST"
                and "/locations" in r.path]) == applied + unknown
