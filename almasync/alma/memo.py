"""The run-scoped memory of GET answers behind :meth:`AlmaClient.memo`.

A key is the path and its sorted parameters. Concurrent identical GETs share one call (the
second waits for the first); a failed call is not remembered. Writing to a path forgets the
path, its parent (the list that holds it) and its descendants, except that a POST that
created a resource in a collection leaves the collection's other members; the lists further
up list other resources (writing a location does not change the list of libraries).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

Key = tuple[str, tuple[tuple[str, str], ...]]
API_PREFIX = "/almaws/v1"


def memo_key(path: str, params: Mapping[str, Any] | None) -> Key:
    return path.rstrip("/"), tuple(sorted((str(k), str(v)) for k, v in (params or {}).items()))


def _related(written: str, held: str, descendants: bool) -> bool:
    """Whether a write to ``written`` may change what a GET of ``held`` answers."""
    return (held == written or held == written.rpartition("/")[0]
            or (descendants and held.startswith(written + "/")))


def created_under(path: str, method: str, answer: Any) -> str | None:
    """The path of the resource a POST to the collection ``path`` created (its answer's
    ``link`` lies below the path, FACTS section 2), else None."""
    if method != "POST" or not isinstance(answer, dict):
        return None
    base = path.rstrip("/") + "/"
    link = str(answer.get("link") or "")
    at = link.find(API_PREFIX + base)
    return link[at + len(API_PREFIX):] if at >= 0 else None


class Memo:
    def __init__(self) -> None:
        self._answers: dict[Key, Any] = {}
        self._loading: dict[Key, threading.Lock] = {}
        self._lock = threading.Lock()
        #: Calls in flight -> whether a write that may change their answer went out meanwhile.
        self._stale: dict[Key, bool] = {}

    def get(self, path: str, params: Mapping[str, Any] | None, call: Callable[[], Any]) -> Any:
        key = memo_key(path, params)
        with self._lock:
            if key in self._answers:
                return self._answers[key]
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._answers:
                    return self._answers[key]
                self._stale[key] = False
            try:
                answer = call()
            except BaseException:
                with self._lock:
                    del self._stale[key]
                raise
            with self._lock:
                # A write to this path, its parent or above it that went out meanwhile may
                # have changed the answer: not remembered. Other writes leave it be.
                if not self._stale.pop(key):
                    self._answers[key] = answer
            return answer

    def drop(self, path: str, *, descendants: bool = False) -> None:
        """Forget ``path`` and its parent, and with ``descendants`` what lies below it."""
        written = path.rstrip("/")
        with self._lock:
            for key in [k for k in self._answers if _related(written, k[0], descendants)]:
                del self._answers[key]
            for key in self._stale:
                if _related(written, key[0], descendants):
                    self._stale[key] = True

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            for key in self._stale:
                self._stale[key] = True
