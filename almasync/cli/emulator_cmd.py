"""``almasync emulator``: run the Alma Configuration API emulator as a standalone server."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

import click

from almasync.emulator import (
    DEFAULT_API_KEY,
    DEFAULT_READ_ONLY_KEY,
    Emulator,
    PortInUseError,
    SeedError,
    load_seed,
)

EXIT_BAD_SEED = 3
EXIT_PORT_IN_USE = 4


def ready_lines(emu: Emulator, seed: str) -> list[str]:
    """What is printed on stdout once the emulator accepts requests (stable, parseable)."""
    return [
        f"Alma emulator listening on {emu.base_url} "
        f"(seed {seed}, institution {emu.store.institution_code})",
        f"base URL: {emu.base_url}",
        f"API root: {emu.api_url}",
        f"read/write key: {emu.api_key}",
        f"read-only key: {emu.read_only_key}",
        f"export ALMA_API_URL={emu.base_url}",
        f"export ALMA_API_KEY={emu.api_key}",
    ]


@click.command("emulator")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--seed", default="demo", show_default=True, help="demo, empty, or a .json/.yaml seed file."
)
@click.option("--api-key", default=DEFAULT_API_KEY, show_default=True, help="The read/write key.")
@click.option(
    "--read-only-key", default=DEFAULT_READ_ONLY_KEY, show_default=True, help="The read-only key."
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0),
    default=25.0,
    show_default=True,
    help="Requests per second before 429 PER_SECOND_THRESHOLD; 0 disables.",
)
@click.option(
    "--daily-budget",
    type=click.IntRange(min=0),
    default=100_000,
    show_default=True,
    help="Calls before 429 DAILY_THRESHOLD (X-Exl-Api-Remaining starts here).",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds added to every response.",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Probability of an injected 500 GENERAL_ERROR (the request is not applied).",
)
@click.option(
    "--drop-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Probability of closing the connection without an answer.",
)
@click.option(
    "--drop-after-apply",
    is_flag=True,
    help="Drops hit only writes, after applying them (the answer is lost, not the change).",
)
@click.option(
    "--bare-singletons",
    is_flag=True,
    default=None,
    help="Serve every one-element list of a JSON answer as the bare element, as Alma may "
    "(also a seed's institution.bare_singletons: true).",
)
@click.option(
    "--fault-seed", type=int, default=0, show_default=True, help="Seed of the fault generator."
)
@click.option(
    "--crash-after-writes",
    type=click.IntRange(min=0),
    default=None,
    help="After N successful writes, drop every connection (until restarted).",
)
@click.option(
    "--job-step-seconds",
    type=click.FloatRange(min=0),
    default=0.2,
    show_default=True,
    help="Time a job instance spends in each state.",
)
@click.option(
    "--institution-code",
    default=None,
    metavar="CODE",
    help="Serve the seed under this institution code (another institution in the same state).",
)
def emulator_command(port: int, seed: str, rate_limit: float, **switches: Any) -> None:
    """Serve an emulated Alma Configuration API on 127.0.0.1 until Ctrl-C or SIGTERM."""
    try:
        store = load_seed(seed)
    except SeedError as exc:
        click.echo(f"error: cannot load seed {seed!r}: {exc}", err=True)
        raise SystemExit(EXIT_BAD_SEED) from None
    emu = Emulator(seed=store, rate_limit=rate_limit or None, **switches)
    stop = threading.Event()
    previous = _install_signal_handlers(stop)
    try:
        _serve(emu, port, seed, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(emu: Emulator, port: int, seed: str, stop: threading.Event) -> None:
    try:
        emu.start(port=port)
    except PortInUseError as exc:
        click.echo(f"error: {exc.strerror}; choose another --port or use --port 0", err=True)
        raise SystemExit(EXIT_PORT_IN_USE) from None
    try:
        for line in ready_lines(emu, seed):
            click.echo(line)
        sys.stdout.flush()
        click.echo("Press Ctrl-C to stop.", err=True)
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()


def _install_signal_handlers(stop: threading.Event) -> dict[int, Any]:
    """SIGINT and SIGTERM set ``stop``; returns the previous handlers to restore."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
