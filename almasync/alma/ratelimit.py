"""A thread-safe token bucket shared by every request of one client."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Allow ``rate`` acquisitions per second on average, with a burst of ``burst``.

    ``rate`` of ``None`` disables limiting. One bucket is shared by all threads of a client, so
    concurrent reads still stay under Alma's per-institution threshold.
    """

    def __init__(
        self,
        rate: float | None,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate or 1.0)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping as needed; returns the seconds waited."""
        if self.rate is None:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait
