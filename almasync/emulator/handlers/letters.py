"""Letters: list without XSL, GET with XSL, PUT in XML only (FACTS sections 2.10 and 4).

As FACTS section 8 reports: flags are the strings ``"true"``/``"false"``, component codes
end in ``.xsl`` (the seed refuses others), and the list may name a letter twice (a seed's
``listed_twice: true`` repeats that letter's entry).
"""

from __future__ import annotations

import datetime as dt

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.render import JsonDict, envelope, flag, seg, text, vbool_text
from almasync.emulator.routing import Route
from almasync.emulator.store import Record
from almasync.emulator.xmlio import parse_xml

LETTER_TYPES = ("LETTER", "COMPONENT")


def letter_json(ctx: Ctx, letter: Record, full: bool) -> JsonDict:
    code = letter["code"]
    labels_code = letter.get("labels") or code
    body: JsonDict = {
        "code": code,
        "name": letter.get("name", code),
        "description": letter.get("description", ""),
        "channel": letter.get("channel", "EMAIL"),
        "enabled": vbool_text(bool(letter.get("enabled", True)), labels.YES_NO),
        "customized": vbool_text(bool(letter.get("customized", False)), labels.YES_NO),
        "patron_facing": vbool_text(bool(letter.get("patron_facing", False)), labels.YES_NO),
        "retention_period": letter.get("retention_period", ""),
        "updated_by": letter.get("updated_by", ""),
        "update_date": letter.get("update_date", ""),
        "labels": {"value": labels_code, "link": ctx.link(f"/conf/code-tables/{seg(labels_code)}")},
    }
    if full:
        body["xsl"] = letter.get("xsl", "")
    body["link"] = ctx.link(f"/conf/letters/{seg(code)}")
    return body


def _find(ctx: Ctx) -> Record:
    code = ctx.params["letterCode"]
    letter = ctx.store.letters.get(code)
    if letter is None:
        raise AlmaError("40166411", f"Letter code is not valid: {code}.")
    return letter


def list_letters(ctx: Ctx) -> Reply:
    type_ = ctx.arg("type", "LETTER").upper()
    if type_ not in LETTER_TYPES:
        raise AlmaError(
            "40166410", f"Parameter value invalid: type={type_}. Use LETTER or COMPONENT."
        )
    items = [
        letter_json(ctx, letter, full=False)
        for letter in ctx.store.letters.values()
        if letter.get("type", "LETTER") == type_
        for _ in range(2 if letter.get("listed_twice") else 1)
    ]
    return Reply(envelope("letter", items), root="letters")


def get_letter(ctx: Ctx) -> Reply:
    return Reply(letter_json(ctx, _find(ctx), full=True), root="letter")


def put_letter(ctx: Ctx) -> Reply:
    """Replace the letter from an XML body; ``description`` is derived and stays as it is."""
    letter = _find(ctx)
    if not ctx.body_is_xml:
        raise AlmaError("60105", "JSON is not supported for this API.")
    root, body = parse_xml(ctx.raw_body)
    if root != "letter":
        raise AlmaError(
            "40166411", f"Letter code or other parameter is not valid: root element <{root}>."
        )
    xsl = body.get("xsl", letter.get("default_xsl", letter.get("xsl", "")))
    if not isinstance(xsl, str):
        raise AlmaError("60343", "The update failed: <xsl> must hold the template as text.")
    default_xsl = letter.get("default_xsl", letter.get("xsl", ""))
    letter.update(
        {
            "default_xsl": default_xsl,
            "xsl": xsl,
            "enabled": flag(body.get("enabled"), "enabled", True, "40166411"),
            "channel": text(body.get("channel")) or letter.get("default_channel", "EMAIL"),
            "retention_period": text(body.get("retention_period")),
            "customized": xsl != default_xsl,
            "updated_by": "exl_api",
            "update_date": dt.datetime.fromtimestamp(ctx.clock(), dt.UTC).date().isoformat() + "Z",
        }
    )
    return Reply(letter_json(ctx, letter, full=True), root="letter")


ROUTES = [
    Route("GET", "/conf/letters", list_letters),
    Route("GET", "/conf/letters/{letterCode}", get_letter),
    Route("PUT", "/conf/letters/{letterCode}", put_letter),
]
