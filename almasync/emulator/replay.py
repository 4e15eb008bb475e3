"""``Replay``: serve recorded Alma responses (``almasync doctor --record``) on loopback.

A replay answers each GET with the response recorded for its path and query (``limit`` and
``offset`` aside: a page past the recorded entries is empty, as Alma's are). A set search
``q=name~words``, or a reminder list for one ``entity_id``, that was not recorded is
answered from the recorded list without that parameter. Anything
else, and every write, is refused with an Alma-shaped error naming the call, so a test that
reads more than was recorded fails saying what is missing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from almasync.doctor.captures import read
from almasync.doctor.client import Exchange

API_PREFIX = "/almaws/v1"
DEFAULT_KEY = "replay-key"
#: The error code of a call the replay has no recording of.
NOT_RECORDED = "REPLAY_NOT_RECORDED"
_PAGING = ("limit", "offset")


def _key(path: str, params: Mapping[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return path.rstrip("/"), tuple(sorted((k, v) for k, v in params.items()
                                          if k not in _PAGING))


def _error(status: int, code: str, message: str) -> Response:
    body = {"errorsExist": True, "errorList": {"error": [
        {"errorCode": code, "errorMessage": message, "trackingId": "replay"}]}, "result": None}
    return Response(json.dumps(body), status, content_type="application/json;charset=UTF-8")


def _answer(body: Any, status: int, headers: Mapping[str, str]) -> Response:
    """A JSON answer with the recorded headers (the quota left, above all)."""
    response = Response(json.dumps(body), status,
                        content_type="application/json;charset=UTF-8")
    for name, value in headers.items():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _list_key(body: Mapping[str, Any]) -> str | None:
    return next((k for k, v in body.items() if isinstance(v, list | dict) and k != "link"
                 and "total_record_count" in body), None)


def _page(body: Any, offset: int) -> Any:
    """The page at ``offset`` of a recorded list body (the whole body at offset 0)."""
    if offset <= 0 or not isinstance(body, dict):
        return body
    key = _list_key(body)
    if key is None:
        return body
    entries = body[key] if isinstance(body[key], list) else [body[key]]
    rest = entries[offset:]
    out = {k: v for k, v in body.items() if k != key}
    return {**out, key: rest} if rest else out


def _name_matches(entry: Mapping[str, Any], value: str) -> bool:
    """Alma's ``q=name~words``: every word (``_`` separates words) in the name."""
    words = [w for w in value.removeprefix("name~").replace("_", " ").lower().split() if w]
    return all(w in str(entry.get("name", "")).lower() for w in words)


def _entity_matches(entry: Mapping[str, Any], value: str) -> bool:
    entity = entry.get("entity")
    return isinstance(entity, Mapping) and str(entity.get("entity_id")) == value


#: Query parameters a replay can answer from a recorded list without them: the parameter,
#: and whether a list entry matches its value.
FILTERS = {"q": _name_matches, "entity_id": _entity_matches}


def _filtered(body: Any, name: str, value: str) -> Any:
    key = _list_key(body) if isinstance(body, dict) else None
    if key is None:
        return body
    entries = body[key] if isinstance(body[key], list) else [body[key]]
    hits = [e for e in entries if isinstance(e, Mapping) and FILTERS[name](e, value)]
    out = {k: v for k, v in body.items() if k != key} | {"total_record_count": len(hits)}
    return {key: hits, **out} if hits else out


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class Replay:
    """Recorded calls behind a loopback HTTP server; use as a context manager."""

    def __init__(self, exchanges: Iterable[Exchange], api_key: str = DEFAULT_KEY) -> None:
        self.api_key = api_key
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self._recorded = {_key(e.path, e.params): e for e in exchanges if e.method == "GET"}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: Path, api_key: str = DEFAULT_KEY) -> Replay:
        return cls(read(folder), api_key)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the replay is not running")
        return f"http://127.0.0.1:{self._server.port}"

    def start(self) -> Replay:
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True,
                                   request_handler=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="alma-replay")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            if self._thread is not None:
                self._thread.join()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Replay:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        params = {k: v for k, v in request.args.items()}
        path = request.path.removeprefix(API_PREFIX)
        with self._lock:
            self.calls.append((request.method, path, params))
        if request.headers.get("Authorization") != f"apikey {self.api_key}":
            return _error(400, "UNAUTHORIZED", "API-key not defined or not configured to "
                          "allow this API.")
        if request.method != "GET":
            return _error(400, "REPLAY_READ_ONLY", f"a replay of recorded responses is "
                          f"read-only; refused {request.method} {path}")
        found = self._recorded.get(_key(path, params))
        filters = [name for name in FILTERS if name in params]
        if found is None and filters:
            listing = self._recorded.get(_key(path, {k: v for k, v in params.items()
                                                     if k not in filters}))
            if listing is not None and listing.status == 200:
                body = listing.body
                for name in filters:
                    body = _filtered(body, name, params[name])
                return _answer(body, 200, listing.headers)
        if found is None:
            query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
            return _error(400, NOT_RECORDED, f"not recorded: GET {path}"
                          + (f"?{query}" if query else ""))
        try:
            offset = int(params.get("offset", "0"))
        except ValueError:
            offset = 0
        body = _page(found.body, offset) if found.status == 200 else found.body
        return _answer(body, found.status, found.headers)
