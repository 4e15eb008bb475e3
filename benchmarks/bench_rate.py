"""export, plan and apply of a large institution against Alma's per-second threshold.

For each threshold (25/s, 10/s and 50/s by default) this starts a fresh emulator in its own
process, seeded with ``generate_large()`` (30 libraries x 50 locations, 150 code tables,
40 mapping tables x 2,000 rows, 200 letters, 100 license terms, 500 reminders, 100 sets;
``--scale`` shrinks it), with ``--latency`` seconds added to every answer. Against it,
each as its own ``almasync`` process, it times:

  export   ``export --out DIR``
  plan     ``plan DIR --out plan.json`` after 200 changes are declared in the export
           (location updates, creates and deletes, code-table rows, license terms)
  apply    ``apply plan.json --auto-approve``

Calls and 429s are counted by the emulator (``GET /__emulator/stats``); "calls" are the
answered ones, not the 429 refusals. The figure is wall / (calls / threshold): 1.0 would
be every call at exactly the threshold's pace. Its bound: 1.1 when almasync's
ceiling equals the threshold (25/s, the default; 50/s with ``ALMASYNC_RATE_LIMIT=50``) and
1.3 when the default 25/s ceiling meets a 10/s threshold. A figure over its bound is marked
OVER; the script exits 1 only when a run fails (a non-zero exit, a 429 that reached the
user, or a plan that does not show the declared changes).

    python benchmarks/bench_rate.py [--threshold 25 --threshold 10 ...] [--latency 0.1]
                                    [--scale 0.2] [--only export|plan|apply] [--changes 200]
                                    [--ceiling 25] [--json FILE] [--timeout 1800] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bytecode import compile_package
from emulator_process import emulator_process, stats
from rate_changes import declare

from almasync.emulator import DEFAULT_API_KEY, generate_large

DEFAULT_CEILING = 25.0  # almasync's default rate_limit
STEPS = ("export", "plan", "apply")
#: What on stderr means a 429 reached the user (not digits inside a journal's file name).
REFUSAL = re.compile(r"\b429\b|PER_SECOND_THRESHOLD|DAILY_THRESHOLD")


@dataclass
class Run:
    threshold: float
    ceiling: float
    step: str
    wall: float = 0.0
    calls: int = 0
    refused: int = 0  # 429s the emulator sent
    exit_code: int = 0
    user_refusals: int = 0  # 429s that reached the user (lines on stderr)
    cpu: float = 0.0
    rss_mib: float = 0.0
    failure: str = ""

    @property
    def ratio(self) -> float:
        return self.wall / (self.calls / self.threshold) if self.calls else 0.0

    @property
    def bound(self) -> float | None:
        if self.ceiling == self.threshold:
            return 1.1
        if self.ceiling > self.threshold:
            return 1.3
        return None  # a ceiling under the threshold cannot reach it


def scaled_seed(scale: float) -> dict[str, Any]:
    def n(value: int) -> int:
        return max(1, round(value * scale))

    return generate_large(libraries=n(30), code_tables=max(3, n(150)), mapping_tables=n(40),
                          letters=n(200), license_terms=n(100), reminders=n(500), sets=n(100))


def almasync(args: list[str], env: dict[str, str], log: Path,
             timeout: float) -> tuple[int, str, float, float, float]:
    """Run ``almasync ARGS`` as its own process: exit code, stderr, wall s, CPU s, peak RSS
    in MiB (of that process alone, from wait4). Killed after ``timeout`` seconds."""
    with open(log, "w", encoding="utf-8") as out, open(log.with_suffix(".err"), "w+",
                                                       encoding="utf-8") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "almasync", *args], env=env,
                                   stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    return (process.returncode, stderr, wall, usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024)


def measure(run: Run, url: str, args: list[str], env: dict[str, str], work: Path,
            timeout: float) -> None:
    before = stats(url)
    code, stderr, run.wall, run.cpu, run.rss_mib = almasync(args, env, work / f"{run.step}.out",
                                                            timeout)
    after = stats(url)
    run.refused = after["per_second_refusals"] - before["per_second_refusals"]
    run.calls = after["requests"] - before["requests"] - run.refused
    run.exit_code = code
    run.user_refusals = sum(1 for line in stderr.splitlines()
                            if REFUSAL.search(line))
    if code < 0 and run.wall >= timeout:
        run.failure = f"killed after {timeout:g} s (--timeout)"
    elif code != 0:
        run.failure = f"exit {code}: {stderr.strip()[-600:]}"
    elif run.user_refusals:
        run.failure = f"{run.user_refusals} line(s) about 429s on stderr"


def plan_counts(plan_file: Path) -> Counter[tuple[str, str]]:
    changes = json.loads(plan_file.read_text(encoding="utf-8"))["changes"]
    return Counter((change["kind"], change["action"]) for change in changes)


def one_threshold(threshold: float, ceiling: float, args: argparse.Namespace, seed: dict[str, Any],
                  seed_file: Path, work: Path) -> list[Run]:
    """export, plan and apply against a fresh emulator; the runs up to ``--only``."""
    steps = STEPS[:STEPS.index(args.only) + 1] if args.only else STEPS
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALMA_", "ALMASYNC_"))}
    env |= {"ALMA_API_KEY": DEFAULT_API_KEY, "PYTHONHASHSEED": "0"}
    if ceiling != DEFAULT_CEILING:
        env["ALMASYNC_RATE_LIMIT"] = f"{ceiling:g}"
    tree, plan_file = work / "config", work / "plan.json"
    runs: list[Run] = []
    with emulator_process(seed_file, latency=args.latency, rate_limit=threshold,
                          daily_budget=10**9) as (url, _):
        env["ALMA_API_URL"] = url
        commands = {"export": ["export", "--out", str(tree)],
                    "plan": ["plan", str(tree), "--out", str(plan_file)],
                    "apply": ["apply", str(plan_file), "--auto-approve"]}
        for step in steps:
            run = Run(threshold, ceiling, step)
            if step == "plan":
                try:
                    expected = declare(tree, seed, args.changes)
                except (OSError, LookupError, TypeError, ValueError) as exc:
                    run.failure = f"the export could not be edited: {exc!r}"
                    runs.append(run)
                    break
            measure(run, url, commands[step], env, work, args.timeout)
            runs.append(run)
            state = run.failure or f"wall / (calls / threshold) = {run.ratio:.2f}"
            print(f"{threshold:g}/s {step}: {run.calls} calls in {run.wall:.1f} s; {state}",
                  file=sys.stderr, flush=True)
            if not run.failure and step == "plan" and plan_counts(plan_file) != expected:
                run.failure = (f"the plan shows {dict(plan_counts(plan_file))}, not the "
                               f"declared {dict(expected)}")
            if run.failure:
                break
    return [run for run in runs if not args.only or run.step == args.only or run.failure]


def table(runs: list[Run]) -> str:
    lines = ["| threshold | ceiling | run | calls | wall s | wall / (calls / threshold) | "
             "bound | 429s sent | 429s to the user | CPU s | peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        if run.failure:
            lines.append(f"| {run.threshold:g}/s | {run.ceiling:g}/s | {run.step} | "
                         f"{run.calls} | {run.wall:.1f} | FAILED | | {run.refused} | "
                         f"{run.user_refusals} | {run.cpu:.1f} | {run.rss_mib:.0f} |")
            continue
        bound = run.bound
        verdict = "" if bound is None or run.ratio <= bound else " OVER"
        lines.append(f"| {run.threshold:g}/s | {run.ceiling:g}/s | {run.step} | {run.calls} | "
                     f"{run.wall:.1f} | {run.ratio:.2f}{verdict} | "
                     f"{'-' if bound is None else bound} | {run.refused} | "
                     f"{run.user_refusals} | {run.cpu:.1f} | {run.rss_mib:.0f} |")
    return "\n".join(lines)


def main() -> int:
    compile_package()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, action="append",
                        help="the emulator's per-second threshold (repeatable; default: "
                             "25, 10 and 50)")
    parser.add_argument("--ceiling", type=float, default=None,
                        help="almasync's rate_limit (default: 25, or the threshold when it "
                             "is higher)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per answer")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the large institution (and of --changes)")
    parser.add_argument("--changes", type=int, default=None,
                        help="changes to declare (default: 200 x --scale, at least 20)")
    parser.add_argument("--only", choices=STEPS, default=None,
                        help="report only this run (the runs it needs still happen)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds a command may take before it is killed (a failure)")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE",
                        help="also write every run's figures to FILE as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    thresholds = args.threshold or [25.0, 10.0, 50.0]
    if args.changes is None:
        args.changes = max(20, round(200 * args.scale))
    work = Path(tempfile.mkdtemp(prefix="bench_rate_"))
    runs: list[Run] = []
    try:
        seed = scaled_seed(args.scale)
        seed_file = work / "seed.json"
        seed_file.write_text(json.dumps(seed), encoding="utf-8")
        for threshold in thresholds:
            ceiling = args.ceiling or max(DEFAULT_CEILING, threshold)
            folder = work / f"t{threshold:g}"
            folder.mkdir()
            runs += one_threshold(threshold, ceiling, args, seed, seed_file, folder)
    finally:
        if args.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"latency {args.latency * 1000:.0f} ms, scale {args.scale:g}, "
          f"{args.changes} changes declared\n")
    print(table(runs))
    if args.json:
        args.json.write_text(json.dumps(
            {"latency": args.latency, "scale": args.scale, "changes": args.changes,
             "runs": [asdict(run) | {"ratio": round(run.ratio, 3), "bound": run.bound}
                      for run in runs]}, indent=2) + "\n", encoding="utf-8")
    failed = [run for run in runs if run.failure]
    for run in failed:
        print(f"\n{run.threshold:g}/s {run.step} FAILED: {run.failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
