"""License terms: full CRUD keyed by code (FACTS section 2.11)."""

from __future__ import annotations

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.render import JsonDict, envelope, seg, text, vd
from almasync.emulator.routing import Route
from almasync.emulator.store import Record

DEFAULT_TYPE = "USAGE"
DEFAULT_VALUE_TYPE = "PERMITTED_PROHIBITED"


def term_json(ctx: Ctx, term: Record) -> JsonDict:
    return {
        "code": term["code"],
        "name": term["name"],
        "description": term.get("description", ""),
        "type": vd(term.get("type", DEFAULT_TYPE), labels.LICENSE_TERM_TYPES),
        "value_type": vd(term.get("value_type", DEFAULT_VALUE_TYPE), labels.LICENSE_VALUE_TYPES),
        "link": ctx.link(f"/conf/license-terms/{seg(term['code'])}"),
    }


def parse_term(body: JsonDict) -> Record:
    code, name = text(body.get("code")).strip(), text(body.get("name")).strip()
    for field_name, value in (("code", code), ("name", name)):
        if not value:
            raise AlmaError("500021", f"Mandatory field is missing: {field_name}.")
    type_ = text(body.get("type")) or DEFAULT_TYPE
    value_type = text(body.get("value_type")) or DEFAULT_VALUE_TYPE
    if type_ not in labels.LICENSE_TERM_TYPES:
        raise AlmaError("60195", f"License term codes not valid: type {type_}.")
    if value_type not in labels.LICENSE_VALUE_TYPES:
        raise AlmaError("60195", f"License term codes not valid: value_type {value_type}.")
    return {
        "code": code,
        "name": name,
        "description": text(body.get("description")),
        "type": type_,
        "value_type": value_type,
    }


def _find(ctx: Ctx) -> Record:
    code = ctx.params["license_term_code"]
    term = ctx.store.license_terms.get(code)
    if term is None:
        raise AlmaError("403400", f"License with code {code} not found.")
    return term


def list_terms(ctx: Ctx) -> Reply:
    items = [term_json(ctx, t) for t in ctx.store.license_terms.values()]
    return Reply(envelope("license_term", items), root="license_terms")


def get_term(ctx: Ctx) -> Reply:
    return Reply(term_json(ctx, _find(ctx)), root="license_term")


def create_term(ctx: Ctx) -> Reply:
    term = parse_term(ctx.body())
    if term["code"] in ctx.store.license_terms:
        raise AlmaError("60198", f"License code not unique: {term['code']}.")
    ctx.store.license_terms[term["code"]] = term
    return Reply(term_json(ctx, term), root="license_term")


def update_term(ctx: Ctx) -> Reply:
    current = _find(ctx)
    body = ctx.body()
    term = parse_term({**body, "code": body.get("code") or current["code"]})
    if term["code"] != current["code"]:
        if term["code"] in ctx.store.license_terms:
            raise AlmaError("60198", f"License code not unique: {term['code']}.")
        del ctx.store.license_terms[current["code"]]
    ctx.store.license_terms[term["code"]] = term
    return Reply(term_json(ctx, term), root="license_term")


def delete_term(ctx: Ctx) -> Reply:
    del ctx.store.license_terms[_find(ctx)["code"]]
    return Reply(status=204)


ROUTES = [
    Route("GET", "/conf/license-terms", list_terms),
    Route("POST", "/conf/license-terms", create_term),
    Route("GET", "/conf/license-terms/{license_term_code}", get_term),
    Route("PUT", "/conf/license-terms/{license_term_code}", update_term),
    Route("DELETE", "/conf/license-terms/{license_term_code}", delete_term),
]
