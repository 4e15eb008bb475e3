"""A pull request that edits one code table: ``plan`` against ``plan --changed-since HEAD``.

A large generated institution (``generate_large``: 30 libraries x 50 locations, 150 code
tables, 40 mapping tables x 2,000 rows, 200 letters, 500 reminders...) is served by the
emulator in a separate process with 100 ms latency and a 25/s threshold. Its export is
committed to a temporary git repository, one row of one code table is edited, and both
plans run as separate processes, the way CI runs them. Calls are what the emulator counted
(the fall of ``X-Exl-Api-Remaining``, less the one call that reads it). Prints the wall time,
CPU time and calls of each, their ratio, and the bound: the incremental plan under 10 calls;
exits 1 over it. The incremental plan's time is mostly its CPU: loading the tree (twice,
parsing only the edited file again), not calls.

    python benchmarks/bench_incremental.py [--latency 0.1] [--rate-limit 25]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bytecode import compile_package
from emulator_process import emulator_process, remaining

from almasync.emulator.generate import generate_large

BOUND = 10  # calls of the incremental plan of a one-table change, at most (exclusive)


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: list[str], env: dict[str, str], url: str, key: str,
        cwd: Path) -> tuple[float, int, float, subprocess.CompletedProcess[str]]:
    """Run ``almasync ARGS`` as a process: wall seconds, calls counted by the emulator, CPU
    seconds of the almasync process."""
    before = remaining(url, key)
    cpu = cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "almasync", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    cpu = cpu_of_children() - cpu
    calls = before - remaining(url, key) - 1
    if done.returncode not in (0, 2):
        sys.exit(f"almasync {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return elapsed, calls, cpu, done


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Benchmark", "-c", "user.email=bench@example.org",
                    *args], cwd=repo, check=True, capture_output=True)


def edit_one_table(config: Path) -> str:
    """Change the description of the first row of the first code table; its name."""
    path = config / "code_tables.yaml"
    text = path.read_text(encoding="utf-8")
    table = re.search(r"^  (\S+):$", text, re.M)
    row = re.search(r"description: ([^,}\n]+)", text)
    if table is None or row is None:
        sys.exit(f"{path}: no code table row to edit")
    start, end = row.span(1)
    path.write_text(text[:start] + "Edited in a pull request" + text[end:], encoding="utf-8")
    return table.group(1)


def main() -> int:
    compile_package()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per response")
    parser.add_argument("--rate-limit", type=float, default=25.0,
                        help="the emulator's per-second threshold")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="almasync-bench-") as tmp:
        root = Path(tmp)
        seed = root / "large.json"
        seed.write_text(json.dumps(generate_large()), encoding="utf-8")
        with emulator_process(seed, latency=options.latency, rate_limit=options.rate_limit,
                              daily_budget=10_000_000) as (url, key):
            env = {**os.environ, "ALMA_API_URL": url, "ALMA_API_KEY": key,
                   "ALMASYNC_RATE_LIMIT": str(options.rate_limit)}
            repo = root / "repo"
            repo.mkdir()
            config = repo / "config"
            t_export, c_export, _, _ = run(["export", "--out", str(config)], env, url, key, repo)
            git(repo, "init", "-q")
            git(repo, "add", ".")
            git(repo, "commit", "-q", "-m", "export")
            table = edit_one_table(config)
            results: dict[str, Any] = {}
            for name, extra in (("plan", []), ("plan --changed-since HEAD",
                                                ["--changed-since", "HEAD"])):
                results[name] = run(["plan", str(config), "--format", "json", *extra],
                                    env, url, key, repo)
    print(f"large institution, {options.latency * 1000:.0f} ms latency, threshold "
          f"{options.rate_limit:g}/s; export: {c_export} calls in {t_export:.1f} s; "
          f"edited code table {table}")
    changes = {}
    for name, (elapsed, calls, cpu, done) in results.items():
        plan = json.loads(done.stdout)
        changes[name] = [(c["action"], c["kind"], c["key"]) for c in plan["changes"]]
        print(f"{name:28} {calls:5d} calls {elapsed:7.2f} s wall {cpu:6.2f} s CPU  changes: "
              f"{changes[name]}")
    (full_t, full_c, _, _), (inc_t, inc_c, _, _) = results.values()
    print(f"incremental / full: {inc_c / full_c:.3f} of the calls, {inc_t / full_t:.3f} of "
          f"the wall time; bound: under {BOUND} calls")
    same = changes["plan --changed-since HEAD"] == [("update", "code_table", table)]
    ok = inc_c < BOUND and same
    print("ok" if ok else "OVER BOUND" if inc_c >= BOUND else "WRONG PLAN")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
