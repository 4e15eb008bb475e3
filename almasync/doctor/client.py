"""A read-only client that remembers what it read and keeps, unsent, what it would write."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3

from almasync.alma.client import AlmaClient
from almasync.errors import AlmaError

#: Response headers worth keeping: Alma's quota and the body's type.
KEPT_HEADERS = ("X-Exl-Api-Remaining", "Content-Type")


@dataclass(frozen=True)
class Exchange:
    """One call: method, path (below ``/almaws/v1``), query, status, body and the headers
    of :data:`KEPT_HEADERS`. A refused GET keeps Alma's error code and message as its body."""

    method: str
    path: str
    params: Mapping[str, str]
    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


def refusal_of_this_call(exc: AlmaError) -> bool:
    """Whether Alma refused this one call (a 4xx about it), rather than the key, the quota
    or the server failing: only such refusals are part of a sample."""
    return (type(exc).exit_code is AlmaError.exit_code and 400 <= exc.status < 500
            and exc.status != 429 and exc.code != "HTTP")


class RecordingClient(AlmaClient):
    """Reads like any read-only client and records every GET (answers and refusals).
    A PUT, POST or DELETE is kept in :attr:`writes` instead of being refused, and answered
    with its own body, as Alma answers a successful write with the object: the kinds' own
    update code can run to show what it would send, and nothing but GET reaches Alma."""

    def __init__(self, base_url: str, api_key: str, **options: Any) -> None:
        super().__init__(base_url, api_key, read_only=True, **options)
        self.reads: list[Exchange] = []
        self.writes: list[Exchange] = []
        self._record = threading.Lock()
        self._last = threading.local()

    @classmethod
    def like(cls, client: AlmaClient) -> RecordingClient:
        """A recording client for the target, key, rate and timeouts of ``client``."""
        return cls(client.base_url, client._key, rate_limit=client.bucket.ceiling,
                   timeout=client.timeout, retry=client.retry, workers=client.workers)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be written anywhere: the API key."""
        return (self._key,)

    def __enter__(self) -> RecordingClient:
        return self

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, xml_body: str | None = None, raw: bool = False,
                sent: Mapping[str, Any] | None = None) -> Any:
        query = {k: str(v) for k, v in (params or {}).items()}
        if method != "GET":
            body = xml_body if xml_body is not None else copy.deepcopy(json_body)
            with self._record:
                self.writes.append(Exchange(method, path, query, body))
            return copy.deepcopy(json_body)
        self._last.headers = {}
        try:
            body = super().request(method, path, params=params, raw=raw)
        except AlmaError as exc:
            if not refusal_of_this_call(exc):
                raise
            refusal = {"errorsExist": True, "errorList": {"error": [
                {"errorCode": exc.code, "errorMessage": exc.alma_message}]}}
            self._keep(Exchange(method, path, query, refusal, exc.status,
                                dict(self._last.headers)))
            raise
        self._keep(Exchange(method, path, query, copy.deepcopy(body), 200,
                            dict(self._last.headers)))
        return body

    def _keep(self, exchange: Exchange) -> None:
        with self._record:
            self.reads.append(exchange)

    def _send(self, method: str, url: str, path: str, params: Mapping[str, Any] | None,
              data: bytes | None, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        response = super()._send(method, url, path, params, data, headers)
        self._last.headers = {name: response.headers[name] for name in KEPT_HEADERS
                              if name in response.headers}
        return response
