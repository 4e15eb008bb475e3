"""Translate pydantic validation errors into ``file:line:col: path: message`` problems.

The only place that reads pydantic's error structures; keyed on the error type, not its text.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable, Iterator, Sequence
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
        return None, problems_from(exc, doc, path, label, model)


def did_you_mean(word: object, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or nothing."""
    close = difflib.get_close_matches(str(word), sorted(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _field_names(model: type[BaseModel] | None, loc: Sequence[str | int]) -> set[str]:
    """The field names a model accepts at ``loc`` (the place of an unknown field)."""
    models = [model] if model is not None else []
    for part in loc:
        if isinstance(part, int):
            continue
        nested = [m for current in models
                  for name, info in current.model_fields.items() if name == part
                  for m in _models_in(info.annotation)]
        models = nested or models
    return {name for current in models for name in current.model_fields}


def problems_from(exc: ValidationError, doc: YamlDoc, path: NodePath,
                  label: str, model: type[BaseModel] | None = None) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = _clean_loc(error["loc"])
        field = loc[-1] if loc else label
        where = [*path, *loc]
        template = _MESSAGES.get(error["type"])
        if template:
            message = template.format(field=field)
            if error["type"] == "extra_forbidden":
                message += did_you_mean(field, _field_names(model, loc[:-1]))
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
