"""Sets: logical and itemized, brief lists, members and the manage-members operations."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.render import JsonDict, bool_text, flag, paged, text, vd, vlink
from almasync.emulator.routing import Route
from almasync.emulator.store import Record, Store

INVALID = "40166410"
MAX_MEMBERS = 1000
MEMBER_PATHS = {
    "BIB_MMS": "/bibs/{id}",
    "IEP": "/bibs/{id}",
    "IEE": "/bibs/{id}",
    "USER": "/users/{id}",
}
_QUERY = re.compile(r"^(name|created_by)~(.+)$")
_WORD_BREAK = re.compile(r"[\s_]+")


def set_json(ctx: Ctx, rec: Record, brief: bool = False) -> JsonDict:
    """A set as GET answers it; ``brief`` is a list entry, which per FACTS section 8 has the
    metadata but neither ``query`` nor ``number_of_members``."""
    link = ctx.link(f"/conf/sets/{rec['id']}")
    type_, content = vd(rec["type"], labels.SET_TYPES), vd(rec["content"], labels.SET_CONTENT)
    body: JsonDict = {
        "id": rec["id"],
        "name": rec["name"],
        "description": rec.get("description", ""),
        "type": type_,
        "content": content,
        "private": {"value": bool_text(rec["private"]), "desc": labels.YES_NO[rec["private"]]},
        "status": vd(rec.get("status", "ACTIVE"), labels.SET_STATUSES),
        "status_date": rec.get("status_date", ""),
        "created_by": vd(rec.get("created_by", "exl_api"), desc="API, Ex Libris"),
        "created_date": rec.get("created_date", ""),
    }
    if brief:
        body["origin"] = vd(rec.get("origin", "UI"), labels.SET_ORIGINS)
        body["link"] = link
        return body
    members = vlink(str(len(rec["members"])), ctx.link(f"/conf/sets/{rec['id']}/members"))
    if rec["type"] == "LOGICAL":
        body["query"] = {"value": rec.get("query", ""), "desc": rec.get("query", "")}
    body["number_of_members"] = members
    body["origin"] = vd(rec.get("origin", "UI"), labels.SET_ORIGINS)
    body["link"] = link
    return body


def _find(ctx: Ctx, code: str = "60107") -> Record:
    rec = ctx.store.sets.get(ctx.params["set_id"])
    if rec is None:
        raise AlmaError(code, f"Invalid set ID: {ctx.params['set_id']}.")
    return rec


def _check_name(store: Store, name: str, own_id: str | None) -> None:
    if any(s["name"] == name and s["id"] != own_id for s in store.sets.values()):
        raise AlmaError("402263", "The set name already exists. Please choose a different name.")


def parse_set(store: Store, body: JsonDict, current: Record | None, missing: str) -> Record:
    """Validate set metadata (not members); ``missing`` is the code for a missing field."""
    name = text(body.get("name")).strip()
    type_ = text(body.get("type")).upper() or (current["type"] if current else "")
    content = text(body.get("content")) or (current["content"] if current else "")
    for field_name, value in (("name", name), ("type", type_), ("content", content)):
        if not value:
            raise AlmaError(missing, f"Mandatory parameter is missing from input: {field_name}.")
    if type_ not in labels.SET_TYPES:
        raise AlmaError(
            "402262", "Set type is invalid. Only 'ITEMIZED' and 'LOGICAL' sets are supported."
        )
    if content not in labels.SET_CONTENT:
        raise AlmaError("402269", f"Invalid query content type: {content}.")
    if current and (type_, content) != (current["type"], current["content"]):
        raise AlmaError("402261", "Invalid Set object: type and content cannot change.")
    status = text(body.get("status")) or "ACTIVE"
    if status not in labels.SET_STATUSES:
        raise AlmaError("60210", f"Set status not valid: {status}.")
    query = text(body.get("query")).strip()
    if type_ == "LOGICAL" and not query:
        raise AlmaError(missing, "Mandatory parameter is missing from input: query.")
    if query and query.split(" ", 1)[0] != content:
        raise AlmaError("402269", f"Invalid query content type in query string: {query!r}.")
    return {
        "name": name,
        "description": text(body.get("description")),
        "type": type_,
        "content": content,
        "private": flag(body.get("private"), "private", True, "60209"),  # FACTS 8
        "status": status,
        "query": query if type_ == "LOGICAL" else "",
        "origin": "UI",
    }


def _words(value: str) -> list[str]:
    """The words of a name (or of a brief-search value): split at spaces and ``_``."""
    return [w for w in _WORD_BREAK.split(value.lower()) if w]


def _brief_query(q: str) -> list[tuple[str, list[str]]]:
    """``name~words`` terms joined by `` AND ``; ``_`` stands for a space in the words."""
    terms = []
    for part in q.split(" AND "):
        match = _QUERY.match(part.strip())
        if not match or not _words(match.group(2)):
            raise AlmaError("60106", f"Invalid query format: {q!r}.")
        terms.append((match.group(1), _words(match.group(2))))
    return terms


def _matches(rec: Record, field: str, words: list[str]) -> bool:
    """Alma's brief search looks for words: every searched word must be a whole word of
    the field (the strictest reading of "searching for words"; see docs/emulator.md)."""
    have = set(_words(str(rec.get(field, ""))))
    return all(word in have for word in words)


def list_sets(ctx: Ctx) -> Reply:
    content, set_type = ctx.arg("content_type"), ctx.arg("set_type").upper()
    origin = ctx.arg("set_origin", "UI")
    if set_type and set_type not in labels.SET_TYPES:
        raise AlmaError(INVALID, f"Parameter value invalid: set_type={set_type}.")
    if origin not in labels.SET_ORIGINS:
        raise AlmaError(INVALID, f"Parameter value invalid: set_origin={origin}.")
    terms = _brief_query(ctx.arg("q")) if ctx.arg("q") else []
    items = [
        s
        for s in ctx.store.sets.values()
        if (not content or s["content"] == content)
        and (not set_type or s["type"] == set_type)
        and s.get("origin", "UI") == origin
        and all(_matches(s, field, words) for field, words in terms)
    ]
    body = paged("set", items, ctx.args, lambda s: set_json(ctx, s, brief=True))
    return Reply(body, root="sets")


def get_set(ctx: Ctx) -> Reply:
    return Reply(set_json(ctx, _find(ctx)), root="set")


def _now(ctx: Ctx) -> dt.datetime:
    return dt.datetime.fromtimestamp(ctx.clock(), dt.UTC)


def _source_members(ctx: Ctx) -> list[Record]:
    """Members a new set starts with, from the creation query parameters."""
    store, args = ctx.store, ctx.args
    if args.get("nz_set_from_iz_set"):
        raise AlmaError(
            "60335", "The From Institution Zone is not allowed for institution not in Network."
        )
    if args.get("job_instance_id") or args.get("population"):
        if not (args.get("job_instance_id") and args.get("population")):
            raise AlmaError(
                "500127", "'job_instance_id' and 'population' must be provided together."
            )
        if args["job_instance_id"] not in store.job_instances:
            raise AlmaError("402218", f"Invalid job instance id: {args['job_instance_id']}.")
        return []
    if args.get("from_logical_set"):
        source = store.sets.get(args["from_logical_set"])
        if source is None or source["type"] != "LOGICAL":
            raise AlmaError("402264", f"Set ID is invalid: {args['from_logical_set']}.")
        return [dict(m) for m in source["members"]]
    if args.get("set1") or args.get("set2"):
        return _combine(
            store, args.get("set1", ""), args.get("set2", ""), args.get("combine", "AND")
        )
    return []


def _combine(store: Store, first: str, second: str, operator: str) -> list[Record]:
    sets = [store.sets.get(first), store.sets.get(second)]
    if sets[0] is None or sets[1] is None:
        raise AlmaError("402264", f"Set ID is invalid: {first if sets[0] is None else second}.")
    if operator.upper() not in ("AND", "OR", "NOT"):
        raise AlmaError("60204", f"Set combine operator not valid: {operator}.")
    if sets[0]["content"] != sets[1]["content"]:
        raise AlmaError("60205", "Combining sets are not the same type.")
    left, right = sets[0]["members"], sets[1]["members"]
    right_ids = {m["id"] for m in right}
    if operator.upper() == "AND":
        return [dict(m) for m in left if m["id"] in right_ids]
    if operator.upper() == "NOT":
        return [dict(m) for m in left if m["id"] not in right_ids]
    left_ids = {m["id"] for m in left}
    return [dict(m) for m in left] + [dict(m) for m in right if m["id"] not in left_ids]


def create_set(ctx: Ctx) -> Reply:
    rec = parse_set(ctx.store, ctx.body(), None, "402119")
    members = _source_members(ctx)
    combined = bool(ctx.args.get("set1") or ctx.args.get("from_logical_set"))
    if combined:
        rec.update(type="ITEMIZED", query="")
    _check_name(ctx.store, rec["name"], None)
    stamp = _now(ctx)
    rec.update(
        id=ctx.store.new_id(),
        members=members,
        created_by="exl_api",
        created_date=stamp.date().isoformat() + "Z",
        status_date=stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    ctx.store.sets[rec["id"]] = rec
    return Reply(set_json(ctx, rec), root="set")


def update_set(ctx: Ctx) -> Reply:
    current = _find(ctx)
    rec = parse_set(ctx.store, ctx.body(), current, "402228")
    _check_name(ctx.store, rec["name"], current["id"])
    for key in ("id", "members", "created_by", "created_date", "status_date", "origin"):
        if key in current:
            rec[key] = current[key]
    ctx.store.sets[current["id"]] = rec
    return Reply(set_json(ctx, rec), root="set")


def delete_set(ctx: Ctx) -> Reply:
    del ctx.store.sets[_find(ctx, "402264")["id"]]
    return Reply(status=204)


def list_members(ctx: Ctx) -> Reply:
    rec = _find(ctx)
    template = MEMBER_PATHS.get(rec["content"], "/conf/sets/" + rec["id"] + "/members/{id}")

    def member_json(member: Record) -> JsonDict:
        link = ctx.link(template.format(id=member["id"]))
        return {"id": member["id"], "description": member.get("description", ""), "link": link}

    return Reply(paged("member", rec["members"], ctx.args, member_json), root="members")


def _input_members(body: JsonDict) -> list[str]:
    members: Any = body.get("members")
    raw: Any = members.get("member") if isinstance(members, dict) else None
    entries = raw if isinstance(raw, list) else ([raw] if raw else [])
    if not entries:
        raise AlmaError("60113", "Input set with no members.")
    if len(entries) > MAX_MEMBERS:
        raise AlmaError(
            "60118", f"Input set member list exceeds limit ({len(entries)} > {MAX_MEMBERS})."
        )
    ids = []
    for entry in entries:
        member_id = text(entry.get("id")) if isinstance(entry, dict) else ""
        if not member_id:
            raise AlmaError("60114", "Input set with no member ID.")
        ids.append(member_id)
    if len(set(ids)) != len(ids):
        raise AlmaError("60119", "Input set with duplicate member.")
    return ids


def _valid_id(content: str, member_id: str) -> bool:
    return member_id.isdigit() if content in MEMBER_PATHS and content != "USER" else True


def manage_members(ctx: Ctx) -> Reply:
    """POST /conf/sets/{id}?op=add_members|delete_members|replace_members."""
    rec = _find(ctx)
    op = ctx.arg("op")
    if op not in ("add_members", "delete_members", "replace_members"):
        raise AlmaError("60111", f"Invalid operation: {op!r}.")
    if rec["type"] != "ITEMIZED":
        raise AlmaError("60112", "Invalid set type: members can only be managed in itemized sets.")
    strict = flag(ctx.args.get("fail_on_invalid_id"), "fail_on_invalid_id", True, INVALID)
    ids = _input_members(ctx.body())
    if strict and (bad := [i for i in ids if not _valid_id(rec["content"], i)]):
        raise AlmaError("60116", f"A member ID is not valid for the content: {bad[0]}.")
    ids = [i for i in ids if _valid_id(rec["content"], i)]
    current = [m["id"] for m in rec["members"]]
    if op == "add_members":
        if strict and (dup := [i for i in ids if i in current]):
            raise AlmaError("60115", f"A member ID is already in the set: {dup[0]}.")
        rec["members"] += [{"id": i, "description": f"Record {i}"} for i in ids if i not in current]
    elif op == "delete_members":
        if strict and (absent := [i for i in ids if i not in current]):
            raise AlmaError("60117", f"Input set member ID is not in set: {absent[0]}.")
        rec["members"] = [m for m in rec["members"] if m["id"] not in ids]
    else:
        known = {m["id"]: m for m in rec["members"]}
        rec["members"] = [known.get(i, {"id": i, "description": f"Record {i}"}) for i in ids]
    return Reply(set_json(ctx, rec), root="set")


ROUTES = [
    Route("GET", "/conf/sets", list_sets),
    Route("POST", "/conf/sets", create_set),
    Route("GET", "/conf/sets/{set_id}", get_set),
    Route("PUT", "/conf/sets/{set_id}", update_set),
    Route("DELETE", "/conf/sets/{set_id}", delete_set),
    Route("POST", "/conf/sets/{set_id}", manage_members),
    Route("GET", "/conf/sets/{set_id}/members", list_members),
]
