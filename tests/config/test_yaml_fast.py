"""The line reader of plain block YAML gives what the event reader gives, or nothing.

:func:`almasync.config.yamlfast.read_fast` is compared with the event reader
(``_build_from_events``) on what ``dump_yaml`` writes for random data, on every YAML file
of the repository and on documents with random line edits: when the line reader answers,
its data (with types), every mark and the ``${`` flag must equal the event reader's, and
the event reader must not refuse the text. On ``dump_yaml``'s text for ordinary data it
must answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almasync.config.yamlevents import ConversionError, MarkNode
from almasync.config.yamlfast import read_fast
from almasync.config.yamllimits import MAX_DEPTH, YamlLimitError
from almasync.config.yamlread import YamlSyntaxError, _build_from_events, read_yaml
from almasync.config.yamlwrite import dump_yaml
from tests.config.test_yaml_events import CORNERS, FILES, ROOT, _typed

BUDGET = settings(max_examples=300, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])

TRICKY = [
    "yes", "no", "on", "off", "y", "n", "true", "False", "TRUE", "null", "Null", "~", "",
    "0o17", "0x1F", "017", "0b1", "1_000", "+1", "-1", "1e3", "1.5", ".5", "-.inf", ".nan",
    "2026-01-01", "2026-1-1", "2026-01-01 10:00:00", "2026-01-01T10:00:00Z", "2026-13-01",
    "12:30", "10:00:00", "#x", "x#y", "x #y", "a: b", "a:b", "a:", ":a", "- x", "-x", "-",
    "--", "---", "...", "?", "? x", "?x", " x", "x ", "  ", "'", "''", "it's", '"', '"q"',
    "{}", "[]", "{a: 1}", "[a]", "a, b", "<<", "=", "@x", "`x", "%x", "!x", "&x", "*x",
    "|", ">", "${VAR}", "a${B}c", "$", "$$", "é", "日本語", "ß", "x\u00a0y", "\u00a0",
    "😀", "a\tb", "a\nb", "\x07", "\\", "a\\b", "C:\\dir", "http://x.y/z?a=b#c",
]
#: Text as people write it: no control, format, line-break or private characters, and
#: nothing beyond the BMP (the emitter escapes that).
ORDINARY_CHARS = st.characters(max_codepoint=0xFFFD, exclude_categories=(
    "Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
ORDINARY_TEXT = st.one_of(st.sampled_from([t for t in TRICKY if t.isprintable()
                                           and t != "😀"]),
                          st.text(ORDINARY_CHARS, max_size=12))
ANY_TEXT = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12))


def _scalars(text: Any) -> Any:
    return st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                     st.floats(), text)


def _trees(text: Any, keys: Any, leaves: int) -> Any:
    return st.recursive(_scalars(text), lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
        max_leaves=leaves)


ANY_TREES = _trees(ANY_TEXT, st.one_of(ANY_TEXT, st.integers(), st.booleans(), st.none()),
                   30)
ORDINARY_KEYS = st.one_of(st.text(ORDINARY_CHARS, min_size=1, max_size=10),
                          st.sampled_from(TRICKY[:40]), st.integers(0, 999))
#: Ordinary data: a mapping or a list at the top, lines that stay short of the writer's
#: width (100; longer text is folded onto several lines).
ORDINARY_TREES = st.one_of(
    st.dictionaries(ORDINARY_KEYS, _trees(ORDINARY_TEXT, ORDINARY_KEYS, 20), max_size=5),
    st.lists(_trees(ORDINARY_TEXT, ORDINARY_KEYS, 20), max_size=5))


def _walk(marks: MarkNode | None) -> Any:
    """Every key, place and child of ``marks``, as plain values."""
    if marks is None:
        return None
    assert marks.places.typecode == "Q"
    assert marks.index is None
    return (None if marks.keys is None else _typed(marks.keys), list(marks.places),
            {entry: _walk(kid) for entry, kid in sorted(marks.kids.items())})


def _same_or_none(text: str) -> Any:
    """The line reader's answer, checked against the event reader's."""
    fast = read_fast(text)
    if fast is None:
        return None
    try:
        slow = _build_from_events(text, "doc.yaml")
    except (YamlSyntaxError, YamlLimitError, ConversionError) as exc:
        raise AssertionError(f"the line reader read what the event reader refuses: {exc}"
                             ) from None
    assert _typed(fast[0]) == _typed(slow[0])
    assert _walk(fast[1]) == _walk(slow[1])
    assert fast[2] is slow[2]
    return fast


@BUDGET
@given(tree=ANY_TREES)
def test_what_dump_yaml_writes_reads_the_same(tree: Any) -> None:
    _same_or_none(dump_yaml(tree))


@BUDGET
@given(tree=ORDINARY_TREES)
def test_what_dump_yaml_writes_for_ordinary_data_is_read_by_lines(tree: Any) -> None:
    text = dump_yaml(tree)
    assert _same_or_none(text) is not None, text
    assert _same_or_none("# yaml-language-server: $schema=x.json\n" + text) is not None


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_of_the_repository_reads_the_same(path: Path) -> None:
    _same_or_none(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", CORNERS)
def test_corner_cases_read_the_same(text: str) -> None:
    _same_or_none(text)


SOURCES = [
    "a:\n- x\n- - y\n  - z\n- k: 1\n  l:\n  - m\nb:\n  c:\n  -\n  - {}\n",
    "# yaml-language-server: $schema=x.json\nrows:\n- code: A  # first\n  enabled: true\n"
    "\n  description: 'it''s'\n- code: \"B\"\n  enabled: false\nother: {}\nlast: []\n",
    "- - - a\n    - b\n  - c: d\n    e: f\n-\n- []\n",
    "a:\n  b:\n    c: 1\n    d:\n  e: 2010-01-01\nf: ${X}\n'g h': 'i: j'\n\"k\": \"l #m\"\n",
    "x: 1\ny: -2.5\nz: 0o17\nw: ~\nv: null\nu: yes\nt: '12:30'\ns: 12:30\n",
]


@st.composite
def _edited(draw: Any) -> str:
    source = draw(st.one_of(
        st.sampled_from([*SOURCES, *(p.read_text(encoding="utf-8") for p in FILES[:12])]),
        ORDINARY_TREES.map(dump_yaml)))
    lines = source.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        how = draw(st.sampled_from(["indent", "dedent", "insert", "duplicate", "delete",
                                    "cut", "swap"]))
        if how == "indent":
            lines[at] = " " * draw(st.integers(1, 3)) + line
        elif how == "dedent":
            lines[at] = line[draw(st.integers(1, 3)):] if line.startswith(" ") else line
        elif how == "insert":
            col = draw(st.integers(0, len(line)))
            piece = draw(st.sampled_from([":", ": ", "#", " #", "- ", "-", "'", '"', "\t",
                                          " ", "{}", "[", "&a ", "*a", "!t ", "|", "? ",
                                          "x", "\\", "${", "\u2028", "\r"]))
            lines[at] = line[:col] + piece + line[col:]
        elif how == "duplicate":
            lines.insert(at, line)
        elif how == "delete" and len(lines) > 1:
            del lines[at]
        elif how == "cut":
            lines[at] = line[:draw(st.integers(0, len(line)))]
        elif how == "swap" and at + 1 < len(lines):
            lines[at], lines[at + 1] = lines[at + 1], line
    return "\n".join(lines)


@BUDGET
@given(text=_edited())
def test_documents_with_edited_lines_read_the_same_or_go_to_the_event_reader(
        text: str) -> None:
    _same_or_none(text)


def _place(line: int, col: int) -> int:
    return line << 32 | col


def test_places_of_nested_and_indentless_sequences() -> None:
    result = _same_or_none(SOURCES[0])
    assert result is not None
    data, marks, _ = result
    assert data == {"a": ["x", ["y", "z"], {"k": 1, "l": ["m"]}], "b": {"c": [None, {}]}}
    # a: its key, then its sequence at the first "-" (at the key's indent)
    assert list(marks.places) == [_place(0, 0), _place(1, 0), _place(7, 0), _place(8, 2)]
    items = marks.kids[0]
    # "- x", "- - y" (a sequence at its "-"), "- k: 1" (a mapping at its first key)
    assert list(items.places) == [_place(1, 2), _place(2, 2), _place(4, 2)]
    assert list(items.kids[1].places) == [_place(2, 4), _place(3, 4)]
    assert list(items.kids[2].places) == [_place(4, 2), _place(4, 5), _place(5, 2),
                                          _place(6, 2)]
    assert list(items.kids[2].kids[1].places) == [_place(6, 4)]
    # an empty item is at the end of its "-"; an empty flow mapping at its "{"
    inner = marks.kids[1].kids[0]
    assert list(inner.places) == [_place(9, 3), _place(10, 4)]
    assert list(inner.kids) == [1]


def test_an_empty_value_is_just_after_its_colon_or_dash() -> None:
    result = _same_or_none("a:\nb:   # none\nc:\n  d:\n-\n")
    assert result is None  # a "-" at the indent of a mapping with no open key
    result = _same_or_none("a:\nb:   # none\nc:\n  d:\ne:\n-\n- \n")
    assert result is not None
    data, marks, _ = result
    assert data == {"a": None, "b": None, "c": {"d": None}, "e": [None, None]}
    assert list(marks.places)[:4] == [_place(0, 0), _place(0, 2), _place(1, 0),
                                      _place(1, 2)]
    assert list(marks.kids[2].places) == [_place(3, 2), _place(3, 4)]
    assert list(marks.kids[3].places) == [_place(5, 1), _place(6, 1)]


@pytest.mark.parametrize("text", [
    "a:\n- b:\n  - c\n  d: 1\n", "-   a: 1\n    b:\n    -   x\n    - y\n",
    "- -   b\n  -   c\n- - - d\n", "a:\n  - b\n  -\n  - c:\n    -\n", "'${X}': 1\n",
    "  a: 1\n  b: 2\n", "  - a\n  - b\n", "a:  \n  # c\n  b: 1\n", "a:\n# c\nb:\n",
    "-\n-\n", "- \n  a: 1\n", "-\n  - a\n", "a:\n-\n  b: 1\n", "[]\n", "{}\n# x\n",
    "a: b # c\n#d\n   # e\n", "a#: 1\n", "-a: 1\n", ":a: 1\n", "?a: 1\n", "-: 1\n",
    "a:x: y\n", "a: b,c]\n", "\u00e9: \u00fc\n", "\n\n", "#only",
])
def test_hand_written_shapes_are_read_by_lines_the_same(text: str) -> None:
    assert _same_or_none(text) is not None


@pytest.mark.parametrize("text", [
    "a:\n\t- b\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "---\na: 1\n", "a: 1\n...\n",
    "%YAML 1.2\n---\na: 1\n", "a: |\n  x\n", "a: >\n  x\n", "a: b\n  c\n", "a: 'b\n  c'\n",
    "a: {b: 1}\n", "a: [1]\n", 'a: "\\n"\n', "? a\n: b\n", "a: 1\na: 2\n", "x\n",
    "a:\n  b\n", "a: b: c\n", "- a\nb: c\n", "a:\r\n  b: 1\r\n", "a: b\u2028c\n",
    "a: b\x85\n", f"{'k' * 300}: 1\n", "[a]: 1\n", "a :\n", "'a' : 1\n", "{}\na: 1\n",
    'a: "x"#c\n', "'000':x null\n", '- "a":b\n', "a: -\n", "a: x:\n", "a: [b\n", "a: b\ufeff\n",
])
def test_text_outside_plain_block_yaml_goes_to_the_event_reader(text: str) -> None:
    assert read_fast(text) is None


def test_nesting_up_to_the_limit_is_read_by_lines_and_beyond_it_refused(
        tmp_path: Path) -> None:
    def nested(depth: int) -> str:
        return "".join(" " * n + "k:\n" for n in range(depth - 1)) + " " * (depth - 1) \
            + "k: 1\n"
    assert _same_or_none(nested(MAX_DEPTH)) is not None
    assert read_fast(nested(MAX_DEPTH + 1)) is None
    path = tmp_path / "deep.yaml"
    path.write_text(nested(MAX_DEPTH + 1))
    with pytest.raises(YamlSyntaxError, match="nested more than 64 levels deep"):
        read_yaml(path, "deep.yaml")


def test_a_duplicate_key_is_reported_by_the_event_reader(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("rows:\n- code: A\n  code: B\n")
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(path, "dup.yaml")
    assert str(caught.value) == ("dup.yaml:3:3: YAML syntax error: found duplicate key "
                                 "'code' (first at dup.yaml:2:3)")
