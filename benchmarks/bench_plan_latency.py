"""Plan examples/config against the demo institution with a realistic network delay.

Alma answers in a few hundred milliseconds, so plan time is set by how many calls wait in
turn, not by CPU. This runs ``almasync plan`` in-process against the emulator with 200 ms
added to every response and the default rate limits (client 20/s, emulator 25/s), prints
the wall time and request count, and compares the time with the bound; exits 1 over it.

    python benchmarks/bench_plan_latency.py [--latency 0.2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from almasync.cli import cli
from almasync.emulator import Emulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "config"
BOUND = 4.0  # seconds at 200 ms per call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per response")
    latency = parser.parse_args().latency
    with Emulator(seed="demo", latency=latency) as emu:
        env = {"ALMA_API_URL": emu.base_url, "ALMA_API_KEY": emu.api_key}
        started = time.perf_counter()
        result = CliRunner().invoke(cli, ["plan", str(EXAMPLES), "--format", "json"], env=env)
        elapsed = time.perf_counter() - started
        calls = len(emu.requests)
    if result.exit_code != 0:
        sys.exit(f"plan exited {result.exit_code}: {result.stderr[-2000:]}")
    bound = BOUND * latency / 0.2
    serial = calls * latency
    print(f"plan: {elapsed:.2f} s for {calls} requests at {latency * 1000:.0f} ms each "
          f"(one after another: {serial:.1f} s); bound {bound:.1f} s")
    print("ok" if elapsed <= bound else "OVER BOUND")
    return 0 if elapsed <= bound else 1


if __name__ == "__main__":
    sys.exit(main())
