"""The one retry policy of the HTTP client: what is retried, how often, and how far apart.

Retries run inside urllib3 (:class:`urllib3.util.retry.Retry`, the same one given with every
call of the client), so every call of every thread follows the same rules:

- a 429 ``PER_SECOND_THRESHOLD`` is retried for any method (Alma did not process the call),
  and the rate limiter is told (:meth:`RetryObserver.throttled`);
- 500, 502, 503 and 504 are retried only for GET, PUT and DELETE, which are idempotent;
- a call that was sent but never answered (read timeout, dropped connection) is retried only
  for idempotent methods, and only ``read_retries`` times: a hung gateway ends in bounded time;
- a connection that could not be made (refused, unknown host, connect timeout) is retried
  ``connect_retries`` times, since nothing was sent;
- TLS errors are never retried: a bad certificate does not heal in a second.

Backoff doubles from ``backoff`` seconds (``ALMASYNC_RETRY_BACKOFF``; 0 retries at once).
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
    SSLError,
)
from urllib3.util.retry import Retry

from almasync.errors import ConfigError

log = logging.getLogger("almasync.http")

BACKOFF_ENV = "ALMASYNC_RETRY_BACKOFF"
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
THROTTLED = 429


@dataclass(frozen=True)
class RetryPolicy:
    """How many times each kind of failure is retried, and the backoff between tries."""

    status_retries: int = 4
    read_retries: int = 2
    connect_retries: int = 1
    backoff: float = 0.5
    backoff_max: float = 30.0
    statuses: frozenset[int] = frozenset({500, 502, 503, 504})

    @classmethod
    def never(cls) -> RetryPolicy:
        """No retries at all: for replays of recorded answers, where a retry cannot help."""
        return cls(status_retries=0, read_retries=0, connect_retries=0, backoff=0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any
                 ) -> RetryPolicy:
        """The default policy, with ``ALMASYNC_RETRY_BACKOFF`` (seconds) when it is set."""
        text = (os.environ if environ is None else environ).get(BACKOFF_ENV, "").strip()
        if text and "backoff" not in overrides:
            try:
                overrides["backoff"] = float(text)
            except ValueError:
                raise ConfigError(f"{BACKOFF_ENV}={text!r} is not a number of seconds"
                                  ) from None
            if overrides["backoff"] < 0:
                raise ConfigError(f"{BACKOFF_ENV}={text!r} must not be negative")
        return cls(**overrides)

    def retry(self, observer: RetryObserver | None = None) -> Retry:
        """The urllib3 ``Retry`` that carries out this policy (one per client)."""
        return AlmaRetry(
            total=None,
            connect=self.connect_retries,
            read=self.read_retries,
            status=self.status_retries,
            other=0,
            allowed_methods=IDEMPOTENT,
            status_forcelist=self.statuses,
            backoff_factor=self.backoff,
            backoff_max=self.backoff_max,
            raise_on_status=False,
            respect_retry_after_header=True,
            observer=observer,
        )


@dataclass
class RetryObserver:
    """What the client learns from the retries urllib3 makes on its behalf.

    ``limiter`` is the client's rate limiter: each retry waits for a token like any call,
    and a 429 is reported to it through ``on_throttled`` when it has that method.
    ``answered`` counts each answer that was retried; ``notice`` is told, in one line,
    about each retry (the CLI shows it on a terminal).
    """

    limiter: Any = None
    answered: Callable[[], None] | None = None
    notice: Callable[[str], None] | None = None

    def throttled(self) -> None:
        on_throttled = getattr(self.limiter, "on_throttled", None)
        if callable(on_throttled):
            on_throttled()

    def before_retry(self) -> None:
        acquire = getattr(self.limiter, "acquire", None)
        if callable(acquire):
            acquire()

    def retrying(self, line: str) -> None:
        log.info("%s", line)
        if self.notice is not None:
            self.notice(line)


class AlmaRetry(Retry):
    """urllib3's ``Retry`` with Alma's rules: 429 for any method, the daily quota never,
    and every retry logged and reported to the rate limiter."""

    def __init__(self, *args: Any, observer: RetryObserver | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.observer = observer

    def new(self, **kw: Any) -> AlmaRetry:
        retry = super().new(**kw)
        retry.observer = self.observer
        return retry

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == THROTTLED:
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method: str | None = None, url: str | None = None,
                  response: Any = None, error: Exception | None = None,
                  _pool: Any = None, _stacktrace: Any = None) -> AlmaRetry:
        observer = self.observer
        if response is not None and observer is not None:
            if observer.answered is not None:
                observer.answered()
            if response.status == THROTTLED:
                # The one place a 429 reaches the rate limiter.
                observer.throttled()
        if response is not None and response.status == THROTTLED and \
                response.headers.get("X-Exl-Api-Remaining") == "0":
            # The daily allowance is spent: retrying only spends time.
            raise MaxRetryError(_pool, url or "", ResponseError("daily quota spent"))
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if observer is not None:
            observer.retrying(self._describe(method, url, response, error, new))
        return new

    def _describe(self, method: str | None, url: str | None, response: Any,
                  error: Exception | None, new: Retry) -> str:
        path = (url or "").split("?")[0].removeprefix("/almaws/v1")
        if response is not None:
            why = f"HTTP {response.status}"
        else:
            why = failure_reason(error) if error is not None else "no answer"
        wait = new.get_backoff_time()
        pause = f" in {wait:g} s" if wait > 0 else ""
        return f"retrying {method} {path}{pause}: {why} (try {len(new.history) + 1})"

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        if self.observer is not None:
            self.observer.before_retry()


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (MaxRetryError -> reason -> cause)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        item = todo.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        reason = getattr(item, "reason", None)
        todo.extend(arg for arg in (reason, *item.args) if isinstance(arg, BaseException))
        todo.extend((item.__cause__, item.__context__))


def failure_reason(exc: BaseException | None, timeout: float | None = None) -> str:
    """A short phrase saying why a call failed without an answer."""
    chain = list(_chain(exc))

    def has(*types: type[BaseException]) -> bool:
        return any(isinstance(item, types) for item in chain)

    if has(NameResolutionError) or any("Name or service not known" in str(item) or
                                       "getaddrinfo failed" in str(item) for item in chain):
        return "the host name could not be resolved (DNS)"
    if has(ConnectionRefusedError) or any("refused" in str(item).lower() for item in chain):
        return "connection refused"
    if has(SSLError, ssl.SSLError):
        detail = next((str(item) for item in chain if isinstance(item, ssl.SSLError)), "")
        return "TLS handshake failed" + (f" ({_short(detail)})" if detail else "")
    if has(ReadTimeoutError):
        limit = f" within {timeout:g} s" if timeout else ""
        return f"the connection was accepted but no answer came{limit}"
    if has(ConnectTimeoutError) and not has(NewConnectionError):
        limit = f" within {timeout:g} s" if timeout else ""
        return f"no connection could be made{limit}"
    if has(NewConnectionError):
        return "no connection could be made"
    if has(ProtocolError):
        return "the connection was closed without an answer"
    return _short(str(exc)) if exc is not None else "unknown network error"


def never_sent(exc: BaseException) -> bool:
    """True when the call certainly did not reach Alma (no connection, or TLS refused)."""
    chain = list(_chain(exc))
    if any(isinstance(item, ReadTimeoutError | ProtocolError) for item in chain):
        return False
    return any(isinstance(item, ConnectTimeoutError | SSLError | ssl.SSLError)
               for item in chain)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."
