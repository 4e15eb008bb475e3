"""Recorded responses on disk: one JSON file per GET, by kind.

Layout: ``DIR/<kind>/<call>.json``, where ``<kind>`` names what the call was read for
(``locations``, ``sets``, ``general``...) and each file holds
``{"method", "path", "params", "status", "headers", "body"}``. The test suite replays every
folder under ``tests/captures/`` (one per institution) with
:class:`almasync.emulator.replay.Replay`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from almasync.doctor.client import Exchange

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(exchange: Exchange) -> str:
    """A readable, unique name for one call: path and query, with a short digest."""
    query = "&".join(f"{k}={v}" for k, v in sorted(exchange.params.items()))
    text = exchange.path.removeprefix("/conf/") + ("_" + query if query else "")
    readable = _UNSAFE.sub("_", text).strip("_")[:80]
    digest = hashlib.sha256(f"{exchange.path}?{query}".encode()).hexdigest()[:8]
    return f"{readable}.{digest}.json"


def to_json(exchange: Exchange) -> dict[str, Any]:
    return {"method": exchange.method, "path": exchange.path, "params": dict(exchange.params),
            "status": exchange.status, "headers": dict(exchange.headers),
            "body": exchange.body}


def from_json(data: dict[str, Any]) -> Exchange:
    return Exchange(str(data.get("method", "GET")), str(data["path"]),
                    {str(k): str(v) for k, v in (data.get("params") or {}).items()},
                    data.get("body"), int(data.get("status", 200)),
                    {str(k): str(v) for k, v in (data.get("headers") or {}).items()})


def write(folder: Path, by_kind: Iterable[tuple[str, Exchange]]) -> list[Path]:
    """Write each (kind, call) under ``folder``; returns the files written."""
    written = []
    for kind, exchange in by_kind:
        path = folder / kind / file_name(exchange)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(to_json(exchange), indent=1, sort_keys=True,
                                   ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def read(folder: Path) -> list[Exchange]:
    """Every recorded call under ``folder`` (any depth), in file-name order."""
    return [from_json(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(folder.rglob("*.json"))]
