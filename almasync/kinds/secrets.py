"""Credentials: how they are written in config files, resolved at apply time, compared by
digest and redacted in every output.

A credential is a parameter of an integration profile whose name contains a word of
:data:`CREDENTIAL_WORDS` (ignoring case, "_" and "-"). Parameters are identified by their
action and their name, so each rule below holds per (action, name). The contract:

* Written: config files, desired fields and plan files hold a credential only as a
  ``${ENV_VAR}`` reference; a value in its place, or a reference where no credential is, is a
  config error (:func:`credential_problems`), and export writes references
  (:func:`reference_for`).
* Resolved at apply time: a variable's value is read only to compare and to write; apply
  will not start while one is unset or empty (:func:`missing_variables`, :func:`resolve`).
* Compared by digest: a live value is kept only as a SHA-256 digest, compared with the
  digest of the variable's value (:func:`compare_secret`).
* Redacted in every output: live values are redacted where they are read (:class:`Redacted`
  prints, compares and serialises as "(sensitive)"), so no later layer can print them, and
  Alma's messages quoting a value sent are scrubbed (:func:`scrubbed`).

:func:`groups` and :func:`map_groups` walk the flat mappings where credentials sit: the
parameters of each action of a profile.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import AlmaError, ConfigError, Problem
from almasync.kinds.wire import as_bool
from almasync.model import Fields

#: A parameter whose name contains one of these words (ignoring case, "_" and "-") is a
#: credential.
CREDENTIAL_WORDS = frozenset({"password", "passwd", "secret", "token", "apikey", "privatekey",
                              "credential"})
SENSITIVE = "(sensitive)"
CHANGED = "(sensitive value changed)"
_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
#: Where a flat mapping sits in a profile: ("parameters", ACTION).
Group = tuple[str, ...]


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


def groups(fields: Mapping[str, Any]) -> Iterator[tuple[Group, Mapping[str, Any]]]:
    """Every flat mapping of a profile: the parameters of each action."""
    parameters = fields.get("parameters")
    for action, values in parameters.items() if isinstance(parameters, Mapping) else ():
        if isinstance(values, Mapping):
            yield ("parameters", str(action)), values


def map_groups(fields: Mapping[str, Any],
               fn: Callable[[Group, Mapping[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """``fields`` with each flat mapping replaced by ``fn(group, mapping)``."""
    out = dict(fields)
    if isinstance(out.get("parameters"), Mapping):
        out["parameters"] = dict(out["parameters"])
    for group, values in groups(fields):
        out["parameters"][group[1]] = fn(group, values)
    return out


def missing_variables(fields: Fields) -> list[tuple[str, str]]:
    """``(dotted path, variable)`` of each credential whose variable is unset."""
    return [(".".join((*group, name)), variable)
            for group, values in groups(fields) for name, value in values.items()
            if is_credential(name) and (variable := variable_of(value))
            and _environment(variable) is None]


def resolve(fields: Fields, what: str) -> tuple[dict[str, Any], list[str]]:
    """Declared fields with each ``${VAR}`` replaced by its value, and those values (to
    scrub from Alma's messages). A credential that is not a reference (the "(sensitive)"
    a rollback restores) is left out, so Alma keeps the value it has."""
    missing = missing_variables(fields)
    if missing:
        raise ConfigError([Problem(None, f"{what}: {path} refers to ${{{variable}}}, which "
                                   "is not set (or empty); set it before applying")
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
    return map_groups(fields, flat), secrets


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
                example = reference_for("_".join((label.split(".", 1)[1], *group[1:], str(name))))
                problems.append(Problem(mark, f"{dotted}: a credential is written only as a "
                                        f"${{ENV_VAR}} reference, e.g. {example}; never put "
                                        "its value in a file"))
                cleaned[name] = "${REDACTED}"
            elif variable is not None and not is_credential(name):
                problems.append(Problem(mark, f"{dotted}: ${{{variable}}} references are only "
                                        "for credentials (names containing "
                                        + ", ".join(sorted(CREDENTIAL_WORDS)) + ")"))
        return cleaned
    return problems, map_groups(raw, flat)


def reference_for(name: str) -> str:
    """A ``${VAR}`` reference whose variable is named after ``name``."""
    return "${" + "".join(c if c.isalnum() else "_" for c in name.upper()) + "}"
