"""The gateway's governance thresholds: a per-second token bucket and a daily budget."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """``rate`` requests per second with a burst of one second's worth (at least one)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take one token; False when the bucket is empty (the request is over the limit)."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class DailyBudget:
    """Calls left today; reported in ``X-Exl-Api-Remaining``."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.remaining = total
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """Spend one call; returns what is left, or None when the budget was already spent."""
        with self._lock:
            if self.remaining <= 0:
                return None
            self.remaining -= 1
            return self.remaining
