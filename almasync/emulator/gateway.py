"""The WSGI application: the gateway checks (key, thresholds, faults) in front of the handlers."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.wsgi import get_input_stream

from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError, error_json, error_xml
from almasync.emulator.handlers import ROUTES
from almasync.emulator.render import bare_singletons
from almasync.emulator.routing import API_PREFIX, Router
from almasync.emulator.xmlio import to_xml

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from almasync.emulator.server import Emulator

log = logging.getLogger("almasync.emulator")

JSON_TYPE = "application/json;charset=UTF-8"
XML_TYPE = "application/xml;charset=UTF-8"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
NOT_COUNTED_AS_WRITES = frozenset({API_PREFIX + "/conf/test"})
MAX_BODY = 64 * 1024 * 1024
_BODY = "almasync.emulator.body"  # where a request's body is kept once read
UNAUTHORIZED_MESSAGE = "API-key not defined or not configured to allow this API."
_ROUTER = Router(ROUTES)
#: Not an Alma route: the emulator's counters as JSON (``Emulator.stats()``), for a client in
#: another process. No key, no threshold, no latency; not recorded among the requests.
STATS_PATH = "/__emulator/stats"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator served; ``status`` is 0 when the connection was dropped.
    ``body`` holds what a write sent (empty for reads and for writes dropped unread).
    ``arrived`` and ``answered`` are ``time.monotonic()`` when the request arrived and when
    its answer was ready (tests see from them which calls overlapped)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    body: bytes = b""
    arrived: float = 0.0
    answered: float = 0.0


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str | None
    headers: list[tuple[str, str]]


def _query(environ: WSGIEnvironment) -> dict[str, str]:
    query: dict[str, str] = {}
    for key, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
        query.setdefault(key, value)
    return query


def _api_key(environ: WSGIEnvironment, query: dict[str, str]) -> str | None:
    header: str = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "apikey" and value.strip():
        return value.strip()
    return query.get("apikey") or None


def _wants_xml(environ: WSGIEnvironment, query: dict[str, str]) -> bool:
    fmt = query.get("format", "").lower()
    if fmt in ("xml", "json"):
        return fmt == "xml"
    return _accept_prefers_xml(environ.get("HTTP_ACCEPT", ""))


@functools.lru_cache(maxsize=256)
def _accept_prefers_xml(accept: str) -> bool:
    """JSON unless the Accept header prefers XML (``*/*`` and no header mean JSON)."""
    if not accept:
        return False
    parsed = parse_accept_header(accept, MIMEAccept)
    return parsed.best_match(["application/json", "application/xml"]) == "application/xml"


def _error(status: int, code: str, message: str, xml: bool, tracking: bool = True) -> Answer:
    if xml:
        return Answer(status, error_xml(code, message, tracking), XML_TYPE, [])
    return Answer(status, error_json(code, message, tracking), JSON_TYPE, [])


def _render(reply: Reply, xml: bool, bare: bool = False) -> Answer:
    """The answer to a handled request; ``bare`` serves one-element lists as bare objects
    (JSON only: XML has no arrays to tell apart)."""
    if reply.status == 204:
        return Answer(204, b"", None, [])
    if reply.raw is not None:
        return Answer(reply.status, reply.raw, reply.content_type or "application/octet-stream", [])
    if xml:
        return Answer(reply.status, reply.xml or to_xml(reply.root, reply.body or {}), XML_TYPE, [])
    body = bare_singletons(reply.body or {}) if bare else (reply.body or {})
    return Answer(
        reply.status,
        json.dumps(body, ensure_ascii=False).encode("utf-8"),
        JSON_TYPE,
        [],
    )


class Gateway:
    """WSGI callable serving ``/almaws/v1/conf/...`` for one :class:`Emulator`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps(self.emulator.stats()).encode("utf-8")
            start_response("200 OK", [("Content-Type", JSON_TYPE),
                                      ("Content-Length", str(len(body)))])
            return [body]
        self.emulator._busy(1)
        try:
            return self._serve(environ, start_response)
        finally:
            self.emulator._busy(-1)

    def _serve(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        emu = self.emulator
        arrived = time.monotonic()
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = _query(environ)
        if emu.on_request is not None:
            emu.on_request(method, path)
        drop, fault = emu._draw_faults()
        if emu.crashed or (drop and not emu.drop_after_apply):
            self._record(method, path, query, 0, None, arrived)
            return self._drop(environ, start_response)
        answer = self._answer(environ, method, path, query, fault)
        if drop and method in WRITE_METHODS and path.rstrip("/") not in NOT_COUNTED_AS_WRITES:
            # drop_after_apply: applied, the answer is lost (the key test is not a write)
            self._record(method, path, query, 0, environ, arrived)
            return self._drop(environ, start_response)
        delay = emu.latency + (emu.write_latency if method in WRITE_METHODS else 0.0)
        if delay > 0:  # after the operation: a slow answer, not a slow write
            emu._stopping.wait(delay)
        self._record(method, path, query, answer.status, environ, arrived)
        headers = list(answer.headers)
        if answer.content_type:
            headers.append(("Content-Type", answer.content_type))
        headers.append(("Content-Length", str(len(answer.body))))
        phrase = HTTPStatus(answer.status).phrase
        start_response(f"{answer.status} {phrase}", headers)
        return [answer.body]

    def _answer(
        self, environ: WSGIEnvironment, method: str, path: str, query: dict[str, str], fault: bool
    ) -> Answer:
        emu = self.emulator
        xml = _wants_xml(environ, query)
        key = _api_key(environ, query)
        if key is None or key not in (emu.api_key, emu.read_only_key):
            message = "Invalid API Key" if key else "API key is missing"
            return _error(403, "INVALID_REQUEST", message, xml)
        if not emu._take_token():
            return _error(
                429, "PER_SECOND_THRESHOLD", "HTTP requests are more than allowed per second", xml
            )
        remaining = emu._take_budget()
        if remaining is None:
            message = "Daily API Request Threshold has been reached."
            answer = _error(429, "DAILY_THRESHOLD", message, xml)
            answer.headers.append(("X-Exl-Api-Remaining", "0"))
            return answer
        answer = self._dispatch(environ, method, path, query, key, fault, xml)
        answer.headers.append(("X-Exl-Api-Remaining", str(remaining)))
        return answer

    def _dispatch(
        self,
        environ: WSGIEnvironment,
        method: str,
        path: str,
        query: dict[str, str],
        key: str,
        fault: bool,
        xml: bool,
    ) -> Answer:
        emu = self.emulator
        match = _ROUTER.match(method, path)
        if match is None:
            return _error(400, "ROUTING_ERROR", f"No API matches {method} {path}.", xml)
        route, params = match
        if method in WRITE_METHODS and key == emu.read_only_key and key != emu.api_key:
            return Answer(400, error_xml("UNAUTHORIZED", UNAUTHORIZED_MESSAGE), XML_TYPE, [])
        if fault:
            return _error(
                500, "GENERAL_ERROR", "A general error has occurred. Please try again later.", xml
            )
        ctx = Ctx(
            store=emu.store,
            method=method,
            params=params,
            args=query,
            api_base=self._api_base(environ),
            raw_body=self._body(environ) if method in WRITE_METHODS else b"",
            content_type=environ.get("CONTENT_TYPE", "").lower(),
            job_step_seconds=emu.job_step_seconds,
            clock=emu.clock,
        )
        try:
            with emu.store.lock:
                reply = route.handler(ctx)
        except AlmaError as exc:
            return _error(exc.status, exc.code, exc.message, xml)
        except Exception as exc:  # a bug in the emulator: answer as Alma's 500 and say why
            log.exception("emulator handler failed for %s %s", method, path)
            return _error(500, "GENERAL_ERROR", f"Emulator error: {type(exc).__name__}: {exc}", xml)
        if method in WRITE_METHODS and path.rstrip("/") not in NOT_COUNTED_AS_WRITES:
            emu._count_write()
        return _render(reply, xml, emu.bare_singletons)

    @staticmethod
    def _api_base(environ: WSGIEnvironment) -> str:
        host = (
            environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        )
        return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{API_PREFIX}"

    @staticmethod
    def _body(environ: WSGIEnvironment) -> bytes:
        if _BODY not in environ:
            environ[_BODY] = get_input_stream(environ, max_content_length=MAX_BODY).read()
        data: bytes = environ[_BODY]
        return data

    def _record(self, method: str, path: str, query: dict[str, str], status: int,
                environ: WSGIEnvironment | None = None, arrived: float = 0.0) -> None:
        shown = {k: ("***" if k.lower() == "apikey" else v) for k, v in query.items()}
        body = environ.get(_BODY, b"") if environ is not None else b""
        self.emulator._record(RecordedRequest(method, path, shown, status, body, arrived,
                                              time.monotonic()))

    @staticmethod
    def _drop(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Close the connection without an answer (the client sees a connection error)."""
        sock: Any = environ.get("werkzeug.socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return [b""]
