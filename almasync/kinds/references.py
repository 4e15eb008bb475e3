"""Alma's read-only reference data, fetched once per run and shared by kinds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from almasync.alma.client import AlmaClient


class References:
    """Lazily read, cached lookups of read-only configuration (libraries, general...)."""

    def __init__(self, client: AlmaClient) -> None:
        self._client = client
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _cached(self, name: str, load: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._cache:
                self._cache[name] = load()
            return self._cache[name]

    def libraries(self) -> dict[str, dict[str, Any]]:
        """Library code -> Alma's library object."""
        def load() -> dict[str, dict[str, Any]]:
            return {lib["code"]: lib for lib in self._client.get_list("/conf/libraries", "library")}
        result: dict[str, dict[str, Any]] = self._cached("libraries", load)
        return result

    def general(self) -> dict[str, Any]:
        result: dict[str, Any] = self._cached("general", lambda: self._client.get("/conf/general"))
        return result
