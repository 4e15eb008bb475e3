"""Alma's read-only reference data, fetched once per run and shared by kinds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from almasync.alma.client import AlmaClient
from almasync.alma.payload import as_list
from almasync.errors import AlmaError, ExitCode


class References:
    """Lazily read, cached lookups of read-only configuration (libraries, general...)."""

    def __init__(self, client: AlmaClient) -> None:
        self._client = client
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self._failed: dict[str, Exception] = {}

    @property
    def client(self) -> AlmaClient:
        """The run's (read-only during plan) client, for kinds' own reference reads."""
        return self._client

    def cached(self, name: str, load: Callable[[], Any]) -> Any:
        """``load()`` once per run under ``name``; kinds use it for their own lookups.

        Kinds are read concurrently: each name has its own lock, so one slow lookup never
        holds up another, and a loader may itself use other names.
        """
        with self._lock:
            if name in self._cache:
                return self._cache[name]
            lock = self._loading.setdefault(name, threading.Lock())
        with lock:
            if name in self._failed:
                # A lookup that failed once fails for every waiter: a hung gateway costs
                # one timeout per name, not one per thread that wanted it.
                raise self._failed[name]
            if name not in self._cache:
                try:
                    value = load()
                except Exception as exc:
                    self._failed[name] = exc
                    raise
                with self._lock:
                    self._cache[name] = value
            return self._cache[name]

    def libraries(self) -> dict[str, dict[str, Any]]:
        """Library code -> Alma's library object."""
        def load() -> dict[str, dict[str, Any]]:
            return {lib["code"]: lib for lib in self._client.get_list("/conf/libraries", "library")}
        result: dict[str, dict[str, Any]] = self.cached("libraries", load)
        return result

    def general(self) -> dict[str, Any]:
        result: dict[str, Any] = self.cached("general", lambda: self._client.get("/conf/general"))
        return result

    def code_table_codes(self, name: str) -> frozenset[str] | None:
        """The codes of an institution code table, or None when Alma has no such table."""
        def load() -> frozenset[str] | None:
            try:
                table = self._client.get(f"/conf/code-tables/{quote(name, safe='')}")
            except AlmaError as exc:
                if exc.status == 400 and exc.code == "90101":
                    return None
                raise
            return frozenset(str(row.get("code")) for row in as_list(table.get("row")))
        result: frozenset[str] | None = self.cached(f"code_table:{name}", load)
        return result

    def known_codes(self, name: str) -> frozenset[str] | None:
        """The codes a coded field may take, from the institution code table ``name``, for
        checks at plan time; None when there is nothing to check against: Alma has no such
        table, or this key may not read it (Alma still validates the value on apply).
        An unreachable Alma is not "nothing to check": it stops the run."""
        try:
            return self.code_table_codes(name)
        except AlmaError as exc:
            if exc.exit_code is ExitCode.UNAVAILABLE:
                raise
            return None
