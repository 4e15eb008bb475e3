"""Properties of every kind's comparison, over every resource the examples declare:

- a live resource holding what the file declares, plus fields the file does not declare,
  compares equal (what Alma adds never shows as a change);
- changing one declared scalar on the live side always shows as a change.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from almasync.config.loader import load_config
from almasync.kinds import HANDLERS
from almasync.kinds.open_hours_entries import WEEKDAYS
from almasync.model import Resource
from almasync.plan.differ import field_diffs
from tests.conftest import EXAMPLES

RESOURCES = sorted((r for by_key in load_config(EXAMPLES).resources.values()
                    for r in by_key.values()), key=lambda r: (r.kind.value, r.key))
EXTRA = st.dictionaries(st.sampled_from(["link", "desc", "id", "created_date", "zz_extra"]),
                        st.one_of(st.text(max_size=8), st.integers(), st.booleans()),
                        max_size=3)
BUDGET = settings(max_examples=25, deadline=None, database=None)


def _scalar_paths(fields: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(fields, dict):
        return [p for k, v in fields.items() for p in _scalar_paths(v, (*path, k))]
    if isinstance(fields, list):
        return [p for i, v in enumerate(fields) for p in _scalar_paths(v, (*path, i))]
    return [path] if isinstance(fields, str | bool | int) else []


def _replace(fields: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(fields, dict):
        return {**fields, head: _replace(fields[head], rest, value)}
    return [_replace(v, rest, value) if i == head else v for i, v in enumerate(fields)]


def _other(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return f"{value}x"


def test_the_examples_declare_every_kind_almasync_writes() -> None:
    writable = {kind for kind, handler in HANDLERS.items() if not handler.read_only}
    assert writable <= {r.kind for r in RESOURCES}


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: f"{r.kind.value}:{'/'.join(r.key)}")
@BUDGET
@given(extra=EXTRA)
def test_what_alma_adds_is_never_a_change(resource: Resource, extra: dict[str, Any]) -> None:
    handler = HANDLERS[resource.kind]
    declared = dict(resource.fields)
    live = {**extra, **declared}
    want, have = handler.comparable(declared, live)
    assert field_diffs(want, have) == ()


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: f"{r.kind.value}:{'/'.join(r.key)}")
@BUDGET
@given(data=st.data())
def test_a_changed_declared_value_is_a_change(resource: Resource, data: Any) -> None:
    handler = HANDLERS[resource.kind]
    declared = dict(resource.fields)
    # A credential (${ENV_VAR}) compares as "(sensitive)" on both sides, by design; a
    # mapping table's `key` names its key columns (no live field); the live entries of
    # open hours that reach the comparison are those of the declared types already.
    paths = [p for p in _scalar_paths(declared) if p[0] not in handler.sensitive_fields
             and not str(_get(declared, p)).startswith("${") and p[0] != "key"
             and p[-1] != "type" and p[0] != "managed_types"]
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    changed = _other(_get(declared, path))
    if len(path) >= 2 and path[-2] == "day":  # a weekday: another one, not a made-up day
        changed = next(d for d in WEEKDAYS if d not in _get(declared, path[:-1]))
    live = _replace(declared, path, changed)
    want, have = handler.comparable(declared, live)
    assert field_diffs(want, have) != (), path


def _get(fields: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        fields = fields[part]
    return fields
