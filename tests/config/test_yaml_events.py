"""The event reader gives the data, places and errors of a node-tree reader.

Every YAML file of the repository, a generated institution's export, hand-picked corner
cases and random or mutated documents are read both ways (:mod:`tests.config.node_reader`
composes ruamel's node tree first); the data must be equal with the same types, every key
and value must have the same ``file:line:col``, and a refused file the same message.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from almasync.cli import cli
from almasync.config.yamlread import YamlSyntaxError, read_yaml
from almasync.config.yamlwrite import _ruamel_dump
from almasync.emulator import Emulator, generate_large
from tests.config.node_reader import read_nodes
from tests.config.test_fuzz import NOISE, TREES
from tests.config.test_hostile import SNIPPETS

# The reference reader (ruamel's composer) warns of an anchor defined twice; both readers
# are compared on such files on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for p in ROOT.rglob("*.y*ml") if p.is_file()
               and not any(part.startswith(".") for part in p.relative_to(ROOT).parts))
BUDGET = settings(max_examples=150, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow,
                                         HealthCheck.function_scoped_fixture])

CORNERS = [
    "", "---\n...\n", "# only a comment\n", "x\n", "- a\n- b\n", "a:\n", "a: ~\nb: null\n",
    "a: yes\nb: 010\nc: 1_0\nd: 0o10\ne: 0x1F\nf: .inf\ng: -.5\nh: 1e3\ni: 12:30\nj: .nan\n",
    "a: 2026-12-01\nb: 2026-12-01 10:00:00\nc: 2026-12-01T10:00:00Z\nd: 2026-13-01\n",
    "%YAML 1.1\n---\na: yes\nb: 010\n", "%YAML 1.2\n---\na: 1\n",
    "a: &x 1\nb: &x 2\nc: *x\n", "a: *y\n", "a: 1\n---\nb: 2\n", "- 1\n--- \n- *a\n",
    "<<: {a: 1}\n=: 3\n", "base: &b {a: 1}\nother:\n  <<: *b\n  c: 2\n",
    "a: !!str 12\nb: !!int \"12\"\nc: !foo bar\nd: !!binary aGVsbG8=\ne: ! 12\n",
    "f: !!int nope\ng: !!float 1\nh: !!bool yes\ni: !!null ''\nj: !!map {a: 1}\n",
    "[a, b]: 1\n", "{a: 1}: 2\n", "k: &m {a: 1}\n*m : 2\n", "&k a: 1\n*k : 2\n",
    "a: {b: http://x.y/z}\n", "? a\n: b\n", "a: 1\na: 2\n", "x: &a {b: 1, b: 2}\ny: *a\n",
    "a: 1\nb: [1, 1: 2]\nc: {1: a, 1.0: b}\n", "1: a\ntrue: b\nnull: c\n2026-01-01: d\n",
    '"\\ud83d\\ude00": "\\ud83d\\ude00"\nb: "\\ud83d"\n', "- &a [1, {b: 2}]\n- *a\n- [*a]\n",
    "a: |\n  two\n  lines\nb: >\n  folded\n  text\n", "a: 'it''s'\nb: \"q\\\"\"\n",
    "a:\n\t- b\n", "a: [1, 2\n", "a: b: c\n", "- a\nb: c\n",
    "a: {[x]: 1}\n", "- ? [x]\n  : 1\n", "a: *\n", "!!set {a, b}\n", "- !!omap [a: 1]\n",
    "a: 0b101\nb: +12\nc: -0\nd: 1__0\ne: 0.\nf: .5e+3\ng: +.INF\nh: -.Inf\ni: 0o\n",
    "&k =: 1\n*k : 2\n", "&k\n*k : 2\n", "a: &x 1\nb: &x \n\nc: *x\n<<: ",
    "- &a [&a x]\n- *a",
]


def test_an_alias_inside_its_own_anchor_is_refused_at_its_place(tmp_path: Path) -> None:
    # Composed into nodes, this is a node holding itself: converting it never ends.
    path = tmp_path / "doc.yaml"
    path.write_text("a: &r [1, *r]\n")
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(path, "doc.yaml")
    assert str(caught.value) == "doc.yaml:1:11: YAML syntax error: found undefined alias 'r'"


def test_a_tagged_value_that_is_no_such_value_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("a: !!int ''\nb: !!bool ''\nc: !!float x\nd: !!timestamp 2026-13-01\n")
    assert read_yaml(path, "doc.yaml").data == {"a": "", "b": "", "c": "x",
                                                "d": "2026-13-01"}


def test_an_unknown_yaml_version_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("%YAML 1.3\n---\na: 1\n")
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(path, "doc.yaml")
    assert str(caught.value).startswith("doc.yaml:1:1: YAML error: version minor part")


def _typed(value: Any) -> Any:
    """``value`` with the type of every part spelt out (``1 == True == 1.0`` otherwise)."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*path, index))
    return out


def _same(content: bytes, tmp: Path) -> None:
    path = tmp / "doc.yaml"
    path.write_bytes(content)
    try:
        expected: Any = read_nodes(content, "doc.yaml")
    except YamlSyntaxError as exc:
        expected = exc.problem
    try:
        doc = read_yaml(path, "doc.yaml")
    except YamlSyntaxError as exc:
        assert exc.problem == expected
        return
    assert not isinstance(expected, type(doc.mark(()))), expected
    data, key_marks, value_marks = expected
    assert _typed(doc.data) == _typed(data)
    for mark_path in key_marks:
        assert doc.mark(mark_path) == key_marks[mark_path], mark_path
        assert doc.mark(mark_path, value=True) == value_marks[mark_path], mark_path
    # A path the document lacks takes the place of its nearest ancestor.
    for mark_path in [*_paths(doc.data)][:50]:
        for missing in ((*mark_path, "no such key"), (*mark_path, 10**6, "x")):
            probe = missing[:-1]
            while probe and probe not in key_marks:
                probe = probe[:-1]
            want_key = key_marks.get(probe, doc.mark(()))
            want_value = value_marks.get(probe, doc.mark(()))
            assert doc.mark(missing) == want_key
            assert doc.mark(missing, value=True) == want_value


def test_the_repository_has_yaml_files() -> None:
    assert len(FILES) >= 15
    assert len(SNIPPETS) >= 15


@pytest.mark.parametrize(("where", "text"), SNIPPETS)
def test_every_yaml_snippet_of_the_docs_reads_the_same(where: str, text: str,
                                                       tmp_path: Path) -> None:
    _same(text.encode("utf-8"), tmp_path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_of_the_repository_reads_the_same(path: Path, tmp_path: Path) -> None:
    _same(path.read_bytes(), tmp_path)


@pytest.mark.parametrize("text", CORNERS)
def test_corner_cases_read_the_same(text: str, tmp_path: Path) -> None:
    _same(text.encode("utf-8"), tmp_path)


def test_an_export_of_a_generated_institution_reads_the_same(tmp_path: Path) -> None:
    """... and is the text ruamel's safe dumper writes for what is read."""
    seed = generate_large(libraries=3, locations_per_library=5, code_tables=6,
                          mapping_tables=2, mapping_rows=300, letters=5, license_terms=5,
                          reminders=10, sets=5)
    with Emulator(seed=seed, rate_limit=None) as emu:
        result = CliRunner().invoke(cli, ["-q", "export", "--out", str(tmp_path / "out")],
                                    env={"ALMA_API_URL": emu.base_url,
                                         "ALMA_API_KEY": emu.api_key,
                                         "ALMASYNC_RATE_LIMIT": "0"})
    assert result.exit_code == 0, result.stderr
    exported = sorted((tmp_path / "out").glob("*.yaml"))
    assert len(exported) >= 8
    for path in exported:
        _same(path.read_bytes(), tmp_path)
        body = path.read_text(encoding="utf-8").partition("\n")[2]
        if path.name != "almasync.yaml":
            assert body == _ruamel_dump(read_yaml(path, path.name).data)


def _dump(data: Any, flow: bool | None) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


@BUDGET
@given(tree=TREES, flow=st.sampled_from([False, True, None]))
def test_random_documents_read_the_same(tmp_path_factory: Any, tree: Any,
                                        flow: bool | None) -> None:
    _same(_dump(tree, flow).encode("utf-8"), tmp_path_factory.mktemp("doc"))


@BUDGET
@given(source=st.sampled_from([*CORNERS[:20], *(p.read_text() for p in FILES[:10])]),
       data=st.data())
def test_mutated_documents_read_or_fail_the_same(tmp_path_factory: Any, source: str,
                                                 data: Any) -> None:
    content = bytearray(source.encode("utf-8"))
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(content)))
        how = data.draw(st.sampled_from(["insert", "delete", "flip"]))
        if how == "insert":
            content[at:at] = data.draw(st.sampled_from([*NOISE, b"&b ", b"*b", b"<<: "]))
        elif how == "delete":
            del content[at:at + data.draw(st.integers(1, 8))]
        elif at < len(content):
            content[at] = data.draw(st.integers(0, 255))
    _same(bytes(content), tmp_path_factory.mktemp("doc"))


def test_field_marks_are_the_marks_of_each_field(tmp_path: Path) -> None:
    """One walk to a resource gives the same marks as a walk per field, for fields that are
    there, fields that are not (their nearest ancestor), and fields grafted from another
    document (an overlay's)."""
    common = tmp_path / "common.yaml"
    common.write_text("locations:\n  MAIN:\n    STACKS:\n      name: Stacks\n"
                      "      type: OPEN\n      external_name: Main\n")
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("# overlay\nlocations:\n  MAIN:\n    STACKS:\n      name: Sandbox\n")
    doc, other = read_yaml(common, "common.yaml"), read_yaml(overlay, "overlay.yaml")
    path = ("locations", "MAIN", "STACKS")
    names = ["name", "type", "external_name", "absent"]
    for source in (doc, doc.grafted((*path, "name"), other, (*path, "name"))):
        assert source.field_marks(path, names) == {
            name: source.mark((*path, name)) for name in names}
    assert doc.field_marks(("nowhere", "x"), ["a"]) == {"a": doc.mark(("nowhere", "x", "a"))}
    grafted = doc.grafted((*path, "name"), other, (*path, "name"))
    assert grafted.field_marks(path, ["name"])["name"].line == 5  # the overlay's line
