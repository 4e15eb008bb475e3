"""Alma error bodies: the one place that renders them (JSON envelope and XML)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from xml.sax.saxutils import escape

XML_NAMESPACE = "http://com/exlibris/urm/general/xmlbeans"

_counter = itertools.count(1)
_counter_lock = threading.Lock()


class AlmaError(Exception):
    """An error answered the way Alma answers it: an HTTP status plus an Alma code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def tracking_id() -> str:
    """A tracking id shaped like Alma's (``E01-DDMMHHMMSS-XXXXX-AWAE<n>``)."""
    with _counter_lock:
        n = next(_counter)
    stamp = time.strftime("%d%m%H%M%S", time.gmtime())
    letters = "".join(chr(ord("A") + (n // 26**i) % 26) for i in range(5))
    return f"E01-{stamp}-{letters}-AWAE{1_000_000_000 + n}"


def error_document(code: str, message: str, with_tracking: bool = True) -> dict[str, object]:
    """The JSON error envelope (FACTS section 5.1)."""
    error: dict[str, str] = {"errorCode": code, "errorMessage": message}
    if with_tracking:
        error["trackingId"] = tracking_id()
    return {"errorsExist": True, "errorList": {"error": [error]}, "result": None}


def error_json(code: str, message: str, with_tracking: bool = True) -> bytes:
    return json.dumps(error_document(code, message, with_tracking)).encode("utf-8")


def error_xml(code: str, message: str, with_tracking: bool = True) -> bytes:
    """The XML ``web_service_result`` error body in Alma's namespace."""
    tracking = f"<trackingId>{tracking_id()}</trackingId>" if with_tracking else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<web_service_result xmlns="{XML_NAMESPACE}">'
        "<errorsExist>true</errorsExist><errorList><error>"
        f"<errorCode>{escape(code)}</errorCode>"
        f"<errorMessage>{escape(message)}</errorMessage>"
        f"{tracking}</error></errorList></web_service_result>"
    ).encode()
