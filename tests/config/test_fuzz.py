"""Fuzzing the config loader: random trees and mutated example files either load or end
in a :class:`ConfigError` (exit 3) with a place; never another exception, never a hang.

hypothesis drives it with a fixed number of examples per CI run (no example database), so
the budget is bounded and each run tries new inputs.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from almasync.config.loader import load_config
from almasync.errors import ConfigError
from almasync.kinds import BY_CONFIG_KEY
from tests.conftest import EXAMPLES

BUDGET = settings(max_examples=60, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow,
                                         HealthCheck.function_scoped_fixture])

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["10:00", "yes", "off", "0123", "2026-02-30", "2026-12-01", "~", "",
                     "${X}", "MAIN", "STACKS", "OPEN", "<<", "=", "*a", "&a"]),
)
NAMES = st.one_of(st.sampled_from([*BY_CONFIG_KEY, "name", "type", "rows", "code",
                                   "enabled", "MAIN", "STACKS", "members", "parameters"]),
                  st.text(min_size=1, max_size=8))
TREES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(NAMES, inner, max_size=4)), max_leaves=25)
FILES = st.dictionaries(st.sampled_from(list(BY_CONFIG_KEY)), TREES, max_size=3)

EXAMPLE_BYTES = [p.read_bytes() for p in sorted(EXAMPLES.glob("*.yaml"))]
NOISE = [b"\t", b"\x00", b":", b"- ", b"[", b"]", b"{", b"}", b"&a ", b"*a", b"!!python/x ",
         b"\n  ", b"'", b'"', b"#", b"\xe9", b"\xff\xfe", b"---\n", b"%YAML 1.1\n", b"? "]


def _dump(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _loads_or_config_error(root: Path) -> None:
    try:
        load_config(root)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message and "Traceback" not in problem.message


@BUDGET
@given(tree=FILES)
def test_random_trees_load_or_fail_as_config_errors(tmp_path_factory: Any,
                                                    tree: dict[str, Any]) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "random.yaml").write_text(_dump(tree), encoding="utf-8")
    _loads_or_config_error(root)


@BUDGET
@given(source=st.sampled_from(EXAMPLE_BYTES), data=st.data())
def test_mutated_examples_load_or_fail_as_config_errors(tmp_path_factory: Any,
                                                        source: bytes, data: Any) -> None:
    content = bytearray(source)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(content)))
        how = data.draw(st.sampled_from(["insert", "delete", "flip"]))
        if how == "insert":
            content[at:at] = data.draw(st.sampled_from(NOISE))
        elif how == "delete":
            del content[at:at + data.draw(st.integers(1, 8))]
        elif at < len(content):
            content[at] = data.draw(st.integers(0, 255))
    root = tmp_path_factory.mktemp("fuzz")
    (root / "mutated.yaml").write_bytes(bytes(content))
    _loads_or_config_error(root)
