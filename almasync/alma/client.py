"""The one HTTP client almasync uses to talk to Alma.

It owns authentication, the rate limit, timeouts, paging and Alma's error bodies; the retry
rules are in :mod:`almasync.alma.retry`, the connections (proxy, CA bundle, query strings,
set up from the environment as requests did) in :mod:`almasync.alma.connections`. It
speaks HTTP through urllib3 directly: a ``requests`` session cost twice the CPU per call.
A read-only client refuses every call but GET before anything reaches the network:
``plan``, ``drift`` and ``export`` use one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError

from almasync.alma import payload
from almasync.alma.connections import ACCEPT_ENCODING, pool_for, query_string
from almasync.alma.errors import alma_error
from almasync.alma.gateway import API_PREFIX, check_base_url, run_each, workers_for
from almasync.alma.memo import Memo, created_under
from almasync.alma.ratelimit import limiter_for
from almasync.alma.readback import Writes, Written, echoes
from almasync.alma.retry import IDEMPOTENT, RetryObserver, RetryPolicy, failure_reason, never_sent
from almasync.errors import (
    AlmaError,
    AlmaQuotaError,
    AlmaServerError,
    AlmaUnavailable,
    ConfigError,
    ReadOnlyViolation,
)

log = logging.getLogger("almasync.http")

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_RATE = 25.0
PAGE_SIZE = 100
#: Seconds one call may wait for Alma's answer (``--timeout``, ``ALMASYNC_TIMEOUT``).
DEFAULT_TIMEOUT = 30.0
TIMEOUT_ENV = "ALMASYNC_TIMEOUT"
#: Connecting never waits longer than this, whatever the timeout.
CONNECT_TIMEOUT = 10.0
class WriteOutcomeUnknown(AlmaUnavailable):
    """A write may or may not have reached Alma (connection lost or timed out mid-call)."""


class AlmaClient:
    """Calls ``{base_url}/almaws/v1{path}`` with ``Authorization: apikey KEY``.

    Reads may run concurrently through :meth:`map`; every request and every retry, from any
    thread, first takes its turn from the institution's adaptive rate
    (:mod:`almasync.alma.ratelimit`). ``timeout`` is how long one call may
    wait for an answer; ``retry`` says what is retried (:class:`RetryPolicy`: 429 for any
    method, 5xx and lost answers only for idempotent methods, TLS errors never). A POST is
    never retried blindly. ``notice`` is told about each retry in one line.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        read_only: bool,
        rate_limit: float | None = DEFAULT_RATE,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        workers: int | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError("no API key: set ALMA_API_KEY (or the variable named by "
                              "api_key_env in almasync.yaml)")
        self.base_url = check_base_url(base_url)
        self.read_only = read_only
        self.timeout = (timeout if isinstance(timeout, tuple)
                        else (min(timeout, CONNECT_TIMEOUT), timeout))
        self.retry = retry or RetryPolicy.from_env()
        self.workers = max(1, workers if workers is not None else workers_for(rate_limit))
        # One adaptive rate per gateway and key, shared by every client of the run: it
        # slows down on each 429 PER_SECOND_THRESHOLD and climbs back to the ceiling.
        self.bucket = limiter_for(self.base_url, api_key, rate_limit)
        self.remaining: int | None = None
        self.calls = 0
        self._memo: Memo | None = None
        self._memo_depth = 0
        self._recording = threading.local()
        self._key = api_key
        self._lock = threading.Lock()
        # Kinds are read side by side, each with its own workers: room for both levels.
        self._pool = pool_for(self.base_url, self.workers * (self.workers + 1))
        self._timeout = urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1])
        # One Retry for every call: urllib3 derives a new one at each try.
        self._retries = self.retry.retry(RetryObserver(self.bucket, self._count, notice))
        self._headers = {
            "User-Agent": "almasync",
            "Accept-Encoding": ACCEPT_ENCODING,
            "Accept": "application/json",
            "Connection": "keep-alive",
            "Authorization": f"apikey {api_key}",
        }

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"AlmaClient({self.base_url!r}, {mode})"

    def close(self) -> None:
        self._pool.clear()

    def __enter__(self) -> AlmaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def memo(self) -> Iterator[None]:
        """Within the block, a GET of a path (with the same parameters) already answered is
        answered again from memory, and concurrent identical GETs share one call; any other
        call to a path forgets what was read of that path, its parent and descendants
        (see :mod:`almasync.alma.memo`). Nested blocks share the outer one's memory."""
        with self._lock:
            if self._memo_depth == 0:
                self._memo = Memo()
            self._memo_depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._memo_depth -= 1
                if self._memo_depth == 0:
                    self._memo = None

    @contextmanager
    def without_memo(self) -> Iterator[None]:
        """Within the block every GET goes to Alma (polling a job's progress)."""
        with self._lock:
            held, self._memo = self._memo, None
        try:
            yield
        finally:
            with self._lock:
                if self._memo_depth:
                    self._memo = held

    @contextmanager
    def recording(self) -> Iterator[Writes]:
        """Record the writes this thread makes within the block, for :meth:`confirms`."""
        writes = Writes()
        self._recording.writes = writes
        try:
            yield writes
        finally:
            self._recording.writes = None

    def confirms(self, writes: Iterable[Written]) -> bool:
        """Read each write's path again, from Alma, and say whether every one holds what
        was sent (:func:`almasync.alma.readback.echoes`); a create whose answer showed it
        so is not read again. False when a write cannot be read back so, or there were
        none: the caller then reads the resource in full."""
        made = list(writes)
        if not made or not all(w.readable and w.sent is not None for w in made):
            return False
        for write in made:
            if write.answered:
                # A resource this run created cannot have been overwritten unseen: another
                # writer would have to know of it (a second create of it is refused).
                continue
            if self._memo is not None:
                self._memo.drop(write.path)
            if not echoes(write.sent, self.get(write.path, write.params)):
                return False
        return True

    def forget(self) -> None:
        """Drop everything the memo holds (time has passed: what was read may be old)."""
        memo = self._memo
        if memo is not None:
            memo.clear()

    # -- the verbs -----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", path, params=params, json_body=body)

    def put(self, path: str, body: Any, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("PUT", path, params=params, json_body=body)

    def put_xml(self, path: str, xml: str, params: Mapping[str, Any] | None = None, *,
                sent: Mapping[str, Any] | None = None) -> Any:
        """A PUT of an XML body; ``sent`` is the JSON form of what it must set, which the
        read-back compares (see :meth:`confirms`)."""
        return self.request("PUT", path, params=params, xml_body=xml, sent=sent)

    def delete(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("DELETE", path, params=params)

    def get_bytes(self, path: str, params: Mapping[str, Any] | None = None) -> tuple[bytes, str]:
        """A GET whose answer is a file rather than JSON: its bytes and Content-Type."""
        raw: tuple[bytes, str] = self.request("GET", path, params=params, raw=True)
        return raw

    def get_list(self, path: str, list_key: str, params: Mapping[str, Any] | None = None,
                 paged: bool = False) -> list[dict[str, Any]]:
        """Every entry of a list endpoint; follows ``limit``/``offset`` when ``paged``.

        Alma omits the list key when a list is empty, so a missing key means no entries,
        and may send a one-entry list as the bare entry (see :mod:`almasync.alma.payload`).
        """
        if not paged:
            return payload.as_list(self.get(path, params).get(list_key))
        entries: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.get(path, {**(params or {}), "limit": PAGE_SIZE, "offset": offset})
            batch = payload.as_list(page.get(list_key))
            entries.extend(batch)
            offset += PAGE_SIZE
            if not batch or offset >= int(page.get("total_record_count") or 0):
                return entries

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run ``fn`` over ``items`` on the client's worker threads, keeping order; the
        first failure ends the map (see :func:`almasync.alma.gateway.run_each`)."""
        return run_each(fn, items, self.workers)

    # -- the machinery -------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, xml_body: str | None = None, raw: bool = False,
                sent: Mapping[str, Any] | None = None) -> Any:
        """Send one call, with retries; returns the decoded JSON body (None for 204), or
        with ``raw`` the body's bytes and Content-Type, whatever they are. ``sent``: the
        JSON form of an XML body."""
        if self.read_only and method != "GET":
            raise ReadOnlyViolation(
                f"refused {method} {path}: this run is read-only (plan, drift and export "
                "never write)")
        memo = self._memo
        if method != "GET":
            if memo is not None:
                # Forgotten before the call goes out: a write whose answer is lost leaves
                # nothing behind that it may have changed.
                memo.drop(path)
            try:
                answer = self._call(method, path, params, json_body, xml_body, raw)
            except BaseException:
                if memo is not None:
                    memo.drop(path, descendants=True)
                raise
            created = created_under(path, method, answer)
            if memo is not None:
                # Again now that it landed (a read side by side may have come between);
                # a create in a collection leaves the collection's other members as they
                # were, any other write may change what lies below its path.
                memo.drop(path, descendants=created is None)
            self._note_write(method, path, params, json_body if xml_body is None else sent,
                             created, answer)
            return answer
        if memo is None or raw:
            return self._call(method, path, params, json_body, xml_body, raw)
        # The memory keeps the answer's bytes: each caller decodes its own copy.
        status, content = memo.get(path, params, lambda: self._call(
            method, path, params, None, None, False, keep_bytes=True))
        return self._decoded(method, path, status, content)

    def _note_write(self, method: str, path: str, params: Mapping[str, Any] | None,
                    sent: Any, created: str | None, answer: Any) -> None:
        writes: Writes | None = getattr(self._recording, "writes", None)
        if writes is None:
            return
        body = sent if isinstance(sent, Mapping) else None
        if created is not None:  # Alma says where the new resource lives
            writes.made.append(Written(method, created, None, body, True,
                                       body is not None and echoes(body, answer)))
        else:
            writes.made.append(Written(method, path, params, body, method == "PUT"))

    def _call(self, method: str, path: str, params: Mapping[str, Any] | None,
              json_body: Any, xml_body: str | None, raw: bool, *,
              keep_bytes: bool = False) -> Any:
        url = f"{self.base_url}{API_PREFIX}{path}"
        headers: dict[str, str] = {"Accept": "*/*"} if raw else {}
        data: bytes | None = None
        if xml_body is not None:
            headers["Content-Type"] = "application/xml"
            data = xml_body.encode("utf-8")
        elif json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body).encode("utf-8")
        elif method != "GET":
            headers["Content-Length"] = "0"  # a DELETE says it has no body (as requests did)
        response = self._send(method, url, path, params, data, headers)
        status = response.status
        if 200 <= status < 300 and raw:
            return response.data, response.headers.get("Content-Type", "")
        if 200 <= status < 300 and keep_bytes:
            return status, response.data
        if 200 <= status < 300:
            return self._decoded(method, path, status, response.data)
        error = alma_error(status, response.headers.get("Content-Type", ""), response.data,
                           method, path)
        if error.code == "PER_SECOND_THRESHOLD":
            raise AlmaQuotaError(error.status, error.code, f"{error.alma_message} (still "
                                 f"refused after {self.retry.status_retries} retries)",
                                 error.tracking_id, method, path)
        if status in self.retry.statuses and method in IDEMPOTENT:
            # Retried already: Alma is failing, not refusing this call (exit 4).
            raise AlmaServerError(error.status, error.code, f"{error.alma_message} "
                                  f"(still failing after {self.retry.status_retries} "
                                  "retries)", error.tracking_id, method, path)
        raise error

    def _send(self, method: str, url: str, path: str, params: Mapping[str, Any] | None,
              data: bytes | None, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        """One call, retried by urllib3 as the :class:`RetryPolicy` says; the last answer,
        its body read and decoded (gzip, deflate). A redirect is not followed: Alma's API
        does not send one, and a 3xx is an error like any other answer but 2xx."""
        query = query_string(params)
        if query:
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        self.bucket.acquire()
        started = time.monotonic()
        try:
            response = self._pool.urlopen(method, url, body=data,
                                          headers={**self._headers, **headers},
                                          retries=self._retries, timeout=self._timeout,
                                          redirect=False)
        except (HTTPError, OSError) as exc:
            log.debug("%s %s failed after %.3fs: %s", method, path,
                      time.monotonic() - started, self._scrub(f"{type(exc).__name__}: {exc}"))
            host = urlsplit(url).hostname or url
            reason = self._scrub(failure_reason(exc, self.timeout[1]))
            if method != "GET" and not never_sent(exc):  # a write whose fate is unknown
                raise WriteOutcomeUnknown(
                    f"{method} {path}: the connection to {host} was lost mid-call ({reason}); "
                    "Alma may or may not have made the change") from None
            raise AlmaUnavailable(f"could not reach Alma at {host}: {reason}") from None
        self._count()
        log.debug("%s %s -> %s in %.3fs", method, path, response.status,
                  time.monotonic() - started)
        remaining = response.headers.get("X-Exl-Api-Remaining")
        if remaining and remaining.isdigit():
            # Answers to concurrent calls arrive in any order: the least is the latest.
            with self._lock:
                left = int(remaining)
                self.remaining = left if self.remaining is None else min(self.remaining, left)
        return response

    def _count(self) -> None:
        with self._lock:
            self.calls += 1

    @staticmethod
    def _decoded(method: str, path: str, status: int, content: bytes) -> Any:
        if status == 204 or not content:
            return None
        try:
            return json.loads(content)
        except ValueError as exc:
            raise AlmaError(status, "HTTP", "Alma answered with a body that is not JSON",
                            None, method, path) from exc

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text
