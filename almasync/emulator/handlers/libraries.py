"""Libraries, locations and circulation desks (``/conf/libraries/...``)."""

from __future__ import annotations

from typing import Any

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.render import (
    JsonDict,
    bool_text,
    envelope,
    flag,
    paged,
    seg,
    text,
    vd,
    vlink,
)
from almasync.emulator.routing import Route
from almasync.emulator.store import Record, Store

GENERAL = "402119"
MANDATORY = "401664"


def find_library(store: Store, code: str) -> Record:
    library = store.libraries.get(code)
    if library is None:
        raise AlmaError(GENERAL, f"General error: library code '{code}' is not valid.")
    return library


def _find_location(store: Store, library: str, code: str) -> Record:
    location = store.locations.get(library, {}).get(code)
    if location is None:
        raise AlmaError(
            GENERAL, f"General error: location '{code}' not found in library '{library}'."
        )
    return location


def _library_path(code: str) -> str:
    return f"/conf/libraries/{seg(code)}"


def library_json(ctx: Ctx, library: Record) -> JsonDict:
    store, code = ctx.store, library["code"]
    prefix = store.institution.get("network") or ""
    path = ".".join(p for p in (prefix, store.institution_code, code) if p)
    default_location = library.get("default_location", "")
    default_record = store.locations.get(code, {}).get(default_location)
    return {
        "code": code,
        "id": library["id"],
        "name": library["name"],
        "path": path,
        "description": library.get("description") or None,
        "resource_sharing": bool(library.get("resource_sharing", False)),
        "campus": vd(library.get("campus", ""), store.campuses),
        "proxy": library.get("proxy", ""),
        "default_location": vd(
            default_location, desc=default_record["name"] if default_record else None
        ),
        "number_of_locations": vlink(
            str(len(store.locations.get(code, {}))), ctx.link(_library_path(code) + "/locations")
        ),
        "number_of_circ_desks": vlink(
            str(len(store.circ_desks.get(code, {}))), ctx.link(_library_path(code) + "/circ-desks")
        ),
        "link": ctx.link(_library_path(code)),
    }


def list_libraries(ctx: Ctx) -> Reply:
    items = [library_json(ctx, lib) for lib in ctx.store.libraries.values()]
    return Reply(envelope("library", items), root="libraries")


def get_library(ctx: Ctx) -> Reply:
    library = find_library(ctx.store, ctx.params["libraryCode"])
    return Reply(library_json(ctx, library), root="library")


def _location_link(ctx: Ctx, library: str, code: str) -> str:
    return ctx.link(f"{_library_path(library)}/locations/{seg(code)}")


def location_brief(ctx: Ctx, library: str, loc: Record) -> JsonDict:
    """The list entry (the older capture in FACTS section 2.1 shows only these fields)."""
    return {
        "code": loc["code"],
        "name": loc["name"],
        "external_name": loc["external_name"],
        "type": vd(loc["type"], location_types(ctx.store)),
        "map": loc["map"],
        "remote_storage": loc["remote_storage"],
        "link": _location_link(ctx, library, loc["code"]),
    }


def location_json(ctx: Ctx, library: str, loc: Record) -> JsonDict:
    store = ctx.store
    body: JsonDict = {
        "code": loc["code"],
        "name": loc["name"],
        "external_name": loc["external_name"],
        "type": vd(loc["type"], location_types(store)),
        "remote_storage": loc["remote_storage"],
        "map": loc["map"],
        "suppress_from_publishing": bool_text(loc["suppress_from_publishing"]),
        "fulfillment_unit": vd(loc["fulfillment_unit"], store.fulfillment_units),
        "accession_placement": vd(loc["accession_placement"], labels.ACCESSION_PLACEMENTS),
        "call_number_type": vd(loc["call_number_type"], labels.CALL_NUMBER_TYPES),
    }
    desks = store.circ_desks.get(library, {})
    if loc.get("circ_desk"):
        body["circ_desk"] = [
            {
                "circ_desk_code": d["circ_desk_code"],
                "circ_desk_name": desks.get(d["circ_desk_code"], {}).get("name", ""),
                "check_in": d["check_in"],
                "check_out": d["check_out"],
                "reshelve": d["reshelve"],
                "link": ctx.link(f"{_library_path(library)}/circ-desks/{seg(d['circ_desk_code'])}"),
            }
            for d in loc["circ_desk"]
        ]
    body["link"] = _location_link(ctx, library, loc["code"])
    return body


def list_locations(ctx: Ctx) -> Reply:
    code = ctx.params["libraryCode"]
    find_library(ctx.store, code)
    items = [location_brief(ctx, code, loc) for loc in ctx.store.locations.get(code, {}).values()]
    return Reply(envelope("location", items), root="locations")


def get_location(ctx: Ctx) -> Reply:
    library = ctx.params["libraryCode"]
    find_library(ctx.store, library)
    loc = _find_location(ctx.store, library, ctx.params["locationCode"])
    return Reply(location_json(ctx, library, loc), root="location")


#: Alma's error for each coded field's invalid value (FACTS 2.1).
CODE_ERRORS = {
    "type": ("60297", "Location type is not valid"),
    "fulfillment_unit": ("60299", "Fulfillment unit is not valid"),
    "accession_placement": ("60300", "Accession placement is not valid"),
    "call_number_type": ("60301", "Call number type is not valid"),
}


def location_types(store: Store) -> dict[str, str]:
    """Code -> label of the valid location types: the institution's LocationTypes code
    table, or (a seed without that table) the three types FACTS names."""
    table = store.code_tables.get("LocationTypes")
    if table is None:
        return dict(labels.LOCATION_TYPES)
    return {str(row["code"]): str(row.get("description") or row["code"]) for row in table["rows"]}


def _refuse_empty_codes(body: JsonDict) -> None:
    """A coded field sent as ``{"value": ""}`` (an empty one echoed from a GET) is refused
    with the field's own code: one client saw 60300 for exactly this (FACTS section 8).
    Leaving the field out, or a bare string, is accepted."""
    for field_name, (code, message) in CODE_ERRORS.items():
        value = body.get(field_name)
        if isinstance(value, dict) and value.get("value") in ("", None):
            raise AlmaError(code, f"{message}: ''.")


def parse_location(store: Store, library: str, code: str, body: JsonDict) -> Record:
    """Validate a POST/PUT body into the stored form; omitted fields take their defaults.
    A ``description`` is accepted and dropped: Alma's locations have none (FACTS 8)."""
    _refuse_empty_codes(body)
    name, type_ = text(body.get("name")).strip(), text(body.get("type")).strip()
    for field_name, value in (("code", code), ("name", name), ("type", type_)):
        if not value:
            raise AlmaError(MANDATORY, f"Mandatory field is missing: {field_name}")
    if type_ not in location_types(store):
        raise AlmaError("60297", f"Location type is not valid: {type_}.")
    default_fu = str(store.institution.get("default_fulfillment_unit", ""))
    fulfillment_unit = text(body.get("fulfillment_unit")) or default_fu
    if fulfillment_unit and fulfillment_unit not in store.fulfillment_units:
        raise AlmaError("60299", f"Fulfillment unit is not valid: {fulfillment_unit}.")
    remote_storage = text(body.get("remote_storage"))
    if (remote_storage and remote_storage not in store.remote_storages) or (
        type_ == "REMOTE_STORAGE" and not remote_storage
    ):
        raise AlmaError("60298", f"Remote storage code is not valid: {remote_storage!r}.")
    accession = text(body.get("accession_placement"))
    if accession and accession not in labels.ACCESSION_PLACEMENTS:
        raise AlmaError("60300", f"Accession placement is not valid: {accession}.")
    call_number_type = text(body.get("call_number_type"))
    if call_number_type and call_number_type not in labels.CALL_NUMBER_TYPES:
        raise AlmaError("60301", f"Call number type is not valid: {call_number_type}.")
    return {
        "code": code,
        "name": name,
        "external_name": text(body.get("external_name")),
        "type": type_,
        "remote_storage": remote_storage,
        "map": text(body.get("map")),
        "suppress_from_publishing": flag(
            body.get("suppress_from_publishing"), "suppress_from_publishing", False, MANDATORY
        ),
        "fulfillment_unit": fulfillment_unit,
        "accession_placement": accession,
        "call_number_type": call_number_type,
        "circ_desk": _parse_desks(store, library, body.get("circ_desk")),
    }


def _parse_desks(store: Store, library: str, raw: Any) -> list[Record]:
    entries = raw if isinstance(raw, list) else ([raw] if isinstance(raw, dict) else [])
    desks = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise AlmaError(MANDATORY, "Parameter value invalid: circ_desk.")
        code = text(entry.get("circ_desk_code"))
        if code not in store.circ_desks.get(library, {}):
            raise AlmaError(MANDATORY, f"Parameter value invalid: circ_desk_code {code!r}.")
        desks.append(
            {
                "circ_desk_code": code,
                "check_in": flag(entry.get("check_in"), "check_in", True, MANDATORY),
                "check_out": flag(entry.get("check_out"), "check_out", True, MANDATORY),
                "reshelve": flag(entry.get("reshelve"), "reshelve", False, MANDATORY),
            }
        )
    return desks


def create_location(ctx: Ctx) -> Reply:
    library = ctx.params["libraryCode"]
    find_library(ctx.store, library)
    body = ctx.body()
    code = text(body.get("code")).strip()
    if code and code in ctx.store.locations.get(library, {}):
        raise AlmaError(
            GENERAL, f"General error: location code '{code}' already exists in library '{library}'."
        )
    loc = parse_location(ctx.store, library, code, body)
    loc["has_items"] = False
    ctx.store.locations.setdefault(library, {})[code] = loc
    return Reply(location_json(ctx, library, loc), root="location")


def update_location(ctx: Ctx) -> Reply:
    library = ctx.params["libraryCode"]
    find_library(ctx.store, library)
    current = _find_location(ctx.store, library, ctx.params["locationCode"])
    loc = parse_location(ctx.store, library, current["code"], ctx.body())
    loc["has_items"] = current.get("has_items", False)
    ctx.store.locations[library][current["code"]] = loc
    return Reply(location_json(ctx, library, loc), root="location")


def delete_location(ctx: Ctx) -> Reply:
    library = ctx.params["libraryCode"]
    find_library(ctx.store, library)
    loc = _find_location(ctx.store, library, ctx.params["locationCode"])
    if loc.get("has_items"):
        raise AlmaError(
            GENERAL,
            f"Location has items: '{loc['code']}' cannot be deleted while it holds inventory.",
        )
    del ctx.store.locations[library][loc["code"]]
    return Reply(status=204)


def _desk_json(ctx: Ctx, library: str, desk: Record) -> JsonDict:
    locations = ctx.store.locations.get(library, {})
    return {
        "code": desk["code"],
        "name": desk["name"],
        "description": desk.get("description", ""),
        "library": vd(library, desc=ctx.store.libraries[library]["name"]),
        "primary": bool(desk.get("primary", False)),
        "reading_room": bool(desk.get("reading_room", False)),
        "location": [
            {
                "location_code": c,
                "location_name": locations[c]["name"],
                "link": _location_link(ctx, library, c),
            }
            for c in desk.get("locations", [])
            if c in locations
        ],
        "link": ctx.link(f"{_library_path(library)}/circ-desks/{seg(desk['code'])}"),
    }


def list_circ_desks(ctx: Ctx) -> Reply:
    library = ctx.params["libraryCode"]
    find_library(ctx.store, library)
    desks = [_desk_json(ctx, library, d) for d in ctx.store.circ_desks.get(library, {}).values()]
    return Reply(paged("circ_desk", desks, ctx.args), root="circ_desks")


def get_circ_desk(ctx: Ctx) -> Reply:
    library = ctx.params["libraryCode"]
    find_library(ctx.store, library)
    desk = ctx.store.circ_desks.get(library, {}).get(ctx.params["circDeskCode"])
    if desk is None:
        raise AlmaError(
            MANDATORY,
            f"Parameter value missing or invalid: circ desk '{ctx.params['circDeskCode']}'.",
        )
    return Reply(_desk_json(ctx, library, desk), root="circ_desk")


ROUTES = [
    Route("GET", "/conf/libraries", list_libraries),
    Route("GET", "/conf/libraries/{libraryCode}", get_library),
    Route("GET", "/conf/libraries/{libraryCode}/locations", list_locations),
    Route("POST", "/conf/libraries/{libraryCode}/locations", create_location),
    Route("GET", "/conf/libraries/{libraryCode}/locations/{locationCode}", get_location),
    Route("PUT", "/conf/libraries/{libraryCode}/locations/{locationCode}", update_location),
    Route("DELETE", "/conf/libraries/{libraryCode}/locations/{locationCode}", delete_location),
    Route("GET", "/conf/libraries/{libraryCode}/circ-desks/", list_circ_desks),
    Route("GET", "/conf/libraries/{libraryCode}/circ-desks/{circDeskCode}", get_circ_desk),
]
