"""Where almasync's calls go and how many go at once: the gateway URL check, the size of
the pool of calls in flight, and running reads side by side.

Kept apart from :mod:`almasync.alma.client`, which owns the HTTP connections themselves.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar
from urllib.parse import urlsplit

from almasync.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")

API_PREFIX = "/almaws/v1"
#: The fewest calls in flight at once, and the answer time (s) the pool is sized for.
MIN_WORKERS = 4
ALMA_LATENCY = 0.25


def workers_for(rate: float | None) -> int:
    """Calls kept in flight at once: enough to reach ``rate`` when each call waits about
    a quarter of a second for Alma (rate x latency, Little's law), at least
    :data:`MIN_WORKERS`. The rate limiter, not the pool, keeps the pace."""
    if rate is None:
        return MIN_WORKERS
    return max(MIN_WORKERS, math.ceil(rate * ALMA_LATENCY))


def check_base_url(url: str) -> str:
    """Validate a gateway URL; plain http is allowed only for loopback hosts."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"ALMA_API_URL {url!r} is not an http(s) URL, e.g. "
                          "https://api-eu.hosted.exlibrisgroup.com")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(f"ALMA_API_URL {url!r} uses plain http; only https is allowed "
                          "except for loopback addresses")
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    if base.endswith(API_PREFIX):
        base = base[: -len(API_PREFIX)]
    return base


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NotStarted(Exception):
    """An item of :meth:`AlmaClient.map` skipped because another one failed."""


def run_each(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """Run ``fn`` over ``items`` on ``workers`` threads, keeping order. The first failure
    ends the run: items not yet started are never started (a hung gateway would otherwise
    cost one timeout per queued item), and that failure is raised."""
    items = list(items)
    if len(items) <= 1 or workers == 1:
        return [fn(item) for item in items]
    failed = threading.Event()

    def run(item: T) -> R:
        if failed.is_set():
            raise _NotStarted
        try:
            return fn(item)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(workers, thread_name_prefix="almasync-read") as pool:
        futures = [pool.submit(run, item) for item in items]
        wait(futures, return_when=FIRST_EXCEPTION)
        if failed.is_set():
            pool.shutdown(wait=True, cancel_futures=True)
            errors = [f.exception() for f in futures if f.done() and not f.cancelled()]
            raise next(e for e in errors if e is not None and not isinstance(e, _NotStarted))
        return [f.result() for f in futures]
