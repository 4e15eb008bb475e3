"""The one HTTP client almasync uses to talk to Alma.

It owns authentication, the rate limit, retries, paging and Alma's error bodies. It is the
only module that imports ``requests``. A read-only client refuses every call but GET before
anything reaches the network: ``plan``, ``drift`` and ``export`` use one.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from almasync.alma import payload
from almasync.alma.errors import alma_error
from almasync.alma.ratelimit import TokenBucket
from almasync.errors import (
    AlmaError,
    AlmaQuotaError,
    AlmaUnavailable,
    ConfigError,
    ReadOnlyViolation,
)

log = logging.getLogger("almasync.http")

T = TypeVar("T")
R = TypeVar("R")

API_PREFIX = "/almaws/v1"
DEFAULT_RATE = 20.0
PAGE_SIZE = 100
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
_RETRY_STATUS = frozenset({500, 502, 503, 504})


class WriteOutcomeUnknown(AlmaUnavailable):
    """A write may or may not have reached Alma (connection lost or timed out mid-call)."""


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


class AlmaClient:
    """Calls ``{base_url}/almaws/v1{path}`` with ``Authorization: apikey KEY``.

    Reads may run concurrently through :meth:`map`; every request, from any thread, first
    takes a token from one shared bucket. Retries: a 429 ``PER_SECOND_THRESHOLD`` is retried
    for any method (Alma did not process the call); 5xx and lost connections are retried
    only for GET, PUT and DELETE, which are idempotent. A POST is never retried blindly.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        read_only: bool,
        rate_limit: float | None = DEFAULT_RATE,
        timeout: tuple[float, float] = (5.0, 60.0),
        max_retries: int = 4,
        backoff: float = 0.5,
        workers: int = 4,
    ) -> None:
        if not api_key:
            raise ConfigError("no API key: set ALMA_API_KEY (or the variable named by "
                              "api_key_env in almasync.yaml)")
        self.base_url = check_base_url(base_url)
        self.read_only = read_only
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.workers = max(1, workers)
        self.bucket = TokenBucket(rate_limit)
        self.remaining: int | None = None
        self.calls = 0
        self._key = api_key
        self._lock = threading.Lock()
        self._session = requests.Session()
        # Kinds are read side by side, each with its own workers: room for both levels.
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=self.workers * (self.workers + 1))
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers.update({
            "Authorization": f"apikey {api_key}",
            "Accept": "application/json",
            "User-Agent": "almasync",
        })

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"AlmaClient({self.base_url!r}, {mode})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> AlmaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the verbs -----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("POST", path, params=params, json_body=body)

    def put(self, path: str, body: Any, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("PUT", path, params=params, json_body=body)

    def put_xml(self, path: str, xml: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("PUT", path, params=params, xml_body=xml)

    def delete(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("DELETE", path, params=params)

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
        """Run ``fn`` over ``items`` on the client's worker threads, keeping order."""
        items = list(items)
        if len(items) <= 1 or self.workers == 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(self.workers, thread_name_prefix="almasync-read") as pool:
            return list(pool.map(fn, items))

    # -- the machinery -------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, xml_body: str | None = None) -> Any:
        """Send one call, with retries; returns the decoded JSON body (None for 204)."""
        if self.read_only and method != "GET":
            raise ReadOnlyViolation(
                f"refused {method} {path}: this run is read-only (plan, drift and export "
                "never write)")
        url = f"{self.base_url}{API_PREFIX}{path}"
        headers: dict[str, str] = {}
        data: bytes | None = None
        if xml_body is not None:
            headers["Content-Type"] = "application/xml"
            data = xml_body.encode("utf-8")
        elif json_body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(json_body).encode("utf-8")
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            response = self._send(method, url, path, params, data, headers, last)
            if response is None:
                self._sleep(attempt)
                continue
            if 200 <= response.status_code < 300:
                return self._decode(method, path, response)
            error = alma_error(response.status_code, response.headers.get("Content-Type", ""),
                               response.content, method, path)
            throttled = error.code == "PER_SECOND_THRESHOLD"
            if not last and (throttled or (response.status_code in _RETRY_STATUS
                                           and method in _IDEMPOTENT)):
                self._sleep(attempt)
                continue
            if throttled:
                raise AlmaQuotaError(error.status, error.code, f"{error.alma_message} (still "
                                     f"refused after {self.max_retries} retries)",
                                     error.tracking_id, method, path)
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, url: str, path: str, params: Mapping[str, Any] | None,
              data: bytes | None, headers: dict[str, str], last: bool
              ) -> requests.Response | None:
        """One HTTP exchange; None means "lost, try again" (idempotent calls only)."""
        self.bucket.acquire()
        started = time.monotonic()
        try:
            response = self._session.request(method, url, params=params, data=data,
                                             headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            reason = self._scrub(f"{type(exc).__name__}: {exc}")
            log.debug("%s %s failed after %.3fs: %s", method, path,
                      time.monotonic() - started, reason)
            never_sent = isinstance(exc, requests.ConnectTimeout)
            if (method in _IDEMPOTENT or never_sent) and not last:
                return None
            host = urlsplit(url).netloc
            if method not in _IDEMPOTENT and not never_sent:
                raise WriteOutcomeUnknown(
                    f"{method} {path}: the connection to {host} was lost mid-call ({reason}); "
                    "Alma may or may not have made the change") from None
            raise AlmaUnavailable(
                f"could not reach Alma at {host} ({reason}); check ALMA_API_URL and the "
                "network") from None
        with self._lock:
            self.calls += 1
        log.debug("%s %s -> %s in %.3fs", method, path, response.status_code,
                  time.monotonic() - started)
        remaining = response.headers.get("X-Exl-Api-Remaining")
        if remaining and remaining.isdigit():
            self.remaining = int(remaining)
        return response

    @staticmethod
    def _decode(method: str, path: str, response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise AlmaError(response.status_code, "HTTP", "Alma answered with a body that is "
                            "not JSON", None, method, path) from exc

    def _sleep(self, attempt: int) -> None:
        time.sleep(self.backoff * (2 ** attempt))

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text
