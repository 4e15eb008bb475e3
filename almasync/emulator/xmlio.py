"""XML on the wire: a mechanical mirror of the JSON shapes, and parsing of XML bodies.

JSON -> XML follows Alma's correspondence in reverse (FACTS section 2.0): ``{"value", "desc",
"link"}`` becomes element text with ``desc``/``link`` attributes, a top-level ``link`` becomes
an attribute of the root, and a list under key ``k`` becomes ``<ks><k/>...</ks>``.
XML -> JSON drops the root element and flattens ``<ks><k/></ks>`` wrappers back to
``"k": [...]`` (except ``<members>``, whose JSON keeps the wrapper).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from almasync.emulator.errors import AlmaError

_ATTRS = frozenset({"desc", "link"})
_KEPT_WRAPPERS = frozenset({"members"})


def plural(key: str) -> str:
    return key if key.endswith("s") else key + "s"


def to_xml(root: str, body: dict[str, Any]) -> bytes:
    """Serialise a JSON body under ``root``; envelopes carry ``total_record_count``."""
    element = ET.Element(root)
    for key, value in body.items():
        if key in ("link", "total_record_count") and not isinstance(value, (dict, list)):
            element.set(key, str(value))
        else:
            _add(element, key, value)
    payload: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + payload


def _add(parent: ET.Element, key: str, value: Any) -> None:
    if isinstance(value, list):
        holder = parent if parent.tag == plural(key) else ET.SubElement(parent, plural(key))
        for item in value:
            _fill(ET.SubElement(holder, key), item)
        return
    _fill(ET.SubElement(parent, key), value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        if "value" in value and set(value) <= {"value"} | _ATTRS:
            for attr in _ATTRS:
                if value.get(attr) is not None:
                    element.set(attr, _scalar(value[attr]))
            element.text = _scalar(value["value"])
            return
        for key, item in value.items():
            if key == "link" and not isinstance(item, (dict, list)):
                element.set("link", str(item))
            else:
                _add(element, key, item)
        return
    element.text = _scalar(value)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_xml(raw: bytes) -> tuple[str, dict[str, Any]]:
    """Parse an XML body safely; returns the root tag and its content as JSON-like data."""
    try:
        root = SafeET.fromstring(raw)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise AlmaError(
            "402119", f"General error: the XML body could not be parsed ({exc})."
        ) from None
    content = _element_value(root)
    return _local(root.tag), content if isinstance(content, dict) else {}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _element_value(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    result: dict[str, Any] = {}
    for child in children:
        tag = _local(child.tag)
        grand = list(child)
        inner = {_local(g.tag) for g in grand}
        if grand and len(inner) == 1 and plural(next(iter(inner))) == tag:
            items = [_element_value(g) for g in grand]
            item_tag = next(iter(inner))
            if tag in _KEPT_WRAPPERS:
                result[tag] = {item_tag: items}
            else:
                result[item_tag] = items
            continue
        value = _element_value(child)
        if tag in result:
            existing = result[tag]
            result[tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[tag] = value
    return result
