"""Plan one declared set in an institution of many sets, with a realistic network delay.

Institutions hold thousands of sets. ``plan`` finds each declared set with Alma's brief
search (``q=name~words``) instead of paging through the whole list, so its cost depends on
the declared sets, not on the institution's. This runs ``almasync plan`` in-process against
the emulator holding ``--sets`` sets (default 2,000) with 200 ms added to every response and
the default rate limits, prints the wall time and the number of set requests, and exits 1
when either is over its bound.

    python benchmarks/bench_set_lookup.py [--sets 2000] [--latency 0.2]
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
from almasync.emulator.seed import builtin_seed

REQUEST_BOUND = 3   # set requests: the search, perhaps the set itself
TIME_BOUND = 1.5    # seconds at 200 ms per call (paging 2,000 sets alone takes 4 s)
DECLARED = """\
sets:
  New acquisitions 2026:
    type: ITEMIZED
    content: BIB_MMS
    description: Bought in 2026
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=2000, help="sets in the institution")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per response")
    args = parser.parse_args()
    seed = builtin_seed("demo")
    seed["sets"] += [{"name": f"Circulation report {n:05d}", "type": "LOGICAL",
                      "content": "ITEM", "query": f"ITEM where ITEM ((barcode CONTAINS R{n}))"}
                     for n in range(max(0, args.sets - len(seed["sets"])))]
    with tempfile.TemporaryDirectory() as tmp, Emulator(seed=seed, latency=args.latency) as emu:
        root = Path(tmp)
        (root / "sets.yaml").write_text(DECLARED, encoding="utf-8")
        env = {"ALMA_API_URL": emu.base_url, "ALMA_API_KEY": emu.api_key}
        started = time.perf_counter()
        result = CliRunner().invoke(cli, ["plan", str(root), "--format", "json"], env=env)
        elapsed = time.perf_counter() - started
        calls = [r for r in emu.requests if r.path.startswith("/almaws/v1/conf/sets")]
        total = len(emu.store.sets)
    if result.exit_code != 0:
        sys.exit(f"plan exited {result.exit_code}: {result.stderr[-2000:]}")
    bound = TIME_BOUND * args.latency / 0.2
    print(f"plan of 1 declared set among {total} sets: {elapsed:.2f} s, {len(calls)} set "
          f"requests at {args.latency * 1000:.0f} ms each (paging the whole list would take "
          f"{-(-total // 100)}); bounds {REQUEST_BOUND} requests, {bound:.1f} s")
    ok = len(calls) <= REQUEST_BOUND and elapsed <= bound
    print("ok" if ok else "OVER BOUND")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
