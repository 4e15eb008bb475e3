"""Files as users write them, and files nobody should: every YAML snippet of the docs loads;
hostile or broken files end in exit 3 with ``file:line:col``, no traceback, no request."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from almasync.cli import cli
from almasync.config.yamllimits import MAX_ALIASES, MAX_BYTES, MAX_DEPTH
from almasync.config.yamlread import YamlSyntaxError, read_yaml
from almasync.config.yamlwrite import dump_yaml
from almasync.errors import ExitCode
from tests.conftest import EXAMPLES, Almasync

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_FENCE = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _snippets() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{doc.relative_to(ROOT)}:{line}", match.group(1)))
    return found


SNIPPETS = _snippets()


def test_the_docs_have_yaml_snippets() -> None:
    assert len(SNIPPETS) >= 15
    assert any("{api_url: https://" in text for _, text in SNIPPETS)


@pytest.mark.parametrize(("where", "text"), SNIPPETS, ids=[w for w, _ in SNIPPETS])
def test_every_yaml_snippet_of_the_docs_loads(tmp_path: Path, where: str, text: str) -> None:
    path = tmp_path / "snippet.yaml"
    path.write_text(text, encoding="utf-8")
    doc = read_yaml(path, where)
    assert doc.data is not None


def test_the_flow_style_settings_of_the_readme_plan_against_the_emulator(
        tmp_path: Path) -> None:
    settings = next(text for where, text in SNIPPETS
                    if where.startswith("README.md") and text.startswith("environments:"))
    tree = tmp_path / "config"
    shutil.copytree(EXAMPLES, tree)
    (tree / "almasync.yaml").write_text(settings, encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", str(tree), "--emulator", "demo"])
    # The plan is printed; the README's strict caps may block it (exit 5), as documented.
    assert result.exit_code in (ExitCode.OK, ExitCode.CHANGES, ExitCode.BLOCKED), result.stderr
    assert "Plan:" in result.stdout


_BOMB = "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]) + "\n"

HOSTILE: dict[str, tuple[bytes, str, str]] = {
    # name: (content, expected mark, words in the message)
    "deep": (b"locations:\n  MAIN: " + b"[" * 20000 + b"]" * 20000 + b"\n",
             f"2:{9 + MAX_DEPTH - 2}", f"nested more than {MAX_DEPTH} levels"),
    "bomb": (_BOMB.encode(), "6:10", "alias-expansion"),
    "aliases": (("a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n").encode(),
                "2:", f"more than {MAX_ALIASES:,} aliases"),
    "latin1": ("license_terms:\n  ARCHIVE:\n    name: Caf\xe9\n".encode("latin-1"), "3:14",
               "not UTF-8"),
    "utf16": ("license_terms: {}\n".encode("utf-16"), "1:1", "UTF-16"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "3:1", "NUL byte"),
    "nul": (b"license_terms:\n  AR\x00CHIVE: {}\n", "2:5", "NUL byte"),
    "tab": (b"license_terms:\n\tARCHIVE:\n\t\tname: x\n", "2:1", "tab"),
    "tab_inside": (b"license_terms:\n  ARCHIVE:\n  \tname: x\n", "3:3", "tab"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_end_in_exit_3_with_their_place(tmp_path: Path, almasync: Almasync,
                                                      name: str) -> None:
    content, mark, words = HOSTILE[name]
    (tmp_path / f"{name}.yaml").write_bytes(content)
    for command in ("validate", "plan"):
        result = almasync(command, str(tmp_path))
        assert result.exit_code == ExitCode.INVALID_CONFIG, result.output
        first = result.stderr.splitlines()[0]
        assert first.startswith(f"{tmp_path / name}.yaml:{mark}"), first
        assert words in first
        assert "Traceback" not in result.output
    assert almasync.emu.requests == []


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as out:
        out.truncate(MAX_BYTES + 1)  # sparse: nothing is written or read
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(path, "huge.yaml")
    assert str(caught.value.problem).startswith("huge.yaml:1:1: the file is ")
    assert "at most 32 MiB" in str(caught.value.problem)


def test_a_byte_order_mark_is_not_content(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbflicense_terms: {}\n")
    assert read_yaml(path, "bom.yaml").data == {"license_terms": {}}


# Strings that YAML 1.1 or 1.2 readers take for times, booleans, numbers, dates or null.
AMBIGUOUS = ["10:00", "23:59", "00:00", "yes", "no", "on", "off", "Y", "n", "True", "NULL",
             "~", "0123", "007", "1_000", "0x1F", "0o17", "1e3", "1.5", "-1", ".inf", ".NaN",
             "2026-12-01", "2026-12-01 10:00:00", "=", "<<", ""]


def test_export_quotes_every_string_another_reader_could_retype() -> None:
    text = dump_yaml({"values": AMBIGUOUS, "plain": ["MAIN", "Main Stacks", "STACKS 10:00"]})
    quoted = [line.strip()[2:] for line in text.splitlines() if line.startswith("- ")]
    assert quoted[:len(AMBIGUOUS)] == [f"'{value}'" for value in AMBIGUOUS]
    assert quoted[len(AMBIGUOUS):] == ["MAIN", "Main Stacks", "STACKS 10:00"]
    # Read back by a YAML 1.1 reader, every value is still the same string.
    old = YAML(typ="safe", pure=True)
    old.version = (1, 1)
    assert old.load(text)["values"] == AMBIGUOUS


def test_json_escapes_of_one_character_outside_the_bmp_are_joined(tmp_path: Path) -> None:
    path = tmp_path / "emoji.yaml"
    path.write_text('a: "\\ud83d\\ude00 ok"\nb: "\\ud800"\n', encoding="utf-8")
    assert read_yaml(path, "emoji.yaml").data == {"a": "\U0001F600 ok", "b": "\ud800"}
