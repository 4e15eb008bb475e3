"""Sets: ``/conf/sets[/{id}[/members]]``, keyed by set name.

Config shape: ``sets: {NAME: {type, content, private, description, query | members}}``.
Alma gives sets system ids, so a set is found by its name with Alma's brief search
(``q=name~words``, one request for a set of any institution, however many sets it has), and
read in full when a declared field is not in the brief entry. Only drift, export and prune,
which need every set, page through the whole list. A LOGICAL set is defined by its
``query``; an ITEMIZED set lists its members' ids, which are read exhaustively from the paged
``/members`` list and written with ``POST /conf/sets/{id}?op=add_members|delete_members`` in
batches of at most 1,000 ids (Alma's limit per call). Alma cannot change a set's type or
content: a declared set whose type or content differs from the live one stops the plan with a
config error at the declaring line.
Deletes happen only inside ``prune: sets`` (``true``, or a list of name prefixes).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import quote

from pydantic import Field

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import AlmaError, ConfigError, Problem
from almasync.kinds.base import Declared, FieldsModel, KindHandler, LiveQuery, not_a_mapping
from almasync.kinds.references import References
from almasync.kinds.wire import as_bool, strip_output_only, unwrap, wrap
from almasync.model import Fields, Key, Kind, Resource

BASE = "/conf/sets"
#: Alma refuses more member ids than this in one manage-members call (error 60118).
BATCH = 1000
#: How many member ids a plan shows for each of "added" and "removed".
SHOWN = 5
#: Fields Alma owns or derives; they never go back in a PUT or a manage-members body.
_OUTPUT_ONLY = ("number_of_members", "created_by", "created_date", "status_date")

MemberId = Annotated[str, Field(min_length=1)] | Annotated[int, Field(ge=0)]


def _no_default(schema: dict[str, Any]) -> None:
    # Omitted means "not managed", not an empty value; the schema should not suggest one.
    schema.pop("default", None)


class SetFields(FieldsModel):
    """A set as declared in a config file (Alma's field names, plain values)."""

    type: Literal["ITEMIZED", "LOGICAL"] = Field(
        description="ITEMIZED (lists its members) or LOGICAL (defined by a query); Alma "
                    "cannot change it once the set exists")
    content: str = Field(min_length=1, description="SetContentType code, e.g. BIB_MMS, ITEM, "
                         "USER; Alma cannot change it once the set exists")
    private: bool = Field(True, json_schema_extra=_no_default,
                          description="Alma makes a set private when this is omitted")
    description: str = Field("", json_schema_extra=_no_default)
    query: str = Field("", min_length=1, json_schema_extra=_no_default,
                       description="LOGICAL sets only: Alma's query, starting with the "
                                   "content type, e.g. 'ITEM where ITEM ((...))'")
    members: list[MemberId] = Field(
        default_factory=list, json_schema_extra=_no_default,
        description="ITEMIZED sets only: every member's id (MMS id, item PID, user id...); "
                    "ids not listed are removed from the set")


def _path(set_id: str | None = None) -> str:
    return f"{BASE}/{quote(set_id, safe='')}" if set_id is not None else BASE


def normalise(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Alma's set JSON (full or brief) -> the declared-field form, without members."""
    out: dict[str, Any] = {"type": unwrap(payload.get("type")),
                           "content": unwrap(payload.get("content"))}
    if "private" in payload:
        out["private"] = as_bool(payload["private"])
    if "description" in payload:
        out["description"] = payload["description"] or ""
    if out["type"] == "LOGICAL" and "query" in payload:
        out["query"] = unwrap(payload["query"]) or ""
    return out


def to_wire(fields: Fields) -> dict[str, Any]:
    """Declared fields (members excepted) -> Alma's JSON form."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("type", "content", "query"):
            out[name] = wrap(value)
        elif name == "private":
            out[name] = wrap("true" if value else "false")
        elif name != "members":
            out[name] = value
    return out


class SetHandler(KindHandler):
    kind: ClassVar[Kind] = Kind.SET
    model: ClassVar[type[FieldsModel]] = SetFields

    # -- config side ---------------------------------------------------------------------

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        problem = not_a_mapping(node, path, doc, "set names to their fields")
        if problem:
            yield problem
            return
        for name, raw in node.items():
            yield Declared((str(name),), raw, (*path, name), f"sets.{name}")

    def write_target(self, key: Key, fields: Fields) -> Hashable:
        """Every set: a set is found by a name search of ``/conf/sets``, which any set's
        write may change (a rename, a create), so sets are written one at a time, each
        after reading the list as the writes before it left it."""
        return "/conf/sets"

    def fields_of(self, model: FieldsModel) -> dict[str, Any]:
        fields = super().fields_of(model)
        if "members" in fields:
            fields["members"] = [str(member) for member in fields["members"]]
        return fields

    def check(self, resources: Mapping[Key, Resource]) -> list[Problem]:
        return [problem for key, resource in resources.items()
                for problem in _shape_problems(key[0], resource)]

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        contents = refs.known_codes("SetContentType")
        if contents is None:
            return []
        return [Problem(r.marks.get("content", r.mark), f"sets.{key[0]}.content: "
                        f"{r.fields['content']!r} is not a SetContentType code in Alma "
                        f"(codes: {', '.join(sorted(contents))})")
                for key, r in resources.items() if r.fields["content"] not in contents]

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "description": "set name -> fields",
                "additionalProperties": fields}

    def prunable(self, key: Key, rule: bool | frozenset[str]) -> bool:
        """``prune: sets: true`` owns every set; a list owns the sets whose names start
        with one of its prefixes (a set's full name is a prefix of itself)."""
        if isinstance(rule, frozenset):
            return any(key[0].startswith(prefix) for prefix in rule)
        return rule is True

    def live_view(self, desired: Fields, live: Fields | None) -> Fields:
        """Members are a set: sorted, so their order never differs."""
        view = dict(super().live_view(desired, live))
        if "members" in desired:
            view["members"] = sorted(set((live or {}).get("members") or []))
        return view

    def comparable(self, desired: Fields, live: Fields | None) -> tuple[Fields, Fields]:
        want, have = super().comparable(desired, live)
        if "members" in desired:
            want = {**want, "members": sorted(set(desired["members"]))}
        return want, have

    # -- Alma side -----------------------------------------------------------------------

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        if query.everything or query.prune is not False:
            listed = {entry["name"]: entry for entry in _all_sets(client)}
        else:
            found = client.map(lambda key: _search(client, key[0]), sorted(query.wanted))
            listed = {entry["name"]: entry for entry in found if entry is not None}
        _check_unchangeable(query.declared, listed)
        keys = [(name,) for name in sorted(listed)
                if (name,) in query.wanted or query.everything
                or self.prunable((name,), query.prune)]

        def one(key: Key) -> tuple[Key, Fields]:
            wanted = query.wanted.get(key, frozenset())
            entry = listed[key[0]]
            brief = normalise(entry)
            # FACTS 8: list entries carry description and private (not the query, not the
            # members); an entry without a declared field is read in full, never guessed.
            if wanted <= brief.keys() and not query.detail:
                return key, brief
            return key, _read_full(client, entry["id"], query.detail or "members" in wanted)
        return dict(client.map(one, keys))

    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        created = client.post(BASE, {"name": key[0], **to_wire(fields)})
        if fields.get("members"):
            _manage(client, created, "add_members", list(fields["members"]))

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        """PUT the whole set when a declared field differs, then add and remove members
        so that they are exactly the declared ones (removals first)."""
        current = client.get(_path(_find_id(client, key[0])))
        metadata = {name: value for name, value in fields.items() if name != "members"}
        live = normalise(current)
        if any(live.get(name) != value for name, value in metadata.items()):
            current = client.put(_path(current["id"]), update_body(current, metadata))
        if "members" in fields:
            present = _read_members(client, current["id"])
            wanted = set(fields["members"])
            _manage(client, current, "delete_members", [i for i in present if i not in wanted])
            have = set(present)
            _manage(client, current, "add_members",
                    [i for i in fields["members"] if i not in have])

    def delete(self, client: AlmaClient, key: Key) -> None:
        client.delete(_path(_find_id(client, key[0])))

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        tree: dict[str, dict[str, Any]] = {}
        for key in sorted(resources):
            fields = resources[key].fields
            entry = {name: fields[name] for name in ("type", "content", "private")
                     if name in fields}
            if fields.get("description"):
                entry["description"] = fields["description"]
            if fields.get("type") == "LOGICAL":
                entry["query"] = fields.get("query", "")
            else:
                entry["members"] = list(fields.get("members", []))
            tree[key[0]] = entry
        return tree


def update_body(current: Mapping[str, Any], fields: Fields) -> dict[str, Any]:
    """The PUT body that sets the declared ``fields`` (members excepted) of the set read as
    ``current``: every live field kept (Alma replaces the whole set), without Alma's
    ``link``/``desc`` and the fields it owns (``number_of_members``, creation and status
    stamps)."""
    body = {k: v for k, v in strip_output_only(current).items() if k not in _OUTPUT_ONLY}
    return {**body, **to_wire(fields)}


def _shape_problems(name: str, resource: Resource) -> list[Problem]:
    """What a set's fields cannot be together, each at the field's own line."""
    fields, marks, label = resource.fields, resource.marks, f"sets.{name}"
    problems: list[Problem] = []
    if fields["type"] == "LOGICAL":
        if "members" in fields:
            problems.append(Problem(marks.get("members", resource.mark), f"{label}.members: "
                            "a LOGICAL set's members come from its query; remove members, "
                            "or make it an ITEMIZED set"))
        if not fields.get("query"):
            problems.append(Problem(resource.mark, f"{label}: a LOGICAL set needs a query, "
                            f"e.g. \"{fields['content']} where ...\""))
    elif "query" in fields:
        problems.append(Problem(marks.get("query", resource.mark), f"{label}.query: only "
                        "LOGICAL sets have a query; list an ITEMIZED set's ids under members"))
    query = fields.get("query", "")
    if query and query.split(" ", 1)[0] != fields["content"]:
        problems.append(Problem(marks.get("query", resource.mark), f"{label}.query: must "
                        f"start with the set's content type, e.g. \"{fields['content']} "
                        "where ...\" (Alma refuses it otherwise)"))
    seen: set[str] = set()
    for member in fields.get("members", []):
        if member in seen:
            problems.append(Problem(marks.get("members", resource.mark),
                                    f"{label}.members: {member!r} is listed twice"))
        seen.add(member)
    return problems


def _check_unchangeable(declared: Mapping[Key, Resource],
                        listed: Mapping[str, Mapping[str, Any]]) -> None:
    """Alma refuses to change a set's type or content (402261); say so at plan time, at
    the declaring line, rather than plan an update that must fail."""
    problems = []
    for key, resource in declared.items():
        entry = listed.get(key[0]) or {}
        for name in ("type", "content") if entry else ():
            live, wanted = unwrap(entry.get(name)), resource.fields[name]
            if live != wanted:
                problems.append(Problem(
                    resource.marks.get(name, resource.mark),
                    f"sets.{key[0]}.{name}: the set is {live} in Alma and Alma cannot change "
                    f"a set's {name}; give the {wanted} set a new name (prune can delete the "
                    f"old one), or declare {name}: {live}"))
    if problems:
        raise ConfigError(problems)


def _read_full(client: AlmaClient, set_id: str, with_members: bool) -> Fields:
    payload = client.get(_path(set_id))
    fields = normalise(payload)
    if with_members and fields["type"] == "ITEMIZED":
        fields["members"] = _read_members(client, set_id)
    return fields


def _read_members(client: AlmaClient, set_id: str) -> list[str]:
    """Every member id, sorted (Alma pages the list; its order carries no meaning)."""
    entries = client.get_list(f"{_path(set_id)}/members", "member", paged=True)
    return sorted(str(entry["id"]) for entry in entries)


def _manage(client: AlmaClient, current: Mapping[str, Any], op: str, ids: list[str]) -> None:
    """Add or delete members, at most BATCH ids per call. Alma takes the set object with a
    ``members`` list; ids Alma finds invalid fail the call (``fail_on_invalid_id``)."""
    body = {k: v for k, v in strip_output_only(current).items() if k not in _OUTPUT_ONLY}
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        client.post(_path(current["id"]),
                    {**body, "members": {"member": [{"id": i} for i in batch]}},
                    params={"op": op})


def _all_sets(client: AlmaClient) -> list[dict[str, Any]]:
    """Every set's brief entry: the whole paged list (100 a page)."""
    return client.get_list(BASE, "set", paged=True)


def _search(client: AlmaClient, name: str) -> dict[str, Any] | None:
    """The brief entry of the set called exactly ``name``, or None when Alma has none.

    Alma's brief search ``q=name~words`` (spaces written as ``_``) looks for the words of
    the name, so it also finds sets whose names hold more words; the exact name is picked
    from its hits. A query Alma cannot parse (60106) falls back to the whole list."""
    try:
        hits = client.get_list(BASE, "set", {"q": "name~" + name.replace(" ", "_")},
                               paged=True)
    except AlmaError as exc:
        if exc.status != 400 or exc.code != "60106":  # 60106: Alma cannot parse the query
            raise
        hits = _all_sets(client)
    return next((entry for entry in hits if entry.get("name") == name), None)


def _find_id(client: AlmaClient, name: str) -> str:
    """The id of the set called ``name``, for an update or a delete. The plan found it
    with the brief search; should the search miss it now, the whole list is read before
    concluding that the set is gone (a write must not act on a doubtful search)."""
    found = _search(client, name)
    if found is None:
        found = next((s for s in _all_sets(client) if s.get("name") == name), None)
    if found is None:
        raise AlmaError(400, "60107", f"there is no set named {name!r} in Alma (deleted or "
                        "renamed since the plan was made?)", method="GET", path=BASE)
    return str(found["id"])
