"""Two applies at once, each adding a different row to one code table. Alma replaces a
whole table on PUT, so when both read the table before either writes, the second write
drops the first one's row. The read-back after the writes must catch it: never do both
report success while a row is lost. On one machine the institution lock serialises them
(tests/guard); here they run as from two machines (two CI runners), each with its own
lock."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from almasync.emulator import Emulator
from almasync.errors import ExitCode
from tests.apply.test_interrupt import start_apply

ROW = "code_tables:\n  UserGroups:\n    rows:\n      - {{code: {code}, description: {code} row}}\n"


def config(tmp_path: Path, name: str, code: str) -> Path:
    root = tmp_path / name / "config"
    root.mkdir(parents=True)
    (root / "t.yaml").write_text(ROW.format(code=code))
    return root


def interleave(emu: Emulator) -> None:
    """Both applies read the table before either writes it (each PUT waits at arrival for
    the other), and neither reads it back before both writes are done."""
    both_writing = threading.Barrier(2, timeout=60)
    written = [False]
    base = emu.write_count

    def hook(method: str, path: str) -> None:
        if "UserGroups" not in path:
            return
        if method == "PUT":
            both_writing.wait()
            written[0] = True
        elif method == "GET" and written[0]:
            deadline = time.monotonic() + 30
            while emu.write_count < base + 2 and time.monotonic() < deadline:
                time.sleep(0.01)

    emu.on_request = hook


def codes(emu: Emulator) -> set[str]:
    return {row["code"] for row in emu.store.code_tables["UserGroups"]["rows"]}


def test_two_applies_to_one_table_never_both_succeed_while_losing_a_row(
        emulator: Emulator, tmp_path: Path) -> None:
    first, second = config(tmp_path, "a", "PHD"), config(tmp_path, "b", "POSTDOC")
    interleave(emulator)
    runs = {"PHD": start_apply(emulator, first, state_home=tmp_path / "a" / "state"),
            "POSTDOC": start_apply(emulator, second, state_home=tmp_path / "b" / "state")}
    outputs = {code: run.communicate(timeout=120) for code, run in runs.items()}
    emulator.on_request = None
    exits = {code: runs[code].returncode for code in runs}
    kept = codes(emulator)
    lost = {"PHD", "POSTDOC"} - kept
    assert len(lost) == 1, (kept, outputs)  # the interleaving did lose a row
    [loser] = lost
    [winner] = {"PHD", "POSTDOC"} - lost
    assert exits[winner] == ExitCode.OK, outputs[winner]
    out, err = outputs[loser]
    assert exits[loser] == ExitCode.APPLY_FAILED, out + err
    assert "Read back: code_tables UserGroups" in err
    assert "someone else changed it in between" in err
    assert "Apply: 0 applied, 1 failed" in out
