"""Translate pydantic validation errors into ``file:line:col: path: message`` problems.

The only place that reads pydantic's error structures; keyed on the error type, not its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import Problem

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "extra_forbidden": "unknown field {field!r}",
    "missing": "missing required field {field!r}",
}


def validate_model(
    model: type[M], raw: Any, doc: YamlDoc, path: NodePath, label: str
) -> tuple[M | None, list[Problem]]:
    """Validate ``raw`` (found at ``path`` in ``doc``) against ``model``."""
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        return None, problems_from(exc, doc, path, label)


def problems_from(exc: ValidationError, doc: YamlDoc, path: NodePath,
                  label: str) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = _clean_loc(error["loc"])
        field = loc[-1] if loc else label
        where = [*path, *loc]
        template = _MESSAGES.get(error["type"])
        if template:
            message = template.format(field=field)
            at_value = False
            if error["type"] == "missing":
                where = where[:-1]
        else:
            message = f"{error['msg']} (got {_short(error.get('input'))})"
            at_value = True
        dotted = ".".join(str(part) for part in [label, *loc])
        problems.append(Problem(doc.mark(where, value=at_value), f"{dotted}: {message}"))
    return problems


def _clean_loc(loc: Sequence[int | str]) -> list[str | int]:
    # pydantic adds validator names (e.g. "function-after[...]", "str", "list[...]") for
    # unions and wrappers; they are not part of the document's path.
    return [part for part in loc if not (isinstance(part, str) and ("[" in part or
            part in {"str", "int", "bool", "float", "list", "dict"}))]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
