"""Reminders: server-assigned ids, filters, ordering and paging (FACTS section 2.9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.render import JsonDict, alma_date, paged, text, vd
from almasync.emulator.routing import Route
from almasync.emulator.store import Record, Store

INVALID = "40166410"
ORDER_KEYS = ("type", "status", "reminder_date")


def _code_table(store: Store, name: str, fallback: dict[str, str]) -> dict[str, str]:
    """Valid codes (and their labels) from a code table, or built-in values without one."""
    table = store.code_tables.get(name)
    if table is None:
        return dict(fallback)
    return {r["code"]: r["description"] for r in table.get("rows", []) if r.get("enabled", True)}


def reminder_types(store: Store) -> dict[str, str]:
    return _code_table(store, "ReminderTypes", labels.DEFAULT_REMINDER_TYPES)


def reminder_statuses(store: Store) -> dict[str, str]:
    return _code_table(store, "ReminderStatuses", labels.DEFAULT_REMINDER_STATUSES)


def reminder_json(
    ctx: Ctx, rem: Record, codes: tuple[dict[str, str], dict[str, str]] | None = None
) -> JsonDict:
    types, statuses = codes or (reminder_types(ctx.store), reminder_statuses(ctx.store))
    return {
        "id": rem["id"],
        "entity": {
            "description": rem.get("entity_description", ""),
            "entity_type": vd(rem["entity_type"], labels.REMINDER_ENTITY_TYPES),
            "entity_id": rem["entity_id"],
            "link": ctx.link(f"/bibs/{rem['entity_id']}"),
        },
        "type": vd(rem["type"], types),
        "status": vd(rem["status"], statuses),
        "text": rem.get("text", ""),
        "reminder_date": rem["reminder_date"],
        "created_by": vd(rem.get("created_by", "exl_api"), desc="API, Ex Libris"),
        "created_date": rem.get("created_date", ""),
        "last_modified_by": vd(rem.get("last_modified_by", "exl_api"), desc="API, Ex Libris"),
        "last_modified_date": rem.get("last_modified_date", ""),
        "link": ctx.link(f"/conf/reminders/{rem['id']}"),
    }


def parse_reminder(store: Store, body: JsonDict, current: Record | None) -> Record:
    """Validate in the order of the spec's error list; ``current`` is set for a PUT."""
    entity: Any = body.get("entity")
    if not isinstance(entity, dict):
        entity = {}
    entity_id = text(entity.get("entity_id")) or (current["entity_id"] if current else "")
    if not entity_id:
        raise AlmaError("60184", "Reminder Entity Id is required.")
    entity_type = text(entity.get("entity_type")) or "BIB_MMS"
    if entity_type not in labels.REMINDER_ENTITY_TYPES:
        raise AlmaError("60183", f"Reminder Entity Type is not valid: {entity_type}.")
    if not entity_id.isdigit():
        raise AlmaError("60182", f"Reminder Entity ID is not valid: {entity_id}.")
    type_ = text(body.get("type"))
    if type_ not in reminder_types(store):
        raise AlmaError("60178", f"Reminder Type is not valid: {type_!r}.")
    status = text(body.get("status")) or "NEW"
    if status not in reminder_statuses(store):
        raise AlmaError("60179", f"Reminder Status is not valid: {status!r}.")
    if not text(body.get("reminder_date")):
        raise AlmaError("60185", "Reminder Date is required.")
    description = text(entity.get("description")) or (current or {}).get("entity_description", "")
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "entity_description": description,
        "type": type_,
        "status": status,
        "text": text(body.get("text")),
        "reminder_date": alma_date(body.get("reminder_date"), "reminder_date"),
    }


def _today(ctx: Ctx) -> str:
    return dt.datetime.fromtimestamp(ctx.clock(), dt.UTC).date().isoformat() + "Z"


def _find(ctx: Ctx) -> Record:
    rem = ctx.store.reminders.get(ctx.params["reminder_id"])
    if rem is None:
        raise AlmaError("60177", f"Reminder ID is not valid: {ctx.params['reminder_id']}.")
    return rem


def _filtered(ctx: Ctx) -> list[Record]:
    store, args = ctx.store, ctx.args
    checks = {"type": reminder_types(store), "status": reminder_statuses(store)}
    checks["entity_type"] = dict(labels.REMINDER_ENTITY_TYPES)
    wanted: dict[str, str] = {"entity_type": "BIB_MMS"}
    for name, valid in checks.items():
        value = args.get(name, "")
        if value and value not in valid:
            raise AlmaError(INVALID, f"Parameter value invalid: {name}={value}.")
        if value:
            wanted[name] = value
    if args.get("entity_id"):
        wanted["entity_id"] = args["entity_id"]
    items = [r for r in store.reminders.values() if all(r[k] == v for k, v in wanted.items())]
    if args.get("from"):
        start = alma_date(args["from"], "from")
        end = alma_date(args["to"], "to") if args.get("to") else start
        _check_window(store, start, end)
        items = [r for r in items if start <= r["reminder_date"] <= end]
    elif args.get("to"):
        end = alma_date(args["to"], "to")
        items = [r for r in items if r["reminder_date"] <= end]
    return items


def _check_window(store: Store, start: str, end: str) -> None:
    """Whether Alma accepts a wide ``from``..``to`` window is unknown (FACTS section 8); a
    seed's ``institution.reminder_window_days`` makes the emulator refuse wider ones."""
    limit = store.institution.get("reminder_window_days")
    if limit is None:
        return
    days = (dt.date.fromisoformat(end[:-1]) - dt.date.fromisoformat(start[:-1])).days
    if days > int(limit):
        raise AlmaError(
            INVALID,
            f"Parameter value invalid: from={start[:-1]}, to={end[:-1]}. The date range may "
            f"span at most {int(limit)} days.",
        )


def list_reminders(ctx: Ctx) -> Reply:
    order_by = ctx.arg("order_by", "type")
    direction = ctx.arg("direction", "asc").lower()
    if order_by not in ORDER_KEYS or direction not in ("asc", "desc"):
        raise AlmaError(
            INVALID, f"Parameter value invalid: order_by={order_by}, direction={direction}."
        )
    items = sorted(_filtered(ctx), key=lambda r: int(r["id"]))
    items.sort(key=lambda r: str(r[order_by]), reverse=direction == "desc")
    codes = (reminder_types(ctx.store), reminder_statuses(ctx.store))
    body = paged("reminder", items, ctx.args, lambda r: reminder_json(ctx, r, codes))
    return Reply(body, root="reminders")


def get_reminder(ctx: Ctx) -> Reply:
    return Reply(reminder_json(ctx, _find(ctx)), root="reminder")


def create_reminder(ctx: Ctx) -> Reply:
    rem = parse_reminder(ctx.store, ctx.body(), None)
    today = _today(ctx)
    rem.update(
        id=ctx.store.new_id(),
        created_by="exl_api",
        created_date=today,
        last_modified_by="exl_api",
        last_modified_date=today,
    )
    ctx.store.reminders[rem["id"]] = rem
    return Reply(reminder_json(ctx, rem), root="reminder")


def update_reminder(ctx: Ctx) -> Reply:
    current = _find(ctx)
    rem = parse_reminder(ctx.store, ctx.body(), current)
    rem.update(
        id=current["id"],
        created_by=current.get("created_by", "exl_api"),
        created_date=current.get("created_date", ""),
        last_modified_by="exl_api",
        last_modified_date=_today(ctx),
    )
    ctx.store.reminders[rem["id"]] = rem
    return Reply(reminder_json(ctx, rem), root="reminder")


def delete_reminder(ctx: Ctx) -> Reply:
    del ctx.store.reminders[_find(ctx)["id"]]
    return Reply(status=204)


ROUTES = [
    Route("GET", "/conf/reminders", list_reminders),
    Route("POST", "/conf/reminders", create_reminder),
    Route("GET", "/conf/reminders/{reminder_id}", get_reminder),
    Route("PUT", "/conf/reminders/{reminder_id}", update_reminder),
    Route("DELETE", "/conf/reminders/{reminder_id}", delete_reminder),
]
