"""Export a large generated institution, then plan the export against it.

Runs almasync's export and plan commands in-process against the emulator (loopback, rate
limit off; the emulator shares the process, so the times include serving the requests)
seeded with ``generate_large()``: 30 libraries x 50 locations, 150 code tables x 40 rows,
40 mapping tables x 2,000 rows, 200 letters, 100 license terms, 500 reminders, 100 sets.
Prints the time and peak memory of each step and compares them with the bounds; exits 1
if the plan is not empty or a bound is exceeded.

    python benchmarks/bench_roundtrip.py [--scale 0.25]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))

from large_seed import large_seed

from almasync.cli import cli
from almasync.emulator import Emulator

BOUNDS = {"export": 120.0, "plan": 120.0}  # seconds, for the full-size institution


def run(runner: CliRunner, args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    result = runner.invoke(cli, args, env=env)
    elapsed = time.perf_counter() - started
    # Peak resident memory of the whole process so far (emulator included), in bytes.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if result.exit_code != 0:
        sys.exit(f"{args[0]} exited {result.exit_code}: {result.stderr[-2000:]}")
    return elapsed, peak, result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the default sizes (bounds scale with it)")
    scale = parser.parse_args().scale
    seed = large_seed(scale)
    runner = CliRunner()
    failed = False
    with Emulator(seed=seed, rate_limit=None) as emu, tempfile.TemporaryDirectory() as tmp:
        env = {"ALMA_API_URL": emu.base_url, "ALMA_API_KEY": emu.api_key,
               "ALMASYNC_RATE_LIMIT": "0"}
        out = Path(tmp) / "exported"
        for step, args in (("export", ["export", "--out", str(out)]),
                           ("plan", ["plan", str(out), "--format", "json"])):
            calls = len(emu.requests)
            elapsed, peak, stdout = run(runner, args, env)
            bound = BOUNDS[step] * scale
            verdict = "ok" if elapsed <= bound else "OVER BOUND"
            failed |= elapsed > bound
            print(f"{step:7} {elapsed:7.1f} s  (bound {bound:.0f} s, {verdict})  "
                  f"process peak RSS {peak / 2**20:6.1f} MiB  "
                  f"{len(emu.requests) - calls} requests")
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"exported {size / 2**20:.1f} MiB in {sum(1 for _ in out.rglob('*.*'))} files")
        changes = json.loads(stdout)["changes"]
        print(f"plan on the export: {len(changes)} changes (must be 0)")
        failed |= bool(changes)
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
