"""``almasync emulator`` in a process of its own, for the benchmarks, and the readers of what
it counts.

A benchmark that runs the emulator in its own process keeps the serving side's CPU, memory
and GIL apart from almasync's, as a real Alma would be. ``emulator_process`` picks a free
port on 127.0.0.1, starts the emulator there, waits (bounded) until it accepts connections
and yields its base URL and read/write key; on leaving it stops the emulator (SIGTERM, then
SIGKILL if it does not exit) and reaps it. An emulator that dies or never listens ends the
benchmark with its exit code and the end of its stderr.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NamedTuple

import requests

from almasync.cli.emulator_cmd import EXIT_PORT_IN_USE
from almasync.emulator import DEFAULT_API_KEY

#: Tries at a port (another process may take the free port before the emulator binds it).
PORT_TRIES = 3


class Served(NamedTuple):
    url: str  # http://127.0.0.1:PORT
    key: str  # the read/write key


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(stderr: IO[bytes]) -> str:
    stderr.seek(0)
    text = stderr.read().decode(errors="replace").strip()
    return text[-2000:] or "(nothing on stderr)"


@contextmanager
def emulator_process(seed: str | Path = "demo", *, api_key: str = DEFAULT_API_KEY,
                     latency: float = 0.0, rate_limit: float = 25.0,
                     daily_budget: int | None = None, institution_code: str | None = None,
                     quiet: bool = False, env: Mapping[str, str] | None = None,
                     start_timeout: float = 120.0,
                     name: str = "the emulator") -> Iterator[Served]:
    """Serve ``seed`` (demo, empty or a seed file) from ``python -m almasync emulator``.

    ``rate_limit`` 0 switches the per-second threshold off; ``daily_budget`` and
    ``institution_code`` are passed on when given; ``env`` is the process's whole
    environment (default: this one's); ``name`` names it in an error."""
    options = ["--seed", str(seed), "--api-key", api_key, "--latency", str(latency),
               "--rate-limit", str(rate_limit)]
    if daily_budget is not None:
        options += ["--daily-budget", str(daily_budget)]
    if institution_code is not None:
        options += ["--institution-code", institution_code]
    if quiet:
        options.append("-q")
    with tempfile.TemporaryFile() as stderr:
        for attempt in range(1, PORT_TRIES + 1):
            port = _free_port()
            stderr.seek(0)
            stderr.truncate()
            process = subprocess.Popen(
                [sys.executable, "-m", "almasync", "emulator", "--port", str(port), *options],
                env=None if env is None else dict(env), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr)
            try:
                deadline = time.monotonic() + start_timeout
                while not _listening(port):
                    code = process.poll()
                    if code == EXIT_PORT_IN_USE and attempt < PORT_TRIES:
                        break  # the port was taken meanwhile: another one
                    if code is not None:
                        raise SystemExit(f"{name} did not start (exit {code}): "
                                         f"{_tail(stderr)}")
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{name} did not listen within {start_timeout:g} s: "
                                         f"{_tail(stderr)}")
                    time.sleep(0.1)
                else:
                    yield Served(f"http://127.0.0.1:{port}", api_key)
                    return
            finally:
                _stop(process)


def stats(url: str) -> dict[str, Any]:
    """``GET /__emulator/stats``: requests, statuses, writes, per_second_refusals, remaining
    (this read is not counted)."""
    with urllib.request.urlopen(url + "/__emulator/stats", timeout=30) as answer:
        data: dict[str, Any] = json.load(answer)
    return data


def remaining(url: str, key: str) -> int:
    """The day's remaining calls, as Alma reports them in ``X-Exl-Api-Remaining`` (this read
    is one of them)."""
    answer = requests.get(f"{url}/almaws/v1/conf/general", timeout=30,
                          headers={"Authorization": f"apikey {key}",
                                   "Accept": "application/json"})
    return int(answer.headers["X-Exl-Api-Remaining"])
