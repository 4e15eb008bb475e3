"""A small router over werkzeug's Map: method + path template -> handler."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from almasync.emulator.context import Ctx, Reply

API_PREFIX = "/almaws/v1"

Handler = Callable[[Ctx], Reply]


@dataclass(frozen=True)
class Route:
    """One operation: ``path`` is relative to ``/almaws/v1`` with ``{name}`` parameters."""

    method: str
    path: str
    handler: Handler


class Router:
    """Matches a request path (trailing slash ignored) and method to a route."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: dict[str, Route] = {}
        rules = []
        for route in routes:
            endpoint = f"{route.method} {route.path}"
            self.routes[endpoint] = route
            template = re.sub(r"\{(\w+)\}", r"<\1>", API_PREFIX + route.path.rstrip("/"))
            rules.append(Rule(template, endpoint=endpoint, methods=[route.method]))
        self._adapter = Map(rules, strict_slashes=False, merge_slashes=False).bind("emulator")

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        if len(path) > 1:
            path = path.rstrip("/")
        try:
            endpoint, params = self._adapter.match(path, method=method)
        except HTTPException:
            return None
        return self.routes[str(endpoint)], {k: str(v) for k, v in params.items()}
