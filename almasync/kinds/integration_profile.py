"""Integration profiles: ``/conf/integration-profiles[/{id}]``, keyed by profile code.

Config shape: ``integration_profiles: {CODE: {type, name, description, system,
parameters: {ACTION: {NAME: value}}}}``. Alma keeps a profile's parameters in one flat list,
``parameter: [{action: {value: ACTION}, name: {value: NAME}, value: V}, ...]``, and the same
name occurs under several actions (an FTP server for export and another for import), so a
parameter is identified by its (action, name) pair only: it is read, compared and written
under that pair, and a declared pair the profile lacks is added with its action.

Alma gives profiles system ids, so a profile is found by code in the paged list. Updates
read the whole profile, change the declared fields and the entries of the declared pairs,
and PUT it back with every other field and entry exactly as read. The type is checked
against the institution's ``IntegrationTypes`` code table, and Alma cannot change a
profile's type: both stop the plan with a config error at the declaring line. Deletes
happen only inside ``prune: integration_profiles`` (``true``, or code prefixes).

Credentials among parameters follow :mod:`almasync.kinds.secrets`: ``${ENV_VAR}``
references in files, resolved at apply time, compared by digest, redacted in every output.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Hashable, Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field

from almasync.alma.client import AlmaClient
from almasync.alma.payload import as_list
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import AlmaError, ConfigError, Problem
from almasync.kinds.base import Declared, FieldsModel, KindHandler, LiveQuery, not_a_mapping
from almasync.kinds.references import References
from almasync.kinds.secrets import (
    CREDENTIAL_WORDS,
    Group,
    Redacted,
    compare_secret,
    credential_problems,
    is_credential,
    map_groups,
    missing_variables,
    reference_for,
    resolve,
    scalar,
    scrubbed,
)
from almasync.kinds.wire import strip_output_only, unwrap, wrap
from almasync.model import Fields, Key, Kind, Resource

BASE = "/conf/integration-profiles"
#: The code table that holds the valid profile types.
TYPES_TABLE = "IntegrationTypes"
#: Top-level fields Alma sends as plain text.
TEXT = ("name", "description")
#: Top-level fields Alma wraps as ``{"value", "desc"}``.
CODED = ("type", "system")

Scalar = str | int | bool
#: A parameter's identity in Alma: (action, name).
Identity = tuple[str, str]


def _no_default(schema: dict[str, Any]) -> None:
    # Omitted means "not managed", not an empty value; the schema should not suggest one.
    schema.pop("default", None)


class IntegrationProfileFields(FieldsModel):
    """An integration profile as declared in a config file (Alma's field names)."""

    type: str = Field(min_length=1, description="a code of the institution's IntegrationTypes "
                      "code table, e.g. USERS, BURSAR, REMOTE_STORAGE; Alma cannot change it "
                      "once the profile exists")
    name: str = Field("", min_length=1, json_schema_extra=_no_default)
    description: str = Field("", json_schema_extra=_no_default)
    system: str = Field("", min_length=1, json_schema_extra=_no_default,
                        description="ExternalSystemTypes code (informational)")
    parameters: dict[str, dict[str, Scalar]] = Field(
        default_factory=dict, json_schema_extra=_no_default,
        description="action -> parameter name -> value (Alma's flat parameter list, each "
                    "entry tagged with its action); parameters not listed are kept. "
                    "Credentials (names containing " + ", ".join(sorted(CREDENTIAL_WORDS))
                    + ") only as ${ENV_VAR} references")


# -- Alma's JSON ------------------------------------------------------------------------------

def _path(profile_id: str | None = None) -> str:
    return f"{BASE}/{quote(profile_id, safe='')}" if profile_id is not None else BASE


def _entries(payload: Mapping[str, Any]) -> list[Any]:
    """A payload's ``parameter`` list as read (one entry may come as a bare object)."""
    return as_list(payload.get("parameter"))


def identity(entry: Any) -> Identity | None:
    """``(action, name)`` of a parameter entry; None when it lacks either."""
    if not isinstance(entry, Mapping):
        return None
    action, name = unwrap(entry.get("action")), unwrap(entry.get("name"))
    if action in (None, "") or name in (None, "") or isinstance(action, (dict, list)) \
            or isinstance(name, (dict, list)):
        return None
    return str(action), str(name)


def _doubtful(payload: Mapping[str, Any]) -> set[Identity]:
    """Pairs Alma holds more than once, and ``("", name)`` for each name of an entry with
    no action: almasync cannot tell which entry such a pair means."""
    pairs = Counter(identity(e) for e in _entries(payload))
    doubtful = {pair for pair, count in pairs.items() if pair is not None and count > 1}
    doubtful |= {("", str(unwrap(e.get("name")))) for e in _entries(payload)
                 if isinstance(e, Mapping) and identity(e) is None and e.get("name")}
    return doubtful


def normalise(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Alma's profile JSON -> the declared-field form; credentials come back redacted.
    A pair Alma holds twice is left out (it cannot be addressed), and so are entries
    without an action or a name; a write keeps all of them as read."""
    out: dict[str, Any] = {name: unwrap(payload[name]) or ""
                           for name in (*CODED, *TEXT) if name in payload}
    doubtful = _doubtful(payload)
    parameters: dict[str, dict[str, Any]] = {}
    for entry in _entries(payload):
        pair = identity(entry)
        if pair is None or pair in doubtful:
            continue
        action, name = pair
        value = unwrap(entry.get("value"))
        value = "" if value is None else value
        parameters.setdefault(action, {})[name] = (Redacted(str(value)) if is_credential(name)
                                                   else scalar(value))
    out["parameters"] = parameters
    return out


def _wire_value(value: Any) -> Any:
    """Parameter values go to Alma as text: booleans as "true"/"false"."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def _same(live: Any, declared: Any) -> bool:
    """Whether a live value already is the declared one (compared in normal form)."""
    return bool(scalar(live) == scalar(declared))


def merged_parameters(live: list[Any], declared: Mapping[str, Mapping[str, Any]],
                      what: str) -> list[Any]:
    """Alma's parameter list with each declared (action, name) entry whose value differs
    changed (or added, with its action); every other entry stays exactly as read, in its
    place."""
    entries = [dict(e) if isinstance(e, Mapping) else e for e in live]
    for action, values in declared.items():
        for name, value in values.items():
            found = [e for e in entries if identity(e) == (action, name)]
            if len(found) > 1:
                raise ConfigError(Problem(None, f"{what}: Alma holds parameter {name} of "
                                          f"action {action} {len(found)} times; almasync "
                                          "cannot tell which to change, nothing was written"))
            if found:
                if not _same(found[0].get("value"), value):
                    found[0]["value"] = _wire_value(value)
            else:
                entries.append({"action": wrap(action), "name": wrap(name),
                                "value": _wire_value(value)})
    return entries


def to_wire(current: Mapping[str, Any], fields: Fields, what: str) -> dict[str, Any]:
    """Merge declared ``fields`` (secrets resolved) into Alma's JSON ``current``: only
    what differs changes; fields and parameters the file does not declare, and declared
    ones that already hold the declared value, are kept exactly as read."""
    out = dict(current)
    out.update({n: wrap(v) if n in CODED else v for n, v in fields.items()
                if n != "parameters" and not (n in current and _same(current[n], v))})
    merged = merged_parameters(_entries(current), fields.get("parameters") or {}, what)
    if merged or "parameter" in current:
        out["parameter"] = merged if merged != _entries(current) else current["parameter"]
    return out


# -- the kind ---------------------------------------------------------------------------------

class IntegrationProfileHandler(KindHandler):
    kind: ClassVar[Kind] = Kind.INTEGRATION_PROFILE
    model: ClassVar[type[FieldsModel]] = IntegrationProfileFields
    # No top-level field is sensitive: credentials sit inside parameters and are redacted
    # as they are read (almasync.kinds.secrets), so no output can hold them.

    def write_target(self, key: Key, fields: Fields) -> Hashable:
        """Every profile: a profile is found by its code in the list of
        ``/conf/integration-profiles``, which a create or a change of code changes, so
        profiles are written one at a time, each after reading the list as the writes
        before it left it."""
        return "/conf/integration-profiles"

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        problem = not_a_mapping(node, path, doc, "profile codes to their fields")
        if problem:
            yield problem
            return
        for code, raw in node.items():
            where, label = (*path, code), f"integration_profiles.{code}"
            problems, safe = credential_problems(raw, where, doc, label)
            yield from problems
            yield Declared((str(code),), safe, where, label)

    def fields_of(self, model: FieldsModel) -> dict[str, Any]:
        return map_groups(super().fields_of(model),
                          lambda _, values: {k: scalar(v) for k, v in values.items()})

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        """Each declared type must be a code of the institution's IntegrationTypes table."""
        types = _known_types(refs) if resources else None
        if types is None:
            return []
        return [Problem(resource.marks.get("type", resource.mark),
                        f"integration_profiles.{key[0]}.type: {wanted!r} is not a code of "
                        f"Alma's {TYPES_TABLE} code table ({_some_of(wanted, types)})")
                for key, resource in sorted(resources.items())
                if (wanted := resource.fields["type"]) not in types]

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "description": "profile code -> fields",
                "additionalProperties": fields}

    def prunable(self, key: Key, rule: bool | frozenset[str]) -> bool:
        """``true`` owns every profile; a list owns the codes starting with its prefixes."""
        if isinstance(rule, frozenset):
            return any(key[0].startswith(prefix) for prefix in rule)
        return rule is True

    def comparable(self, desired: Fields, live: Fields | None) -> tuple[Fields, Fields]:
        """Declared fields only, down to the declared (action, name) pairs; a pair live
        lacks is left out of ``have`` (the plan shows it as an addition), and a credential
        compares as "(sensitive)"."""
        live = live or {}
        want = {n: v for n, v in desired.items() if n != "parameters"}
        have: dict[str, Any] = {n: live.get(n) for n in want}
        if "parameters" in desired:
            current = live.get("parameters") or {}
            want["parameters"], have["parameters"] = {}, {}
            for action, values in desired["parameters"].items():
                now = current.get(action) or {}
                wanted, shown = {}, {}
                for name, value in values.items():
                    wanted[name], seen = (compare_secret(value, now.get(name))
                                          if is_credential(name) else (value, now.get(name)))
                    if name in now:
                        shown[name] = seen
                want["parameters"][action], have["parameters"][action] = wanted, shown
        return want, have

    def live_view(self, desired: Fields, live: Fields | None) -> Fields:
        """The compared live side: credentials as "(sensitive)", never their digest."""
        return self.comparable(desired, live)[1]

    def restoring(self, written: Fields, saved: Fields) -> dict[str, Any]:
        """The saved values of the fields and the (action, name) pairs written; a pair the
        update added has no saved value and stays (parameters are never removed)."""
        out = {n: saved[n] for n in written if n in saved and n != "parameters"}
        had = saved.get("parameters") or {}
        restored = {action: {n: had[action][n] for n in values if n in (had.get(action) or {})}
                    for action, values in (written.get("parameters") or {}).items()}
        if any(restored.values()):
            out["parameters"] = {a: values for a, values in restored.items() if values}
        return out

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        listed = {e["code"]: e for e in client.get_list(BASE, "integration_profile",
                                                         paged=True)}
        problems = _declared_problems(query.declared, listed, writing=not client.read_only)
        keys = [(code,) for code in sorted(listed) if (code,) in query.wanted
                or query.everything or self.prunable((code,), query.prune)]

        def one(key: Key) -> tuple[Key, Mapping[str, Any]]:
            entry = listed[key[0]]
            wanted = query.wanted.get(key, frozenset())
            if (query.detail or not wanted <= normalise(entry).keys()
                    or ("parameters" in wanted and "parameter" not in entry)):
                # A list entry without parameters may be brief: the full object decides.
                return key, client.get(_path(entry["id"]))
            return key, entry
        payloads = dict(client.map(one, keys))
        problems += _doubtful_problems(query.declared, payloads)
        if problems:  # every profile's, together
            raise ConfigError(problems)
        return {key: normalise(payload) for key, payload in payloads.items()}

    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        what = f"{self.kind.config_key} {key[0]}"
        resolved, secrets = resolve(fields, what)
        with scrubbed(secrets):
            client.post(BASE, to_wire({"code": key[0]}, resolved, what))

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        what = f"{self.kind.config_key} {key[0]}"
        resolved, secrets = resolve(fields, what)
        current = strip_output_only(client.get(_path(_find_id(client, key[0]))))
        with scrubbed(secrets):
            client.put(_path(current["id"]), to_wire(current, resolved, what))

    def delete(self, client: AlmaClient, key: Key) -> None:
        client.delete(_path(_find_id(client, key[0])))

    def unready(self, fields: Fields) -> list[str]:
        return [f"{path} refers to ${{{variable}}}, which is not set (or empty)"
                for path, variable in missing_variables(fields)]

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        """Live profiles as config; a credential becomes a reference to a variable named
        after the profile, the action and the parameter, for the user to set."""
        tree: dict[str, dict[str, Any]] = {}
        for key in sorted(resources):
            fields = {n: v for n, v in resources[key].fields.items() if v not in ("", {})}

            def flat(group: Group, values: Mapping[str, Any], code: str = key[0]
                     ) -> dict[str, Any]:
                return {n: reference_for("_".join((code, *group[1:], n))) if is_credential(n)
                        else v for n, v in values.items()}
            tree[key[0]] = map_groups(fields, flat)
        return tree


def _known_types(refs: References) -> frozenset[str] | None:
    """The IntegrationTypes codes, or None when the table cannot be read with this key
    (Alma still refuses an unknown type on apply, with 40166404)."""
    return refs.known_codes(TYPES_TABLE)


def _some_of(wanted: str, types: frozenset[str], count: int = 5) -> str:
    """A few valid codes, the closest to ``wanted`` first."""
    close = difflib.get_close_matches(wanted, sorted(types), n=3, cutoff=0.5)
    shown = [*close, *(t for t in sorted(types) if t not in close)][:count]
    more = len(types) - len(shown)
    return ("valid types: " + ", ".join(shown) + (f" and {more} more" if more > 0 else "")
            if types else "the table is empty")


def _declared_problems(declared: Mapping[Key, Resource],
                       listed: Mapping[str, Mapping[str, Any]],
                       writing: bool) -> list[Problem]:
    """What stops a run before anything is compared or written: a type Alma cannot change,
    and (before an apply) a credential whose variable is not set."""
    problems = []
    for key, resource in declared.items():
        entry, wanted = listed.get(key[0]), resource.fields["type"]
        live = unwrap(entry.get("type")) if entry is not None else wanted
        if live != wanted:
            problems.append(Problem(
                resource.marks.get("type", resource.mark),
                f"integration_profiles.{key[0]}.type: the profile is {live} in Alma and Alma "
                f"cannot change a profile's type; give the {wanted} profile a new code "
                f"(prune can delete the old one), or declare type: {live}"))
        problems.extend(
            Problem(resource.marks.get(path.split(".")[0], resource.mark),
                    f"integration_profiles.{key[0]}.{path}: ${{{variable}}} is not set (or "
                    "empty); apply needs the secret to compare and write it")
            for path, variable in (missing_variables(resource.fields) if writing else ()))
    return problems


def _doubtful_problems(declared: Mapping[Key, Resource],
                       payloads: Mapping[Key, Mapping[str, Any]]) -> list[Problem]:
    """Declared parameters that match more than one live entry: Alma holds the pair
    twice, or holds an entry of that name without an action."""
    problems = []
    for key, resource in sorted(declared.items()):
        doubtful = _doubtful(payloads[key]) if key in payloads else set()
        for action, values in (resource.fields.get("parameters") or {}).items():
            for name in values:
                if (action, name) in doubtful or ("", name) in doubtful:
                    problems.append(Problem(
                        resource.marks.get("parameters", resource.mark),
                        f"integration_profiles.{key[0]}.parameters.{action}.{name}: Alma "
                        "holds more than one entry that may be this parameter (the same "
                        "action and name twice, or the name without an action); almasync "
                        "cannot tell which to change. Fix the profile in Alma, or leave "
                        "this parameter out of the file"))
    return problems


def _find_id(client: AlmaClient, code: str) -> str:
    """The id of the profile with ``code`` (profiles are few: the whole list is read)."""
    for entry in client.get_list(BASE, "integration_profile", paged=True):
        if entry.get("code") == code:
            return str(entry["id"])
    raise AlmaError(400, "60304", f"there is no integration profile with code {code!r} in "
                    "Alma (deleted or changed since the plan was made?)", method="GET",
                    path=BASE)
