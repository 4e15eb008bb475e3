"""A consortium's nightly drift: 10 emulated institutions checked together should take about
as long as the slowest one, not the sum.

Starts 10 emulators, each in its own process as a real institution would be on its own
server (demo seed, its own key, 100 ms per response and Alma's 25/s threshold), writes an
almasync.yaml naming them, and times ``drift --include-unmanaged`` of one institution, then
of all 10 with ``--all-envs``. Prints both, their ratio and the bound (1.5 x the single
run); exits 1 over it.

With ``--apply`` it times ``apply --auto-approve`` of the example configuration instead:
to the first institution alone, then to the other institutions together (each its own
institution code, lock and journal; the example's open hours, which name the demo's
institution code, are left out).

    python benchmarks/bench_consortium.py [--institutions 10] [--latency 0.1] [--apply]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulator_process import emulator_process

from almasync.cli import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "config"
RATIO_BOUND = 1.5


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    result = CliRunner().invoke(cli, args, env=env)
    elapsed = time.perf_counter() - started
    if result.exit_code not in (0, 2):
        sys.exit(f"{' '.join(args[:2])} exited {result.exit_code}: {result.output[-2000:]}")
    return elapsed, result.exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--institutions", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per response")
    parser.add_argument("--apply", action="store_true",
                        help="time apply (first institution, then the others together)")
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        # apply refuses two environments that reach one institution: with --apply each
        # emulator serves the demo under an institution code of its own
        urls = [stack.enter_context(emulator_process(
                    "demo", api_key=f"key-{n}", latency=args.latency, rate_limit=25,
                    institution_code=f"01INST{n}_INST" if args.apply else None,
                    name=f"emulator {n}")).url
                for n in range(args.institutions)]
        root = Path(tmp) / "config"
        shutil.copytree(EXAMPLES, root)
        if args.apply:  # its institution-wide hours name the demo's institution code
            (root / "open_hours.yaml").unlink()
        (root / "almasync.yaml").write_text("environments:\n" + "".join(
            f"  inst{n}:\n    api_url: {url}\n    api_key_env: KEY_{n}\n"
            for n, url in enumerate(urls)))
        env = {f"KEY_{n}": f"key-{n}" for n in range(len(urls))}
        env.update({"ALMASYNC_RATE_LIMIT": "25", "SIS_FTP_PASSWORD": "x",
                    "RFID_API_TOKEN": "y"})
        if args.apply:
            command, together = "apply", args.institutions - 1
            others = ",".join(f"inst{n}" for n in range(1, len(urls)))
            one, _ = _timed(["apply", str(root), "--env", "inst0", "--auto-approve"], env)
            every, _ = _timed(["apply", str(root), "--env", others, "--auto-approve"], env)
        else:
            command, together = "drift", args.institutions
            one, _ = _timed(["drift", str(root), "--env", "inst0", "--include-unmanaged"],
                            env)
            every, _ = _timed(["drift", str(root), "--all-envs", "--include-unmanaged"], env)
    ratio = every / one
    print(f"{command} of 1 institution: {one:.2f} s")
    print(f"{command} of {together} institutions together: {every:.2f} s "
          f"(one after another: about {one * together:.1f} s)")
    print(f"ratio {ratio:.2f} (bound {RATIO_BOUND})")
    print("ok" if ratio <= RATIO_BOUND else "OVER BOUND")
    return 0 if ratio <= RATIO_BOUND else 1


if __name__ == "__main__":
    sys.exit(main())
