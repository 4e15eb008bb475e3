"""The export writer: the same bytes as ruamel's safe dumper, and every value read back as
it was written (round trip through almasync's own reader)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almasync.config.yamlread import read_yaml
from almasync.config.yamlwrite import _ruamel_dump, dump_yaml
from tests.config.test_fuzz import TREES
from tests.config.test_hostile import AMBIGUOUS
from tests.config.test_yaml_events import FILES, _typed

BUDGET = settings(max_examples=200, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow,
                                         HealthCheck.function_scoped_fixture])
TEXT = st.one_of(st.text(), st.text(st.characters(codec="utf-8", exclude_categories=["Cs"])),
                 st.sampled_from([*AMBIGUOUS, "a\nb", "a\n", " lead", "trail ", "- x",
                                  "x: y", "#c", "a #b", "'q'", '"d"', "{x}", "[y]", "&a",
                                  "*a", "!t", "%p", "@x", "`x", "?", "|", ">", "a" * 150,
                                  " ".join(["word"] * 40), "\t", "\x85", "\u2028", "\ufeff"]))
PLAIN = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=30)


def _read_back(text: str, tmp: Path) -> Any:
    path = tmp / "back.yaml"
    path.write_text(text, encoding="utf-8")
    return read_yaml(path, "back.yaml").data


def _floats_equal(value: Any) -> Any:
    """``_typed`` with -0.0 and 0.0 told apart (both are written as they are)."""
    if isinstance(value, float) and not math.isnan(value):
        return ("float", repr(value))
    if isinstance(value, dict):
        return ("dict", [(_floats_equal(k), _floats_equal(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_floats_equal(v) for v in value])
    return _typed(value)


def test_every_yaml_file_of_the_repository_is_written_as_ruamel_writes_it() -> None:
    for path in FILES:
        data = read_yaml(path, str(path)).data
        assert dump_yaml(data) == _ruamel_dump(data), path


@BUDGET
@given(data=PLAIN)
def test_plain_data_is_written_as_ruamel_writes_it(data: Any) -> None:
    assert dump_yaml(data) == _ruamel_dump(data)


@BUDGET
@given(data=PLAIN)
def test_plain_data_reads_back_as_written(tmp_path_factory: Any, data: Any) -> None:
    back = _read_back(dump_yaml({"data": data}), tmp_path_factory.mktemp("rt"))
    assert _floats_equal(back) == _floats_equal({"data": data})


@BUDGET
@given(tree=TREES)
def test_config_shaped_trees_read_back_as_written(tmp_path_factory: Any, tree: Any) -> None:
    back = _read_back(dump_yaml(tree), tmp_path_factory.mktemp("rt"))
    assert _floats_equal(back) == _floats_equal(tree)


def test_multi_line_text_and_long_lines(tmp_path: Path) -> None:
    data = {"letter": "Dear reader,\n\nyour loan is due.\n", "long": "word " * 40,
            "keys": {"10:00": "open", "": None, "yes": True}}
    text = dump_yaml(data)
    assert text == _ruamel_dump(data)
    assert "'10:00': open" in text and "'yes': true" in text
    assert _read_back(text, tmp_path) == data


def test_other_types_are_written_by_ruamel() -> None:
    assert dump_yaml({"raw": b"\x00\x01"}) == _ruamel_dump({"raw": b"\x00\x01"})
