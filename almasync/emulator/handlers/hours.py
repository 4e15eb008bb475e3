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
    flag,
    plain_date,
    require_mapping,
    text,
    vd,
)
from almasync.emulator.routing import Route
from almasync.emulator.store import Record, Store

GENERAL = "402119"
_HOUR = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
#: The stored type of an event record; it is served (and accepted) as
#: ``store.open_hours_event_type``, whose default is ``EVENT``.
EVENT = "EVENT"
#: Every field an entry may carry; anything else is refused.
_FIELDS = frozenset(
    {"type", "inherited", "desc", "day", "from_date", "to_date", "from_hour", "to_hour", "status"}
)
_VALID_YEARS = 3


def _refuse(message: str) -> AlmaError:
    return AlmaError(GENERAL, f"General error: {message}")


def _scope(ctx: Ctx) -> str:
    scope = ctx.arg("scope") or ctx.store.institution_code
    if not ctx.store.scope_exists(scope):
        raise _refuse(f"scope '{scope}' is neither the institution nor a library.")
    return scope


def entry_json(entry: Record, event_type: str, inherited: bool = False) -> JsonDict:
    """A stored entry as Alma prints it; events under the institution's event type code."""
    type_ = event_type if entry["type"] == EVENT else entry["type"]
    body: JsonDict = {
        "type": vd(type_, {**labels.OPEN_HOURS_TYPES, event_type: "Event"}),
        "inherited": inherited,
        "desc": entry.get("desc", ""),
    }
    if entry.get("day"):
        body["day"] = vd(entry["day"], labels.WEEKDAYS)
    for key in ("from_date", "to_date", "from_hour", "to_hour"):
        if key in entry:
            body[key] = entry[key]
    if "status" in entry:
        body["status"] = vd(entry["status"], labels.OPEN_HOURS_STATUSES)
    return body


def _default_dates(today: dt.date) -> tuple[str, str]:
    """Standard hours without dates are valid from today for three years (FACTS 8)."""
    try:
        until = today.replace(year=today.year + _VALID_YEARS)
    except ValueError:  # 29 February
        until = today.replace(year=today.year + _VALID_YEARS, day=28)
    return f"{today.isoformat()}Z", f"{until.isoformat()}Z"


def _hour(entry: JsonDict, key: str, required: bool) -> str | None:
    value = text(entry.get(key))
    if not value:
        if required:
            raise _refuse(f"{key} is missing.")
        return None
    if not _HOUR.match(value):
        raise _refuse(f"{key} '{value}' is not HH:MM.")
    return value


def _weekday(entry: JsonDict) -> str:
    days = [text(d).upper() for d in body_list(entry, "day")]
    if not days:
        raise _refuse("a WEEK entry needs its day.")
    if len(days) > 1:
        raise _refuse(f"a WEEK entry covers one day, got {days}; send one entry per weekday.")
    if days[0] not in labels.WEEKDAYS:
        raise _refuse(f"'{days[0]}' is not a weekday.")
    return days[0]


def parse_entry(raw: Any, event_type: str = EVENT, today: dt.date | None = None) -> Record:
    """One open-hours entry from input, validated into the stored form. Strict where Alma's
    behaviour is unknown: unknown fields and types, an entry marked inherited, a WEEK entry
    for several days are refused."""
    entry = require_mapping(raw, "an open_hour entry")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise _refuse(f"unknown open_hour field(s) {', '.join(unknown)}.")
    if flag(entry.get("inherited"), "inherited", False, GENERAL):
        raise _refuse("an inherited entry belongs to the institution and cannot be written.")
    given = text(entry.get("type"))
    types = {*labels.OPEN_HOURS_TYPES, event_type}
    if given not in types:
        raise _refuse(
            f"open hours type '{given}' is not valid (valid: {', '.join(sorted(types))})."
        )
    type_ = EVENT if given == event_type else given
    stored: Record = {"type": type_, "desc": text(entry.get("desc"))}
    if type_ != "WEEK" and entry.get("day") not in (None, "", []):
        raise _refuse(f"a {given} entry has no day.")
    if type_ == "WEEK":
        stored["day"] = _weekday(entry)
    if type_ == "WEEK" and not entry.get("from_date") and not entry.get("to_date"):
        stored["from_date"], stored["to_date"] = _default_dates(today or dt.date.today())
    else:
        if not entry.get("from_date"):
            raise _refuse(f"a {given} entry needs from_date.")
        stored["from_date"] = alma_date(entry.get("from_date"), "from_date", GENERAL)
        stored["to_date"] = alma_date(
            entry.get("to_date") or entry.get("from_date"), "to_date", GENERAL
        )
        if stored["to_date"] < stored["from_date"]:
            raise _refuse("to_date is before from_date.")
    for key in ("from_hour", "to_hour"):
        value = _hour(entry, key, required=type_ == "WEEK")
        if value is not None or type_ != EVENT:
            stored[key] = value or ""
    status = text(entry.get("status"))
    if status or type_ != EVENT:
        status = status or "OPEN"
        if status not in labels.OPEN_HOURS_STATUSES:
            raise _refuse(f"open hours status '{status}' is not valid.")
        stored["status"] = status
    return stored


def parse_entries(
    raws: list[Any], event_type: str = EVENT, today: dt.date | None = None
) -> list[Record]:
    """A scope's whole list: each entry, and at most one standard-hours entry per weekday."""
    entries = [parse_entry(raw, event_type, today) for raw in raws]
    days = [e["day"] for e in entries if e["type"] == "WEEK"]
    twice = sorted({d for d in days if days.count(d) > 1})
    if twice:
        raise _refuse(f"only one standard-hours entry can exist per weekday ({', '.join(twice)}).")
    return entries


def _hours_body(store: Store, scope: str) -> JsonDict:
    """A scope's own entries; a library's list also shows the institution's, inherited."""
    event_type = store.open_hours_event_type
    entries = [entry_json(e, event_type) for e in store.open_hours.get(scope, [])]
    if scope != store.institution_code:
        entries += [
            entry_json(e, event_type, inherited=True)
            for e in store.open_hours.get(store.institution_code, [])
        ]
    return {"open_hour": entries} if entries else {}


def get_open_hours(ctx: Ctx) -> Reply:
    return Reply(_hours_body(ctx.store, _scope(ctx)), root="open_hours")


def put_open_hours(ctx: Ctx) -> Reply:
    scope = _scope(ctx)
    today = dt.datetime.fromtimestamp(ctx.clock(), dt.UTC).date()
    raws = body_list(ctx.body(), "open_hour")
    if any(
        flag(require_mapping(r, "an open_hour entry").get("inherited"), "inherited", False, GENERAL)
        for r in raws
    ):
        raise _refuse(
            f"entries marked inherited belong to the institution; they cannot be "
            f"written into scope '{scope}'."
        )
    ctx.store.open_hours[scope] = parse_entries(raws, ctx.store.open_hours_event_type, today)
    return Reply(_hours_body(ctx.store, scope), root="open_hours")


def delete_open_hours(ctx: Ctx) -> Reply:
    ctx.store.open_hours[_scope(ctx)] = []
    return Reply(status=204)


def _parse_day(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(plain_date(value))
    except ValueError:
        raise _refuse(f"{name} '{value}' is not a YYYY-MM-DD date.") from None


def _hours_on(entries: list[Record], day: dt.date) -> list[JsonDict] | None:
    """Opening hours on ``day``: exceptions win over the standard hours valid that day;
    events do not change hours. None when closed."""
    iso = day.isoformat() + "Z"
    weekday = day.strftime("%A").upper()
    exceptions = [
        e for e in entries if e["type"] == "EXCEPTION" and e["from_date"] <= iso <= e["to_date"]
    ]
    chosen = exceptions or [
        e
        for e in entries
        if e["type"] == "WEEK" and e.get("day") == weekday and e["from_date"] <= iso <= e["to_date"]
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
        raise _refuse("the period must be at most one month, from <= to.")
    if start < today - dt.timedelta(days=366) or end > today + dt.timedelta(days=3 * 366):
        raise _refuse("dates must lie between 1 year ago and 3 years ahead.")
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
