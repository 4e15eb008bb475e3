"""What the write journal costs an apply: one fsync'ed rewrite before and one after each
write.

Applies N location creates in-process against the emulator with a realistic write latency
(Alma answers a write in a few hundred milliseconds) and times the run; then times the
journal alone (the same number of flushes, no HTTP). Prints both and the journal's share,
and exits 1 when a flush takes longer than the bound on average.

    python benchmarks/bench_journal.py [--changes 50] [--write-latency 0.2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from almasync.cli import cli
from almasync.emulator import Emulator
from almasync.journal import Journal, State
from almasync.model import Kind
from almasync.plan.changes import Action, Change
from almasync.plan.plan import Plan

BOUND = 0.1  # seconds per flush, on average (fsync of a file and its folder)


def config(folder: Path, count: int) -> Path:
    root = folder / "config"
    root.mkdir()
    rows = "".join(f"    BENCH{i:04d}: {{name: Bench {i}, type: OPEN}}\n" for i in range(count))
    (root / "locations.yaml").write_text("locations:\n  MAIN:\n" + rows)
    return root


def journal_only(folder: Path, count: int) -> float:
    changes = tuple(Change(Action.CREATE, Kind.LOCATION, ("MAIN", f"BENCH{i:04d}"), None,
                           {"name": f"Bench {i}", "type": "OPEN"}) for i in range(count))
    started = time.perf_counter()
    journal = Journal.start(Plan(changes), {}, folder / "journals")
    for index in range(count):
        journal.mark(index, State.STARTED)
        journal.mark(index, State.APPLIED)
    journal.finish()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--write-latency", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        root = config(folder, args.changes)
        with Emulator(seed="demo", rate_limit=None) as emu:
            emu.write_latency = args.write_latency
            env = {"ALMA_API_URL": emu.base_url, "ALMA_API_KEY": emu.api_key,
                   "ALMASYNC_RATE_LIMIT": "0"}
            started = time.perf_counter()
            result = CliRunner().invoke(cli, ["apply", str(root), "--auto-approve"], env=env)
            applied = time.perf_counter() - started
        if result.exit_code != 0:
            sys.exit(f"apply exited {result.exit_code}: {result.stderr[-2000:]}")
        alone = journal_only(folder, args.changes)
    flushes = 2 * args.changes + 2
    per_flush = alone / flushes
    print(f"apply of {args.changes} creates at {args.write_latency:g} s per write: "
          f"{applied:.2f} s")
    print(f"journal alone: {flushes} flushes in {alone:.2f} s ({per_flush * 1000:.1f} ms "
          f"each), {alone / applied:.0%} of the apply")
    if per_flush > BOUND:
        print(f"over the bound of {BOUND * 1000:.0f} ms per flush")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
