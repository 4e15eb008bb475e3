"""The adaptive rate shared by every request to one institution.

Alma allows each institution a fixed number of calls per second (10/s on some sandboxes, up
to 50/s on production), shared by every tool the institution runs, and answers 429
``PER_SECOND_THRESHOLD`` above it. The configured rate is only a ceiling: on each refusal
the limiter cuts its rate, then climbs back toward the ceiling, slowly near the rate that
was last refused, so a run settles just under the threshold it actually meets.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

#: The rate is multiplied by this on a refusal, at most once per :data:`CUT_INTERVAL`.
CUT_FACTOR = 0.7
CUT_INTERVAL = 1.0
#: Calls per second gained per second while well below the last refused rate...
CLIMB = 2.0
#: ...and above :data:`NEAR` times the last refused rate.
CLIMB_NEAR = 0.25
NEAR = 0.9
#: The bucket holds this many seconds' worth of calls.
BURST = 0.2
#: The rate never drops below this.
FLOOR = 1.0


class AdaptiveRate:
    """A token bucket whose rate adapts to the refusals it meets.

    ``ceiling`` of ``None`` disables limiting. Every thread of every client talking to one
    institution shares one instance (see :func:`limiter_for`), so concurrent calls together
    stay under the institution's threshold.
    """

    def __init__(
        self,
        ceiling: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ceiling = ceiling
        self.rate = ceiling
        self.throttled = 0
        self.last_refused: float | None = None
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._last_cut = float("-inf")
        self._tokens = self._capacity()
        self._lock = threading.Lock()

    def _capacity(self) -> float:
        # A burst of a fifth of a second's worth: enough to keep calls in flight, too little
        # to spend a threshold's burst allowance in one go.
        return max(1.0, (self.rate or 1.0) * BURST)

    def set_ceiling(self, ceiling: float | None) -> None:
        """Change the ceiling; the current rate is clipped to it."""
        with self._lock:
            self.ceiling = ceiling
            if ceiling is None:
                self.rate = None
            elif self.rate is None or self.rate > ceiling:
                self.rate = ceiling
            self._tokens = min(self._tokens, self._capacity())

    def acquire(self) -> float:
        """Wait for one call's turn; returns the seconds waited."""
        if self.rate is None:
            return 0.0
        with self._lock:
            rate = self._advance()
            self._tokens -= 1.0
            wait = -self._tokens / rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def on_throttled(self) -> None:
        """Alma refused a call with ``PER_SECOND_THRESHOLD``: slow down.

        Refusals that arrive together (several calls were in flight) count as one: the rate
        is cut at most once per second. The bucket is emptied, so the retry waits its turn.
        """
        with self._lock:
            self.throttled += 1
            if self.rate is None:
                return
            rate = self._advance()
            # The refused call goes back in the queue: its retry waits a turn of its own.
            self._tokens = min(self._tokens, 0.0) - 1.0
            now = self._clock()
            if now - self._last_cut < CUT_INTERVAL:
                return
            self._last_cut = now
            self.last_refused = rate
            self.rate = max(FLOOR, rate * CUT_FACTOR)

    def _advance(self) -> float:
        """Refill the bucket and climb toward the ceiling for the time passed (lock held)."""
        assert self.rate is not None and self.ceiling is not None
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        self._last = now
        rate = self.rate
        if rate < self.ceiling and elapsed > 0:
            near = self.last_refused is not None and rate >= NEAR * self.last_refused
            rate = min(self.ceiling, rate + (CLIMB_NEAR if near else CLIMB) * elapsed)
            self.rate = rate
        self._tokens = min(self._capacity(), self._tokens + elapsed * rate)
        return rate

    def describe(self) -> str:
        """One line for ``-v``: where the rate settled."""
        if self.rate is None:
            return "rate: not limited"
        text = f"rate: settled at {self.rate:.1f} calls/s (ceiling {self.ceiling:g}/s"
        if self.throttled:
            text += f"; Alma refused {self.throttled} call(s) as over its per-second threshold"
        return text + ")"


_LIMITERS: dict[tuple[str, str], AdaptiveRate] = {}
_REGISTRY_LOCK = threading.Lock()


def limiter_for(base_url: str, api_key: str, ceiling: float | None) -> AdaptiveRate:
    """The one limiter of this process for a gateway and key, with ``ceiling`` applied.

    Clients made one after another in a run (plan then apply, several environments) share
    it, so what one learned about the threshold holds for the next.
    """
    ident = (base_url, hashlib.sha256(api_key.encode("utf-8")).hexdigest())
    with _REGISTRY_LOCK:
        limiter = _LIMITERS.get(ident)
        if limiter is None:
            limiter = _LIMITERS[ident] = AdaptiveRate(ceiling)
            return limiter
    if limiter.ceiling != ceiling:
        limiter.set_ceiling(ceiling)
    return limiter
