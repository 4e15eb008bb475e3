"""Job parameters: ``NAME=VALUE`` options, params files, the JSON body, set names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import YamlDoc, YamlSyntaxError, read_yaml
from almasync.errors import ConfigError, Problem, UsageError
from almasync.jobs.errors import JobInputError

SET_PARAM = "set_id"
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


def parse_param(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` -> (NAME, VALUE); the value may be empty or hold ``=``.

    Raises :class:`UsageError` (exit 64) for anything else.
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name):
        raise UsageError(f"--param {text!r}: expected NAME=VALUE, where NAME is a job "
                         "parameter name such as set_id (letters, digits, _ . -)")
    return name, value


def parse_params(texts: Iterable[str]) -> dict[str, str]:
    """Every ``--param``; a name given twice keeps the last value."""
    return dict(parse_param(text) for text in texts)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def load_params_file(path: Path) -> dict[str, str]:
    """A YAML or JSON file holding one mapping ``NAME: VALUE`` (scalar values).

    Raises :class:`ConfigError` listing every problem with its ``file:line:col``.
    """
    try:
        doc = read_yaml(path, str(path))
    except YamlSyntaxError as exc:
        raise ConfigError(exc.problem) from exc
    if not isinstance(doc.data, dict):
        raise ConfigError(Problem(doc.mark(()), "a params file must be a mapping of "
                                  "parameter names to values, e.g. `set_id: \"1234\"`"))
    return _check_params(doc, doc.data)


def _check_params(doc: YamlDoc, data: Mapping[Any, Any]) -> dict[str, str]:
    params: dict[str, str] = {}
    problems: list[Problem] = []
    for name, value in data.items():
        text = _scalar_text(value)
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(Problem(doc.mark((name,)), f"{name!r} is not a parameter name "
                                    "(letters, digits, _ . -)"))
        elif text is None:
            problems.append(Problem(doc.mark((name,), value=True), f"{name}: the value must "
                                    "be a single text, number or boolean"))
        else:
            params[name] = text
    if problems:
        raise ConfigError(problems)
    return params


def params_body(params: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body of ``POST /conf/jobs/{id}?op=run`` (FACTS.md section 6).

    ``{"parameter": [{"name": {"value": N}, "value": V}, ...]}`` in the given order, or
    ``{}`` when there are none (what Alma expects for scheduled jobs).
    """
    if not params:
        return {}
    return {"parameter": [{"name": {"value": name}, "value": value}
                          for name, value in params.items()]}


class SetNotFound(JobInputError):
    def __init__(self, name: str, similar: list[str]) -> None:
        near = f"; sets with similar names: {', '.join(sorted(similar)[:5])}" if similar else ""
        super().__init__(f"--set {name!r}: there is no set with exactly this name{near}")


class SetAmbiguous(JobInputError):
    def __init__(self, name: str, ids: list[str]) -> None:
        super().__init__(f"--set {name!r}: {len(ids)} sets have this name (ids "
                         f"{', '.join(sorted(ids))}); pass the one you mean as "
                         f"--param {SET_PARAM}=ID")


def resolve_set(client: AlmaClient, name: str) -> str:
    """The id of the set called exactly ``name`` (case and spaces included).

    Uses Alma's brief search ``GET /conf/sets?q=name~<name>`` (spaces written as ``_``)
    and keeps only exact matches. Raises :class:`SetNotFound` or :class:`SetAmbiguous`.
    """
    if not name.strip():
        raise UsageError("--set needs a set name")
    query = "name~" + "_".join(name.split(" "))
    found = client.get_list("/conf/sets", "set", {"q": query}, paged=True)
    exact = [str(entry.get("id")) for entry in found if entry.get("name") == name]
    if not exact:
        raise SetNotFound(name, [str(entry.get("name")) for entry in found])
    if len(exact) > 1:
        raise SetAmbiguous(name, exact)
    return exact[0]
