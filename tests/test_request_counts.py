"""Calls per command on the demo institution, against a committed table.

Every call that is not needed is a defect: a count that grows fails here. A count that
shrinks fails too, asking for the table to be updated, so that the gain is kept. The table
is requests the emulator served, by method, for each command run against ``examples/config``
on a fresh demo institution.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from almasync import budget
from almasync.emulator import Emulator
from almasync.plan.plan import Plan
from tests.conftest import EXAMPLES, Almasync

#: Credentials the example files refer to.
SECRETS = {"SIS_FTP_PASSWORD": "sis-secret", "RFID_API_TOKEN": "rfid-token"}

EXPECTED: dict[str, dict[str, int]] = {
    "plan": {"GET": 41},
    "drift": {"GET": 41},
    "export": {"GET": 53},
    "apply": {"GET": 74, "POST": 7, "PUT": 17, "DELETE": 1},
    "saved-plan apply": {"GET": 62, "POST": 7, "PUT": 17, "DELETE": 1},
    "rollback": {"GET": 64, "POST": 3, "PUT": 16, "DELETE": 6},
}


def _counted(emu: Emulator, run: Callable[[], object]) -> dict[str, int]:
    start = len(emu.requests)
    run()
    return dict(Counter(r.method for r in emu.requests[start:]))


def _ok(result: object, *codes: int) -> None:
    exit_code = getattr(result, "exit_code", None)
    assert exit_code in codes, getattr(result, "output", "")


def _measure(command: str, almasync: Almasync, tmp: Path) -> dict[str, int]:
    emu = almasync.emu
    journals = str(tmp / "journals")
    if command in ("plan", "drift"):
        return _counted(emu, lambda: _ok(almasync(command, str(EXAMPLES), env=SECRETS), 0, 2))
    if command == "export":
        return _counted(emu, lambda: _ok(almasync("export", "--out", str(tmp / "out")), 0))
    if command == "apply":
        return _counted(emu, lambda: _ok(almasync(
            "apply", str(EXAMPLES), "--auto-approve", "--journal-dir", journals,
            env=SECRETS), 0))
    if command == "saved-plan apply":
        _ok(almasync("plan", str(EXAMPLES), "--out", str(tmp / "plan.json"), env=SECRETS), 0)
        return _counted(emu, lambda: _ok(almasync(
            "apply", str(tmp / "plan.json"), "--auto-approve", "--journal-dir", journals,
            env=SECRETS), 0))
    _ok(almasync("apply", str(EXAMPLES), "--auto-approve", "--journal-dir", journals,
                 env=SECRETS), 0)
    journal = sorted((tmp / "journals").glob("*.json"))[-1]
    return _counted(emu, lambda: _ok(almasync(
        "rollback", str(journal), "--auto-approve", "--force", "--journal-dir",
        str(tmp / "undo"), env=SECRETS), 0))


@pytest.mark.parametrize("command", sorted(EXPECTED))
def test_calls_per_command_never_grow(command: str, almasync: Almasync,
                                      tmp_path: Path) -> None:
    found = _measure(command, almasync, tmp_path)
    expected = EXPECTED[command]
    grown = {m: (expected.get(m, 0), n) for m, n in found.items() if n > expected.get(m, 0)}
    assert not grown, f"{command} makes more calls than the table allows (expected, now): " \
                      f"{grown}"
    assert found == expected, (f"{command} makes fewer calls than the table says: now "
                               f"{found}; update EXPECTED in tests/test_request_counts.py")


def _demo_plan(almasync: Almasync) -> tuple[Plan, int]:
    """The demo's plan, and the calls that made it."""
    start = len(almasync.emu.requests)
    result = almasync("plan", str(EXAMPLES), "--format", "json", env=SECRETS)
    _ok(result, 0)
    return Plan.from_dict(json.loads(result.stdout)), len(almasync.emu.requests) - start


def test_the_plan_estimate_is_what_the_apply_makes(almasync: Almasync,
                                                   tmp_path: Path) -> None:
    plan, reads = _demo_plan(almasync)
    estimate = budget.for_apply(plan, reads)
    with Emulator(seed="demo", rate_limit=None) as fresh:
        made = sum(_measure("apply", Almasync(fresh, almasync.runner, fresh.api_key),
                            tmp_path).values())
    assert estimate.calls == made


def test_apply_stays_within_the_bound_of_reads_and_writes(almasync: Almasync,
                                                          tmp_path: Path) -> None:
    """An apply makes at most the plan's reads + 2 per update + 1 per create or delete, plus
    two calls kept on purpose: the write-access probe before the first write, and one
    read-back of each updated resource after its write, which is what notices another
    writer overwriting it (tests/apply/test_concurrent.py)."""
    plan, reads = _demo_plan(almasync)
    s = plan.summary
    bound = reads + 2 * s["update"] + s["create"] + s["delete"]
    kept = budget.PROBE + s["update"]
    with Emulator(seed="demo", rate_limit=None) as fresh:
        made = sum(_measure("apply", Almasync(fresh, almasync.runner, fresh.api_key),
                            tmp_path).values())
    assert made <= bound + kept


def test_a_saved_plan_reads_each_touched_resource_and_list_once(almasync: Almasync,
                                                                config: Callable[..., Path],
                                                                tmp_path: Path) -> None:
    """One location update from a saved plan: the location is read once before its write
    (stale check, journal, the object the PUT merges into) and once after it (the
    read-back); its library's list and the list of libraries once each."""
    root = config({"locations.yaml": "locations:\n  MAIN:\n    STACKS: {name: Main Stacks, "
                                     "type: OPEN, external_name: Main Stacks}\n"})
    _ok(almasync("plan", str(root), "--out", str(tmp_path / "plan.json")), 0)
    start = len(almasync.emu.requests)
    _ok(almasync("apply", str(tmp_path / "plan.json"), "--auto-approve"), 0)
    calls = Counter(f"{r.method} {r.path.removeprefix('/almaws/v1')}"
                    for r in almasync.emu.requests[start:])
    assert calls == {"GET /conf/general": 1, "POST /conf/test": 1, "GET /conf/libraries": 1,
                     "GET /conf/libraries/MAIN/locations": 1,
                     "GET /conf/libraries/MAIN/locations/STACKS": 2,
                     "PUT /conf/libraries/MAIN/locations/STACKS": 1}
