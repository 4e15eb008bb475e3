"""SIGKILL at every position of a ten-change apply across kinds: whatever moment the
process dies, even with several writes in flight, its journal lets rollback restore the
state before the apply, and apply run again converges."""

from __future__ import annotations

import copy
import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from almasync.emulator import Emulator
from almasync.errors import ExitCode
from tests.apply.test_interrupt import WORKERS, start_apply
from tests.conftest import EXAMPLES, Almasync

ENTRY = "  - entity_type: BIB_MMS"
#: The examples' reminders bar the new one: an update and one already as declared.
REMINDERS = ENTRY.join((EXAMPLES / "reminders.yaml").read_text().split(ENTRY)[:3])
CHANGES = 10


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    root.mkdir()
    for name in ("code_tables.yaml", "locations.yaml", "license_terms.yaml"):
        shutil.copy(EXAMPLES / name, root / name)
    (root / "reminders.yaml").write_text(REMINDERS)
    # The examples declare LAW's LAWSTACKS only: pruning LAW deletes LAWREF.
    (root / "almasync.yaml").write_text("prune:\n  locations: [LAW]\n")
    return root


def managed(emu: Emulator) -> dict[str, Any]:
    """What the apply manages, without the stamps Alma itself keeps of who changed a
    record last (a rollback is a change too)."""
    store = emu.store
    state = copy.deepcopy({"locations": store.locations, "code_tables": store.code_tables,
                           "license_terms": store.license_terms,
                           "reminders": store.reminders})
    for reminder in state["reminders"].values():
        reminder.pop("last_modified_date", None)
        reminder.pop("last_modified_by", None)
    return state


def writes(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests
            if r.method != "GET" and not r.path.rstrip("/").endswith("/conf/test")]


def kill_at_write(emu: Emulator, number: int, process: Any) -> None:
    """SIGKILL the apply when its ``number``-th write (1-based) arrives. The emulator then
    goes on with that request: it lands if the body had arrived whole, else it fails;
    either way nobody hears the answer."""
    seen = [0]
    lock = threading.Lock()

    def hook(method: str, path: str) -> None:
        if method == "GET" or path.rstrip("/").endswith("/conf/test"):
            return
        with lock:
            seen[0] += 1
            hit = seen[0] == number
        if hit:
            process.kill()

    emu.on_request = hook


@pytest.mark.parametrize("position", range(1, CHANGES + 1))
def test_sigkill_at_every_write_then_rollback_and_reapply(position: int,
                                                          tmp_path: Path) -> None:
    with Emulator(seed="demo", rate_limit=None) as emu:
        almasync = Almasync(emu, CliRunner(), emu.api_key)
        root = tree(tmp_path)
        first = almasync.plan_json(root)
        assert len(first["changes"]) == CHANGES
        assert {c["kind"] for c in first["changes"]} == {
            "code_table", "location", "license_term", "reminder"}
        assert {c["action"] for c in first["changes"]} == {"create", "update", "delete"}
        before = managed(emu)

        process = start_apply(emu, root, "--force")
        kill_at_write(emu, position, process)
        process.communicate(timeout=120)
        emu.on_request = None
        assert process.returncode == -9
        # The killed write may still be being handled: let it land (or fail) first.
        deadline = time.monotonic() + 30
        while emu.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        assert emu.in_flight == 0
        # Writes of one wave go out side by side: those started beside the killed one
        # may have arrived too.
        assert position - 1 <= len(writes(emu)) <= position + WORKERS - 1
        if len(writes(emu)) > 0:
            assert managed(emu) != before

        [path] = (root / ".almasync" / "journals").glob("*.json")
        states = [s["state"] for s in json.loads(path.read_text())["states"]]
        # Every write is known but those in flight (the killed one among them), which may
        # have happened; nothing else started.
        assert 1 <= states.count("started") <= WORKERS, states
        assert set(states) <= {"applied", "started", "pending"}, states
        assert position <= len(states) - states.count("pending") <= position + WORKERS - 1

        undo = almasync("rollback", str(path), "--auto-approve", "--force")
        assert undo.exit_code == ExitCode.OK, undo.stdout + undo.stderr
        assert managed(emu) == before
        assert almasync.plan_json(root)["changes"] == first["changes"]

        again = almasync("apply", str(root), "--auto-approve", "--force")
        assert again.exit_code == ExitCode.OK, again.stdout + again.stderr
        assert almasync.plan_json(root)["changes"] == []
