"""Integration profiles: ``/conf/integration-profiles[/{id}]``, keyed by profile code.

Config shape: ``integration_profiles: {CODE: {type, name, description, system, actions,
parameters}}``; ``actions`` maps an action type to that action's fields, ``parameters`` a
parameter name to its value. Alma gives profiles system ids, so a profile is found by code
in the paged list. Updates read the whole profile, merge the declared fields, actions and
parameters (keeping the others) and PUT it back. Alma cannot change a profile's type: a
declared type that differs from the live one stops the plan with a config error at its line.
Deletes happen only inside ``prune: integration_profiles`` (``true``, or code prefixes).

Credentials among parameters and action fields follow :mod:`almasync.kinds.secrets`:
``${ENV_VAR}`` references in files, resolved at apply time, compared by digest, redacted in
every output.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field

from almasync.alma.client import AlmaClient
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
#: Top-level fields Alma sends as plain text.
TEXT = ("name", "description")
#: Top-level fields Alma wraps as ``{"value", "desc"}``.
CODED = ("type", "system")

Scalar = str | int | bool


def _no_default(schema: dict[str, Any]) -> None:
    # Omitted means "not managed", not an empty value; the schema should not suggest one.
    schema.pop("default", None)


class IntegrationProfileFields(FieldsModel):
    """An integration profile as declared in a config file (Alma's field names)."""

    type: str = Field(min_length=1, description="IntegrationTypes code, e.g. USERS, SIS, "
                      "DISCOVERY; Alma cannot change it once the profile exists")
    name: str = Field("", min_length=1, json_schema_extra=_no_default)
    description: str = Field("", json_schema_extra=_no_default)
    system: str = Field("", min_length=1, json_schema_extra=_no_default,
                        description="ExternalSystemTypes code (informational)")
    actions: dict[str, dict[str, Scalar]] = Field(
        default_factory=dict, json_schema_extra=_no_default,
        description="action type -> that action's fields; actions not listed are kept")
    parameters: dict[str, Scalar] = Field(
        default_factory=dict, json_schema_extra=_no_default,
        description="parameter name -> value; parameters not listed are kept. Credentials "
                    "(names containing " + ", ".join(sorted(CREDENTIAL_WORDS)) + ") only "
                    "as ${ENV_VAR} references")


# -- Alma's JSON ------------------------------------------------------------------------------

def _path(profile_id: str | None = None) -> str:
    return f"{BASE}/{quote(profile_id, safe='')}" if profile_id is not None else BASE


def _parameter_list(payload: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """``(key, entries)`` of a payload's parameters. Alma's JSON drops XML wrappers
    (``parameter: [...]``); the emulator serves ``parameters: [...]``: both are read."""
    for key in ("parameters", "parameter"):
        value = payload.get(key)
        if value is not None:
            return key, [dict(p) for p in (value if isinstance(value, list) else [value])
                         if isinstance(p, Mapping)]
    return "parameters", []


def normalise(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Alma's profile JSON -> the declared-field form; credentials come back redacted."""
    def redact(values: Mapping[str, Any]) -> dict[str, Any]:
        return {str(k): Redacted(str(unwrap(v) or "")) if is_credential(k) else scalar(v)
                for k, v in values.items()}
    out: dict[str, Any] = {name: unwrap(payload[name]) or ""
                           for name in (*CODED, *TEXT) if name in payload}
    if "actions" in payload:
        out["actions"] = {str(unwrap(a.get("type"))): redact(
            {k: v for k, v in a.items() if k != "type"})
            for a in payload["actions"] or [] if isinstance(a, Mapping)}
    key, entries = _parameter_list(payload)
    if key in payload:
        out["parameters"] = redact({unwrap(p.get("name")): p.get("value") for p in entries})
    return out


def to_wire(current: Mapping[str, Any], fields: Fields) -> dict[str, Any]:
    """Merge declared ``fields`` (secrets resolved) into Alma's JSON ``current``: declared
    actions and parameters are changed or added, the others kept as they are."""
    out = dict(current)
    out.update({n: wrap(v) if n in CODED else v for n, v in fields.items() if n not in _NESTED})
    if "actions" in fields:
        actions = [dict(a) for a in current.get("actions") or [] if isinstance(a, Mapping)]
        for action, values in fields["actions"].items():
            _entry(actions, "type", action).update(values)
        out["actions"] = actions
    if "parameters" in fields:
        key, entries = _parameter_list(current)
        params = [dict(p) for p in entries]
        for name, value in fields["parameters"].items():
            _entry(params, "name", name)["value"] = value
        out[key] = params
    return out


def _entry(entries: list[dict[str, Any]], field: str, value: str) -> dict[str, Any]:
    """The entry whose ``field`` is ``value``, appended when there is none."""
    found = next((e for e in entries if unwrap(e.get(field)) == value), None)
    if found is None:
        entries.append(found := {field: value})
    return found


_NESTED = ("actions", "parameters")


# -- the kind ---------------------------------------------------------------------------------

class IntegrationProfileHandler(KindHandler):
    kind: ClassVar[Kind] = Kind.INTEGRATION_PROFILE
    model: ClassVar[type[FieldsModel]] = IntegrationProfileFields
    # No top-level field is sensitive: credentials sit inside actions and parameters and
    # are redacted as they are read (almasync.kinds.secrets), so no output can hold them.

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
        return []

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "description": "profile code -> fields",
                "additionalProperties": fields}

    def prunable(self, key: Key, rule: bool | frozenset[str]) -> bool:
        """``true`` owns every profile; a list owns the codes starting with its prefixes."""
        if isinstance(rule, frozenset):
            return any(key[0].startswith(prefix) for prefix in rule)
        return rule is True

    def comparable(self, desired: Fields, live: Fields | None) -> tuple[Fields, Fields]:
        """Declared fields only, down to declared parameters and actions' fields (a name
        live lacks is left out of ``have``); a credential compares as "(sensitive)"."""
        live = live or {}
        have: dict[str, Any] = {n: live.get(n) for n in desired if n not in _NESTED}
        have.update({n: {} for n in _NESTED if n in desired})

        def flat(group: Group, values: Mapping[str, Any]) -> dict[str, Any]:
            current = (live.get("parameters") if len(group) == 1
                       else (live.get("actions") or {}).get(group[1]))
            want: dict[str, Any] = {}
            shown: dict[str, Any] = {}
            for name, value in values.items():
                now = (current or {}).get(name)
                want[name], shown[name] = (compare_secret(value, now) if is_credential(name)
                                           else (value, now))
            if current is not None:
                shown = {n: v for n, v in shown.items() if n in current}
                if group == ("parameters",):
                    have["parameters"] = shown
                else:
                    have["actions"][group[1]] = shown
            return want
        return map_groups(desired, flat), have

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        listed = {e["code"]: e for e in client.get_list(BASE, "integration_profile",
                                                         paged=True)}
        _check_declared(query.declared, listed, writing=not client.read_only)
        keys = [(code,) for code in sorted(listed) if (code,) in query.wanted
                or query.everything or self.prunable((code,), query.prune)]

        def one(key: Key) -> tuple[Key, Fields]:
            entry = listed[key[0]]
            fields = normalise(entry)
            if query.detail or not query.wanted.get(key, frozenset()) <= fields.keys():
                fields = normalise(client.get(_path(entry["id"])))
            return key, fields
        return dict(client.map(one, keys))

    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        resolved, secrets = resolve(fields, f"{self.kind.value} {key[0]}")
        with scrubbed(secrets):
            client.post(BASE, to_wire({"code": key[0]}, resolved))

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        resolved, secrets = resolve(fields, f"{self.kind.value} {key[0]}")
        current = strip_output_only(client.get(_path(_find_id(client, key[0]))))
        with scrubbed(secrets):
            client.put(_path(current["id"]), to_wire(current, resolved))

    def delete(self, client: AlmaClient, key: Key) -> None:
        client.delete(_path(_find_id(client, key[0])))

    def unready(self, fields: Fields) -> list[str]:
        return [f"{path} refers to ${{{variable}}}, which is not set (or empty)"
                for path, variable in missing_variables(fields)]

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        """Live profiles as config; a credential becomes a reference to a variable named
        after the profile and the field, for the user to set."""
        tree: dict[str, dict[str, Any]] = {}
        for key in sorted(resources):
            fields = {n: v for n, v in resources[key].fields.items() if v not in ("", {})}

            def flat(group: Group, values: Mapping[str, Any], code: str = key[0]
                     ) -> dict[str, Any]:
                return {n: reference_for("_".join((code, *group[1:], n))) if is_credential(n)
                        else v for n, v in values.items()}
            tree[key[0]] = map_groups(fields, flat)
        return tree


def _check_declared(declared: Mapping[Key, Resource], listed: Mapping[str, Mapping[str, Any]],
                    writing: bool) -> None:
    """Stop before anything is compared or written: a type Alma cannot change, and
    (before an apply) a credential whose variable is not set."""
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
    if problems:
        raise ConfigError(problems)


def _find_id(client: AlmaClient, code: str) -> str:
    """The id of the profile with ``code`` (profiles are few: the whole list is read)."""
    for entry in client.get_list(BASE, "integration_profile", paged=True):
        if entry.get("code") == code:
            return str(entry["id"])
    raise AlmaError(400, "60304", f"there is no integration profile with code {code!r} in "
                    "Alma (deleted or changed since the plan was made?)", method="GET",
                    path=BASE)
