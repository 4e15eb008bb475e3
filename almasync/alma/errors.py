"""Turn Alma error bodies (JSON, wrapped JSON, XML, text) into :class:`AlmaError`."""

from __future__ import annotations

import json
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from almasync.errors import AlmaAuthError, AlmaError, AlmaQuotaError

_NS = "{http://com/exlibris/urm/general/xmlbeans}"
_AUTH_CODES = frozenset({"UNAUTHORIZED", "INVALID_REQUEST", "FORBIDDEN"})
_QUOTA_CODES = frozenset({"DAILY_THRESHOLD", "PER_SECOND_THRESHOLD"})


def parse_error_body(content_type: str, body: bytes) -> tuple[str, str, str | None]:
    """Return Alma's (errorCode, errorMessage, trackingId) from any of its error envelopes.

    Alma sends ``{"errorList": {"error": [...]}}``, the same wrapped in ``web_service_result``
    (where ``error`` may be one object), or an XML ``web_service_result`` even when JSON was
    asked for. Anything else becomes code ``HTTP`` with the start of the body as message.
    """
    text = body.decode("utf-8", errors="replace").strip()
    if "json" in content_type or text.startswith("{"):
        found = _from_json(text)
        if found:
            return found
    if "xml" in content_type or text.startswith("<"):
        found = _from_xml(text)
        if found:
            return found
    return "HTTP", text[:200] or "(empty body)", None


def _from_json(text: str) -> tuple[str, str, str | None] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("web_service_result"), dict):
        data = data["web_service_result"]
    errors = (data.get("errorList") or {}).get("error")
    if isinstance(errors, dict):
        errors = [errors]
    if not errors or not isinstance(errors[0], dict):
        return None
    first: dict[str, Any] = errors[0]
    return (
        str(first.get("errorCode", "")),
        str(first.get("errorMessage", "")).strip(),
        first.get("trackingId"),
    )


def _from_xml(text: str) -> tuple[str, str, str | None] | None:
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, DefusedXmlException):
        return None
    error = root.find(f".//{_NS}error")
    if error is None:
        error = root.find(".//error")
    if error is None:
        return None

    def child(name: str) -> str | None:
        node = error.find(f"{_NS}{name}")
        if node is None:
            node = error.find(name)
        return node.text.strip() if node is not None and node.text else None

    return child("errorCode") or "", child("errorMessage") or "", child("trackingId")


def alma_error(status: int, content_type: str, body: bytes, method: str, path: str) -> AlmaError:
    """Build the right :class:`AlmaError` subclass for an error response."""
    code, message, tracking = parse_error_body(content_type, body)
    cls: type[AlmaError] = AlmaError
    if status in (401, 403) or code in _AUTH_CODES:
        cls = AlmaAuthError
        message += (
            " Check that ALMA_API_KEY holds a key with the Configuration area for this"
            " environment, and that ALMA_API_URL is the API gateway of your region."
        )
    elif code in _QUOTA_CODES:
        cls = AlmaQuotaError
    return cls(status, code, message, tracking, method, path)
