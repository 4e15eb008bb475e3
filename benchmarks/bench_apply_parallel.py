"""Apply 200 independent location changes at Alma's rate bound.

The emulator runs in a process of its own (``almasync emulator``) with 100 ms added to every
answer and a threshold of 25 calls per second; ``almasync apply`` runs as a process too, with
its default ceiling of 25/s. Two applies are measured: 200 new locations in one library,
then an update of each of them. For each the benchmark prints the calls the run made (from
``X-Exl-Api-Remaining``), its wall time, and the ratio of the wall time to the bound
calls / 25 (1.0 would be every call at the threshold, none waiting on another).

    python benchmarks/bench_apply_parallel.py [--changes 200] [--latency 0.1] [--rate 25]
        [--ceiling 25] [--source DIR]

``--ceiling`` is almasync's own rate (``ALMASYNC_RATE_LIMIT``), 25/s unless given.

``--source`` runs the almasync of another checkout (e.g. one from before parallel writes)
against the same setup, for a before/after comparison.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator_process import emulator_process, remaining

ROOT = Path(__file__).resolve().parent.parent


def locations(count: int, suffix: str) -> str:
    return "locations:\n  MAIN:\n" + "".join(
        f"    B{i:03d}: {{name: Bench {i}{suffix}, type: OPEN}}\n" for i in range(count))


def apply(root: Path, url: str, key: str, source: Path, ceiling: float | None) -> float:
    env = {**os.environ, "ALMA_API_URL": url, "ALMA_API_KEY": key, "PYTHONPATH": str(source)}
    env.pop("ALMASYNC_RATE_LIMIT", None)
    if ceiling is not None:
        env["ALMASYNC_RATE_LIMIT"] = f"{ceiling:g}"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "almasync", "apply", str(root),
                           "--auto-approve"], env=env, cwd=root.parent, text=True,
                          capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"apply exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per answer")
    parser.add_argument("--rate", type=float, default=25.0, help="the emulator's threshold")
    parser.add_argument("--ceiling", type=float, default=None, help="almasync's own rate")
    parser.add_argument("--source", type=Path, default=ROOT, help="almasync checkout to run")
    args = parser.parse_args()
    with (emulator_process("demo", latency=args.latency, rate_limit=args.rate,
                           env={**os.environ, "PYTHONPATH": str(args.source)}) as (url, key),
          tempfile.TemporaryDirectory() as folder):
        root = Path(folder) / "config"
        root.mkdir()
        for label, suffix in (("create", ""), ("update", " renamed")):
            (root / "locations.yaml").write_text(locations(args.changes, suffix))
            before = remaining(url, key)
            wall = apply(root, url, key, args.source, args.ceiling)
            calls = before - remaining(url, key) - 1
            bound = calls / args.rate
            print(f"apply, {args.changes} location {label}s: {calls} calls in {wall:.1f} s;"
                  f" bound {bound:.1f} s at {args.rate:g}/s; wall / bound "
                  f"{wall / bound:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
