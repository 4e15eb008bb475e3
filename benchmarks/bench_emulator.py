"""Throughput of the Alma emulator on loopback with the large generated seed.

    python benchmarks/bench_emulator.py [--requests 4000] [--threads 4] [--max-seconds 60]

The emulator runs in a child process (so the load generator does not share its
interpreter), rate limit off, bound to 127.0.0.1 on a free port. A few threads send a
bounded number of GETs (a mix of the reads ``almasync plan`` makes) and the script prints
requests/s and p50/p99 latency. It exits 1 when throughput is under ``--min-rps`` (500 by
default) or any request failed.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY = "emulator-rw-key"
HEADERS = {"Authorization": f"apikey {KEY}", "Accept": "application/json"}

PATHS = [
    *(f"/conf/libraries/L{n:03d}/locations" for n in range(1, 31)),
    *(f"/conf/libraries/L{n:03d}/locations/LOC{n:03d}" for n in range(1, 31)),
    *(f"/conf/code-tables/GeneratedTable{n:04d}" for n in range(1, 41)),
    *(f"/conf/license-terms/TERM{n:04d}" for n in range(1, 21)),
    "/conf/libraries",
    "/conf/license-terms",
    "/conf/reminders?limit=100",
    "/conf/sets?limit=100",
    "/conf/letters",
    "/conf/general",
    "/conf/mapping-tables/GeneratedMapping001",
]


def serve() -> None:
    """Child process: start the emulator, print its port, serve until stdin closes."""
    sys.path.insert(0, str(ROOT))
    from almasync.emulator import Emulator, generate_large

    with Emulator(seed=generate_large(), rate_limit=None, daily_budget=10**9) as emu:
        print(emu.port, flush=True)
        sys.stdin.read()


def _worker(
    port: int,
    paths: itertools.cycle[str],
    count: int,
    deadline: float,
    latencies: list[float],
    failures: list[str],
    lock: threading.Lock,
) -> None:
    for _ in range(count):
        if time.monotonic() > deadline:
            return
        with lock:
            path = next(paths)
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", "/almaws/v1" + path, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError as exc:
            status, path = 0, f"{path}: {exc}"
        finally:
            connection.close()
        with lock:
            latencies.append(time.perf_counter() - started)
            if status != 200:
                failures.append(f"{status} {path}")


def hammer(
    port: int, total: int, threads: int, max_seconds: float
) -> tuple[float, list[float], list[str]]:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    paths = itertools.cycle(PATHS)
    deadline = time.monotonic() + max_seconds
    workers = [
        threading.Thread(
            target=_worker,
            args=(port, paths, total // threads, deadline, latencies, failures, lock),
        )
        for _ in range(threads)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started, latencies, failures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=4000, help="GETs to send in total")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="stop sending after this long"
    )
    parser.add_argument("--min-rps", type=float, default=500.0, help="the bound to meet")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        hammer(port, 200, args.threads, 10)  # warm-up, not measured
        elapsed, latencies, failures = hammer(port, args.requests, args.threads, args.max_seconds)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)
    return report(elapsed, latencies, failures, args.min_rps)


def report(elapsed: float, latencies: list[float], failures: list[str], min_rps: float) -> int:
    done = len(latencies)
    rps = done / elapsed if elapsed else 0.0
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000 if ordered else 0.0
    p99 = ordered[min(done - 1, int(done * 0.99))] * 1000 if ordered else 0.0
    print(f"requests: {done} in {elapsed:.2f} s, failures: {len(failures)}")
    print(f"throughput: {rps:.0f} requests/s (bound: {min_rps:.0f})")
    print(f"latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    for failure in failures[:5]:
        print(f"failed: {failure}")
    ok = rps >= min_rps and not failures
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
