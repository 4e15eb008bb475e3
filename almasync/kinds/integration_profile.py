"""Integration profiles: ``/conf/integration-profiles[/{id}]``, keyed by profile code.

Config shape: ``integration_profiles: {CODE: {type, name, description, system, actions,
parameters}}``; ``actions`` maps an action type to that action's fields, ``parameters`` a
parameter name to its value. Alma gives profiles system ids, so a profile is found by code
in the paged list. Updates read the whole profile, merge the declared fields, actions and
parameters (keeping the others) and PUT it back. Alma cannot change a profile's type: a
declared type that differs from the live one stops the plan with a config error at its line.
Deletes happen only inside ``prune: integration_profiles`` (``true``, or code prefixes).

Credentials are parameters or action fields whose names contain a word of
:data:`CREDENTIAL_WORDS`. Files, desired fields and plan files hold them only as
``${ENV_VAR}`` references; live values are redacted where they are read (:class:`Redacted`),
so no later layer can print them. A variable's value is read only to compare (as a digest)
and to write.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import AlmaError, ConfigError, Problem
from almasync.kinds.base import Declared, FieldsModel, KindHandler, LiveQuery
from almasync.kinds.references import References
from almasync.kinds.wire import as_bool, strip_output_only, unwrap, wrap
from almasync.model import Fields, Key, Kind, Resource

BASE = "/conf/integration-profiles"
#: Where check_references leaves the declared profiles for read_live.
TEXT = ("name", "description")
#: Top-level fields Alma wraps as ``{"value", "desc"}``.
CODED = ("type", "system")
#: A parameter or action field whose name contains one of these words (ignoring case, "_"
#: and "-") is a credential.
CREDENTIAL_WORDS = frozenset({"password", "passwd", "secret", "token", "apikey", "privatekey",
                              "credential"})
SENSITIVE = "(sensitive)"
CHANGED = "(sensitive value changed)"
_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")

Scalar = str | int | bool
#: Where a flat mapping sits in a profile: ("parameters",) or ("actions", ACTION_TYPE).
Group = tuple[str, ...]


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


# -- credentials ------------------------------------------------------------------------------

def is_credential(name: Any) -> bool:
    squashed = re.sub(r"[^a-z0-9]", "", str(name).lower())
    return any(word in squashed for word in CREDENTIAL_WORDS)


def variable_of(value: Any) -> str | None:
    """NAME of a ``${NAME}`` reference; None for any other value."""
    match = _REFERENCE.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _environment(variable: str | None) -> str | None:
    # An empty variable counts as unset: CI systems expand a missing secret to "".
    return (os.environ.get(variable) or None) if variable else None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Redacted(str):
    """A live credential as almasync holds it: it prints, compares and serialises (JSON,
    YAML, fingerprints) as "(sensitive)"; a digest of the value stays in memory to compare."""

    digest: str

    def __new__(cls, secret: str) -> Redacted:
        self = super().__new__(cls, SENSITIVE)
        self.digest = _digest(secret)
        return self


def scalar(value: Any) -> Any:
    """The normal form of parameter and action values on both sides: booleans (and
    Alma's "true"/"false") as bool, numbers as text, wrapped values unwrapped."""
    value = as_bool(value)
    return value if isinstance(value, bool) or value is None else str(value)


def compare_secret(declared: Any, live: Any) -> tuple[str, str]:
    """``(want, have)`` for one credential: both "(sensitive)" when Alma holds the
    variable's value, or when the variable is unset (a plan needs no secrets; apply will
    not start without them); "(sensitive value changed)" when they differ."""
    value = _environment(variable_of(declared))
    if live is None or value is None:
        return SENSITIVE, SENSITIVE
    same = isinstance(live, Redacted) and hmac.compare_digest(live.digest, _digest(value))
    return (SENSITIVE if same else CHANGED), SENSITIVE


def _groups(fields: Mapping[str, Any]) -> Iterator[tuple[Group, Mapping[str, Any]]]:
    """Every flat mapping of a profile: its parameters and each action's fields."""
    if isinstance(fields.get("parameters"), Mapping):
        yield ("parameters",), fields["parameters"]
    actions = fields.get("actions")
    for action, values in actions.items() if isinstance(actions, Mapping) else ():
        if isinstance(values, Mapping):
            yield ("actions", str(action)), values


def _map_groups(fields: Mapping[str, Any],
                fn: Callable[[Group, Mapping[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """``fields`` with each flat mapping replaced by ``fn(group, mapping)``."""
    out = dict(fields)
    if isinstance(out.get("actions"), Mapping):
        out["actions"] = dict(out["actions"])
    for group, values in _groups(fields):
        if group == ("parameters",):
            out["parameters"] = fn(group, values)
        else:
            out["actions"][group[1]] = fn(group, values)
    return out


def missing_variables(fields: Fields) -> list[tuple[str, str]]:
    """``(dotted path, variable)`` of each credential whose variable is unset."""
    return [(".".join((*group, name)), variable)
            for group, values in _groups(fields) for name, value in values.items()
            if is_credential(name) and (variable := variable_of(value))
            and _environment(variable) is None]


def resolve(fields: Fields, what: str) -> tuple[dict[str, Any], list[str]]:
    """Declared fields with each ``${VAR}`` replaced by its value, and those values (to
    scrub from Alma's messages). A credential that is not a reference (the "(sensitive)"
    a rollback restores) is left out, so Alma keeps the value it has."""
    missing = missing_variables(fields)
    if missing:
        raise ConfigError([Problem(None, f"{what}: {path} refers to ${{{variable}}}, which "
                                   "is not set (or empty); set it and run apply again")
                           for path, variable in missing])
    secrets: list[str] = []

    def flat(_: Group, values: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, value in values.items():
            secret = _environment(variable_of(value)) if is_credential(name) else None
            if secret is not None:
                secrets.append(secret)
                out[name] = secret
            elif not is_credential(name):
                out[name] = value
        return out
    return _map_groups(fields, flat), secrets


@contextmanager
def scrubbed(secrets: list[str]) -> Iterator[None]:
    """Alma may quote what it was sent in an error: such a message is raised again with
    every secret replaced by "(sensitive)", and without the original as its cause."""
    try:
        yield
    except AlmaError as exc:
        message = exc.alma_message
        for secret in secrets:
            message = message.replace(secret, SENSITIVE)
        if message == exc.alma_message:
            raise
        raise type(exc)(exc.status, exc.code, message, exc.tracking_id, exc.method,
                        exc.path) from None


def credential_problems(raw: Any, where: NodePath, doc: YamlDoc,
                        label: str) -> tuple[list[Problem], Any]:
    """Credentials written as values instead of ``${VAR}`` references, and references
    where no credential is. Returns ``raw`` with such values replaced, so no later schema
    error can quote a secret."""
    if not isinstance(raw, dict):
        return [], raw
    problems: list[Problem] = []

    def flat(group: Group, values: Mapping[str, Any]) -> dict[str, Any]:
        cleaned = dict(values)
        for name, value in values.items():
            mark = doc.mark((*where, *group, name), value=True)
            dotted = ".".join((label, *group, str(name)))
            variable = variable_of(value)
            if is_credential(name) and variable is None:
                example = _variable("_".join((label.split(".", 1)[1], *group[1:], str(name))))
                problems.append(Problem(mark, f"{dotted}: a credential is written only as a "
                                        f"${{ENV_VAR}} reference, e.g. {example}; never put "
                                        "its value in a file"))
                cleaned[name] = "${REDACTED}"
            elif variable is not None and not is_credential(name):
                problems.append(Problem(mark, f"{dotted}: ${{{variable}}} references are only "
                                        "for credentials (names containing "
                                        + ", ".join(sorted(CREDENTIAL_WORDS)) + ")"))
        return cleaned
    return problems, _map_groups(raw, flat)


def _variable(name: str) -> str:
    """A ``${VAR}`` reference whose variable is named after ``name``."""
    return "${" + "".join(c if c.isalnum() else "_" for c in name.upper()) + "}"


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
    #: Credential words: a parameter or action field whose name contains one (ignoring
    #: case, "_" and "-") is sensitive; nothing almasync prints or saves holds its value.
    sensitive_fields: ClassVar[frozenset[str]] = CREDENTIAL_WORDS

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        if not isinstance(node, dict):
            yield Problem(doc.mark(path, value=True), "integration_profiles: expected a "
                          "mapping of profile codes to their fields")
            return
        for code, raw in node.items():
            where, label = (*path, code), f"integration_profiles.{code}"
            problems, safe = credential_problems(raw, where, doc, label)
            yield from problems
            yield Declared((str(code),), safe, where, label)

    def fields_of(self, model: FieldsModel) -> dict[str, Any]:
        return _map_groups(super().fields_of(model),
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
        return _map_groups(desired, flat), have

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
                return {n: _variable("_".join((code, *group[1:], n))) if is_credential(n)
                        else v for n, v in values.items()}
            tree[key[0]] = _map_groups(fields, flat)
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
