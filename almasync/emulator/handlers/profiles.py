"""Integration profiles (CRUD), deposit profiles and metadata import profiles (read-only)."""

from __future__ import annotations

import re

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.render import PARAM_INVALID, JsonDict, envelope, paged, seg, text, vd
from almasync.emulator.routing import Route
from almasync.emulator.store import Record, Store

INVALID_ID = "60304"
MISSING = "401664"
_QUERY = re.compile(r"^(name|created_by|code|description)~(.+)$")
_OWN_FIELDS = ("id", "code", "description", "type", "parameter", "link")


def integration_types(store: Store) -> dict[str, str]:
    """Valid profile types (and their labels): the institution's IntegrationTypes code
    table, or built-in codes when the seed has no such table."""
    table = store.code_tables.get("IntegrationTypes")
    if table is None:
        return dict(labels.INTEGRATION_TYPES)
    return {r["code"]: r["description"] for r in table.get("rows", []) if r.get("enabled", True)}


def profile_json(ctx: Ctx, rec: Record) -> JsonDict:
    body: JsonDict = {
        "id": rec["id"],
        "code": rec["code"],
        "description": rec.get("description", ""),
        "type": vd(rec["type"], integration_types(ctx.store)),
    }
    if rec.get("parameter"):
        body["parameter"] = [dict(p) for p in rec["parameter"]]
    body.update(rec.get("extra", {}))
    body["link"] = ctx.link(f"/conf/integration-profiles/{rec['id']}")
    return body


def parse_parameters(value: object, strict: bool = True) -> list[JsonDict]:
    """Alma's flat ``parameter`` list (one object is read as a list of one). Each entry is
    identified by its action and its name: an entry without either, or two entries with the
    same pair, is refused. ``action`` and ``name`` are stored as ``{"value": X}``; every
    other key of an entry (``value`` above all) is kept exactly as given. Not ``strict``
    (seeds standing for an institution that deviates), such entries are kept as given."""
    if value is None:
        return []
    entries = value if isinstance(value, list) else [value]
    out: list[JsonDict] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise AlmaError(PARAM_INVALID, f"Parameter value invalid: parameter[{index}].")
        action, name = text(entry.get("action")).strip(), text(entry.get("name")).strip()
        missing = [field_name for field_name, found in (("action", action), ("name", name))
                   if not found]
        if missing or (action, name) in seen:
            if not strict:
                out.append(dict(entry))
                continue
            if missing:
                raise AlmaError(MISSING, f"Mandatory field is missing: parameter[{index}]."
                                f"{missing[0]}")
            raise AlmaError(PARAM_INVALID, f"Parameter value invalid: parameter {name} of "
                            f"action {action} is given twice.")
        seen.add((action, name))
        out.append({**entry, "action": {"value": action}, "name": {"value": name}})
    return out


def parse_profile(store: Store, body: JsonDict, own_id: str | None,
                  strict: bool = True) -> Record:
    """Validate code, type and parameters (see :func:`parse_parameters` for ``strict``);
    every other field is kept exactly as given."""
    code, type_ = text(body.get("code")).strip(), text(body.get("type")).strip()
    for field_name, value in (("code", code), ("type", type_)):
        if not value:
            raise AlmaError(MISSING, f"Mandatory field is missing: {field_name}")
    if type_ not in integration_types(store):
        raise AlmaError("40166404", f"Invalid type: {type_}.")
    if any(p["code"] == code and p["id"] != own_id for p in store.integration_profiles.values()):
        raise AlmaError(
            "402119", f"General error: an integration profile with code '{code}' exists."
        )
    extra = {k: v for k, v in body.items() if k not in _OWN_FIELDS}
    return {
        "code": code,
        "description": text(body.get("description")),
        "type": type_,
        "parameter": parse_parameters(body.get("parameter"), strict),
        "extra": extra,
    }


def _find(ctx: Ctx) -> Record:
    rec = ctx.store.integration_profiles.get(ctx.params["id"])
    if rec is None:
        raise AlmaError(INVALID_ID, f"Invalid profile ID: {ctx.params['id']}.")
    return rec


def list_profiles(ctx: Ctx) -> Reply:
    type_ = ctx.arg("type")
    if type_ and type_ not in integration_types(ctx.store):
        raise AlmaError("40166404", f"Invalid type: {type_}.")
    terms = []
    for part in filter(None, ctx.arg("q").split(" AND ")):
        match = _QUERY.match(part.strip())
        if not match:
            raise AlmaError("40166410", f"Parameter value invalid: q={ctx.arg('q')!r}.")
        terms.append(match.group(2).replace("_", " ").lower())
    items = [
        p
        for p in ctx.store.integration_profiles.values()
        if (not type_ or p["type"] == type_)
        and all(t in f"{p['code']} {p.get('description', '')}".lower() for t in terms)
    ]
    return Reply(
        paged("integration_profile", items, ctx.args, lambda p: profile_json(ctx, p)),
        root="integration_profiles",
    )


def get_profile(ctx: Ctx) -> Reply:
    return Reply(profile_json(ctx, _find(ctx)), root="integration_profile")


def create_profile(ctx: Ctx) -> Reply:
    rec = parse_profile(ctx.store, ctx.body(), None)
    rec["id"] = ctx.store.new_id()
    ctx.store.integration_profiles[rec["id"]] = rec
    return Reply(profile_json(ctx, rec), root="integration_profile")


def update_profile(ctx: Ctx) -> Reply:
    current = _find(ctx)
    rec = parse_profile(ctx.store, ctx.body(), current["id"])
    rec["id"] = current["id"]
    ctx.store.integration_profiles[rec["id"]] = rec
    return Reply(profile_json(ctx, rec), root="integration_profile")


def delete_profile(ctx: Ctx) -> Reply:
    del ctx.store.integration_profiles[_find(ctx)["id"]]
    return Reply(status=204)


def _deposit_json(ctx: Ctx, rec: Record) -> JsonDict:
    return {
        "id": rec["id"],
        "code": rec.get("code", ""),
        "name": rec.get("name", ""),
        "description": rec.get("description", ""),
        "status": vd(rec.get("status", "ACTIVE"), labels.SET_STATUSES),
        "user_group": [vd(g) for g in rec.get("user_groups", [])],
        "link": ctx.link(f"/conf/deposit-profiles/{seg(rec['id'])}"),
    }


def list_deposit_profiles(ctx: Ctx) -> Reply:
    group = ctx.arg("user_group")
    items = [
        _deposit_json(ctx, r)
        for r in ctx.store.deposit_profiles.values()
        if not group or group in r.get("user_groups", [])
    ]
    return Reply(paged("deposit_profile", items, ctx.args), root="deposit_profiles")


def get_deposit_profile(ctx: Ctx) -> Reply:
    rec = ctx.store.deposit_profiles.get(ctx.params["deposit_profile_id"])
    if rec is None:
        raise AlmaError(
            "401871", f"Failed to find the Profile ID: {ctx.params['deposit_profile_id']}."
        )
    return Reply(_deposit_json(ctx, rec), root="deposit_profile")


def import_profile_json(ctx: Ctx, rec: Record) -> JsonDict:
    return {
        "id": rec["id"],
        "name": rec.get("name", ""),
        "description": rec.get("description", ""),
        "type": vd(rec.get("type", "REPOSITORY"), desc=rec.get("type_desc")),
        "ie_type": vd(rec.get("ie_type", ""), desc=rec.get("ie_type") or None),
        "status": vd(rec.get("status", "ACTIVE"), labels.SET_STATUSES),
        "originating_system": rec.get("originating_system", ""),
        "link": ctx.link(f"/conf/md-import-profiles/{seg(rec['id'])}"),
    }


def list_import_profiles(ctx: Ctx) -> Reply:
    type_, ie_type = ctx.arg("type"), ctx.arg("ie_type", "ALL")
    known = {r.get("type", "REPOSITORY") for r in ctx.store.import_profiles.values()}
    if type_ and type_ not in known | {"REPOSITORY", "DIGITAL", "UPDATE_INVENTORY", "AUTHORITY"}:
        raise AlmaError("402123", f"Invalid parameter value: type={type_}.")
    items = [
        import_profile_json(ctx, r)
        for r in ctx.store.import_profiles.values()
        if (not type_ or r.get("type", "REPOSITORY") == type_)
        and (ie_type == "ALL" or r.get("ie_type", "") == ie_type)
    ]
    return Reply(envelope("import_profile", items), root="import_profiles")


def _find_import(ctx: Ctx) -> Record:
    rec = ctx.store.import_profiles.get(ctx.params["profile_id"])
    if rec is None:
        raise AlmaError("401871", f"Failed to find the Profile ID: {ctx.params['profile_id']}.")
    return rec


def get_import_profile(ctx: Ctx) -> Reply:
    return Reply(import_profile_json(ctx, _find_import(ctx)), root="import_profile")


def run_import_profile(ctx: Ctx) -> Reply:
    """The deprecated ``op=run``: accepted and answered with the profile, nothing else runs."""
    rec = _find_import(ctx)
    if ctx.arg("op") != "run":
        raise AlmaError("401664", f"Parameter value missing or invalid: op={ctx.arg('op')!r}.")
    return Reply(import_profile_json(ctx, rec), root="import_profile")


ROUTES = [
    Route("GET", "/conf/integration-profiles", list_profiles),
    Route("POST", "/conf/integration-profiles", create_profile),
    Route("GET", "/conf/integration-profiles/{id}", get_profile),
    Route("PUT", "/conf/integration-profiles/{id}", update_profile),
    Route("DELETE", "/conf/integration-profiles/{id}", delete_profile),
    Route("GET", "/conf/deposit-profiles", list_deposit_profiles),
    Route("GET", "/conf/deposit-profiles/{deposit_profile_id}", get_deposit_profile),
    Route("GET", "/conf/md-import-profiles", list_import_profiles),
    Route("GET", "/conf/md-import-profiles/{profile_id}", get_import_profile),
    Route("POST", "/conf/md-import-profiles/{profile_id}", run_import_profile),
]
