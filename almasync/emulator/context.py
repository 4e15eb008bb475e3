"""What a handler receives (``Ctx``) and what it returns (``Reply``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from almasync.emulator.errors import AlmaError
from almasync.emulator.store import Store
from almasync.emulator.xmlio import parse_xml

JsonDict = dict[str, Any]


@dataclass
class Reply:
    """A successful answer: a JSON body (rendered as XML on request) or raw bytes."""

    body: JsonDict | None = None
    root: str = "result"
    status: int = 200
    raw: bytes | None = None
    content_type: str | None = None
    xml: bytes | None = None


@dataclass
class Ctx:
    """One request as a handler sees it; ``params`` are the path parameters."""

    store: Store
    method: str
    params: dict[str, str]
    args: Mapping[str, str]
    api_base: str
    raw_body: bytes = b""
    content_type: str = ""
    job_step_seconds: float = 0.2
    clock: Callable[[], float] = time.time
    _body: JsonDict | None = field(default=None, repr=False)

    def link(self, path: str) -> str:
        """Absolute link to ``path`` (which starts with ``/conf/...``)."""
        return self.api_base + path

    def arg(self, name: str, default: str = "") -> str:
        return self.args.get(name, default) or default

    @property
    def body_is_xml(self) -> bool:
        if "xml" in self.content_type:
            return True
        if "json" in self.content_type:
            return False
        return self.raw_body.lstrip().startswith(b"<")

    def body(self) -> JsonDict:
        """The request body as JSON-like data, whether it came as JSON or XML."""
        if self._body is None:
            self._body = self._parse_body()
        return self._body

    def _parse_body(self) -> JsonDict:
        raw = self.raw_body.strip()
        if not raw:
            return {}
        if self.body_is_xml:
            return parse_xml(raw)[1]
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise AlmaError(
                "402119", "General error: the request body could not be parsed as JSON."
            ) from None
        if not isinstance(value, dict):
            raise AlmaError("402119", "General error: the request body must be a JSON object.")
        return value
