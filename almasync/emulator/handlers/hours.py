"""Open hours per scope, the computed calendar of a library, and library relations."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.handlers.libraries import find_library
from almasync.emulator.render import (
    JsonDict,
    alma_date,
    body_list,
    envelope,
    plain_date,
    require_mapping,
    text,
    vd,
)
from almasync.emulator.routing import Route
from almasync.emulator.store import Record

GENERAL = "402119"
_HOUR = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _scope(ctx: Ctx) -> str:
    scope = ctx.arg("scope") or ctx.store.institution_code
    if not ctx.store.scope_exists(scope):
        raise AlmaError(
            GENERAL, f"General error: scope '{scope}' is neither the institution nor a library."
        )
    return scope


def entry_json(entry: Record) -> JsonDict:
    body: JsonDict = {
        "type": vd(entry["type"], labels.OPEN_HOURS_TYPES),
        "inherited": False,
        "desc": entry.get("desc", ""),
    }
    for key in ("from_date", "to_date"):
        if entry.get(key):
            body[key] = entry[key]
    if entry.get("day"):
        body["day"] = [vd(d, labels.WEEKDAYS) for d in entry["day"]]
    body["from_hour"] = entry.get("from_hour", "")
    body["to_hour"] = entry.get("to_hour", "")
    body["status"] = vd(entry["status"], labels.OPEN_HOURS_STATUSES)
    return body


def parse_entry(raw: Any) -> Record:
    """One open-hours entry from input, validated into the stored form."""
    entry = require_mapping(raw, "an open_hour entry")
    type_ = text(entry.get("type")) or "EXCEPTION"
    status = text(entry.get("status")) or "OPEN"
    if type_ not in labels.OPEN_HOURS_TYPES:
        raise AlmaError(GENERAL, f"General error: open hours type '{type_}' is not valid.")
    if status not in labels.OPEN_HOURS_STATUSES:
        raise AlmaError(GENERAL, f"General error: open hours status '{status}' is not valid.")
    stored: Record = {"type": type_, "status": status, "desc": text(entry.get("desc"))}
    for key in ("from_hour", "to_hour"):
        value = text(entry.get(key))
        if value and not _HOUR.match(value):
            raise AlmaError(GENERAL, f"General error: {key} '{value}' is not HH:MM.")
        stored[key] = value
    if type_ == "EXCEPTION":
        stored["from_date"] = alma_date(entry.get("from_date"), "from_date", GENERAL)
        stored["to_date"] = alma_date(
            entry.get("to_date") or entry.get("from_date"), "to_date", GENERAL
        )
        if stored["to_date"] < stored["from_date"]:
            raise AlmaError(GENERAL, "General error: to_date is before from_date.")
    days = [text(d).upper() for d in body_list(entry, "day")]
    if type_ == "WEEK":
        if not days or any(d not in labels.WEEKDAYS for d in days):
            raise AlmaError(GENERAL, f"General error: a WEEK entry needs valid days, got {days}.")
        stored["day"] = days
    return stored


def _hours_body(entries: list[Record]) -> JsonDict:
    return {"open_hour": [entry_json(e) for e in entries]} if entries else {}


def get_open_hours(ctx: Ctx) -> Reply:
    return Reply(_hours_body(ctx.store.open_hours.get(_scope(ctx), [])), root="open_hours")


def put_open_hours(ctx: Ctx) -> Reply:
    scope = _scope(ctx)
    entries = [parse_entry(e) for e in body_list(ctx.body(), "open_hour")]
    ctx.store.open_hours[scope] = entries
    return Reply(_hours_body(entries), root="open_hours")


def delete_open_hours(ctx: Ctx) -> Reply:
    ctx.store.open_hours[_scope(ctx)] = []
    return Reply(status=204)


def _parse_day(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(plain_date(value))
    except ValueError:
        raise AlmaError(
            GENERAL, f"General error: {name} '{value}' is not a YYYY-MM-DD date."
        ) from None


def _hours_on(entries: list[Record], day: dt.date) -> list[JsonDict] | None:
    """Opening hours on ``day``: exceptions win over the weekly pattern; None when closed."""
    iso = day.isoformat() + "Z"
    weekday = day.strftime("%A").upper()
    exceptions = [
        e for e in entries if e["type"] == "EXCEPTION" and e["from_date"] <= iso <= e["to_date"]
    ]
    chosen = exceptions or [
        e for e in entries if e["type"] == "WEEK" and weekday in e.get("day", [])
    ]
    if any(e["status"] == "CLOSE" for e in chosen):
        return None
    hours = [{"from": e["from_hour"], "to": e["to_hour"]} for e in chosen if e["status"] == "OPEN"]
    return hours or None


def get_open_days(ctx: Ctx) -> Reply:
    library = ctx.params["libraryCode"]
    find_library(ctx.store, library)
    today = dt.datetime.fromtimestamp(ctx.clock(), dt.UTC).date()
    start = _parse_day(ctx.arg("from"), "from") if ctx.arg("from") else today
    end = _parse_day(ctx.arg("to"), "to") if ctx.arg("to") else start + dt.timedelta(days=7)
    if end < start or (end - start).days > 31:
        raise AlmaError(GENERAL, "General error: the period must be at most one month, from <= to.")
    if start < today - dt.timedelta(days=366) or end > today + dt.timedelta(days=3 * 366):
        raise AlmaError(
            GENERAL, "General error: dates must lie between 1 year ago and 3 years ahead."
        )
    entries = ctx.store.open_hours.get(library) or ctx.store.open_hours.get(
        ctx.store.institution_code, []
    )
    days = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        item: JsonDict = {
            "date": day.isoformat() + "Z",
            "day_of_week": vd(day.strftime("%A").upper(), labels.WEEKDAYS),
        }
        hours = _hours_on(entries, day)
        if hours:
            item["hour"] = hours
        days.append(item)
    return Reply({"day": days}, root="open_days")


def _relations_scope(ctx: Ctx, allow_all: bool) -> str:
    scope = ctx.arg("scope")
    if not scope:
        raise AlmaError("40166413", "Parameter value is mandatory: scope.")
    if scope.upper() == "ALL" and allow_all:
        return "ALL"
    if scope not in ctx.store.libraries:
        raise AlmaError("40166411", f"Parameter value invalid: scope '{scope}'.")
    return scope


def _relation_json(ctx: Ctx, source: str, rel: Record) -> JsonDict:
    libs = ctx.store.libraries
    return {
        "source_library": vd(source, desc=libs[source]["name"] if source in libs else None),
        "library": vd(
            rel["library"], desc=libs[rel["library"]]["name"] if rel["library"] in libs else None
        ),
        "type": vd(rel["type"], labels.RELATION_TYPES),
    }


def _relations_body(ctx: Ctx, scope: str) -> JsonDict:
    sources = sorted(ctx.store.relations) if scope == "ALL" else [scope]
    items = [_relation_json(ctx, s, r) for s in sources for r in ctx.store.relations.get(s, [])]
    return envelope("relation", items)


def get_relations(ctx: Ctx) -> Reply:
    return Reply(_relations_body(ctx, _relations_scope(ctx, True)), root="relations")


def put_relations(ctx: Ctx) -> Reply:
    scope = _relations_scope(ctx, False)
    relations = []
    for raw in body_list(ctx.body(), "relation"):
        entry = require_mapping(raw, "a relation")
        target, type_ = text(entry.get("library")), text(entry.get("type")) or "DELIVERY"
        if target not in ctx.store.libraries or target == scope:
            raise AlmaError("40166411", f"Parameter value invalid: library '{target}'.")
        if type_ not in labels.RELATION_TYPES:
            raise AlmaError("40166411", f"Parameter value invalid: relation type '{type_}'.")
        relations.append({"library": target, "type": type_})
    ctx.store.relations[scope] = relations
    return Reply(_relations_body(ctx, scope), root="relations")


def delete_relations(ctx: Ctx) -> Reply:
    scope = _relations_scope(ctx, True)
    targets = [t for t in ctx.arg("libraryCode").split(",") if t]
    if not targets:
        raise AlmaError("40166413", "Parameter value is mandatory: libraryCode.")
    unknown = [t for t in targets if t not in ctx.store.libraries]
    if unknown:
        raise AlmaError("40166411", f"Parameter value invalid: libraryCode '{unknown[0]}'.")
    sources = list(ctx.store.relations) if scope == "ALL" else [scope]
    for source in sources:
        kept = [r for r in ctx.store.relations.get(source, []) if r["library"] not in targets]
        ctx.store.relations[source] = kept
    return Reply(status=204)


ROUTES = [
    Route("GET", "/conf/open-hours", get_open_hours),
    Route("PUT", "/conf/open-hours", put_open_hours),
    Route("DELETE", "/conf/open-hours", delete_open_hours),
    Route("GET", "/conf/libraries/{libraryCode}/open-hours", get_open_days),
    Route("GET", "/conf/relations", get_relations),
    Route("PUT", "/conf/relations", put_relations),
    Route("DELETE", "/conf/relations", delete_relations),
]
