"""Habits of a well-made CLI: colour only where wanted, -v and -q anywhere, an example in
every --help, one spelling of kind names, and an export that is a repository to commit."""

from __future__ import annotations

import io
import re
from pathlib import Path

import click
import pytest

from almasync.cli import cli
from almasync.cli.terminal import use_colour
from almasync.config.schema import SCHEMAS
from tests.conftest import EXAMPLES, Almasync

ESC = "\x1b["


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("env", "tty", "expected"), [
    ({}, True, True), ({}, False, False),
    ({"NO_COLOR": "1"}, True, False), ({"NO_COLOR": ""}, True, True),
    ({"FORCE_COLOR": "1"}, False, True), ({"FORCE_COLOR": "0"}, False, False),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, True),
])
def test_colour_follows_the_terminal_and_the_conventions(
        monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tty: bool,
        expected: bool) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert use_colour(_Terminal() if tty else io.StringIO()) is expected


def test_force_color_colours_a_piped_plan_and_no_color_does_not(almasync: Almasync) -> None:
    forced = almasync("plan", str(EXAMPLES), env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert ESC in forced.stdout
    plain = almasync("plan", str(EXAMPLES), env={"NO_COLOR": "1", "FORCE_COLOR": ""})
    assert ESC not in plain.stdout
    assert re.sub(r"\x1b\[[0-9;]*m", "", forced.stdout) == plain.stdout


def test_verbose_and_quiet_work_after_the_subcommand(almasync: Almasync,
                                                     tmp_path: Path) -> None:
    loud = almasync("plan", str(EXAMPLES), "-v")
    assert loud.exit_code == 0
    assert "DEBUG" in loud.stderr
    assert almasync.key not in loud.stderr + loud.stdout
    out = tmp_path / "plan.json"
    normal = almasync("plan", str(EXAMPLES), "--out", str(out))
    assert "Plan saved to" in normal.stderr
    quiet = almasync("plan", str(EXAMPLES), "--out", str(out), "-q")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
    assert quiet.stdout == normal.stdout


def test_every_command_help_has_an_example() -> None:
    def walk(command: click.Command, path: str) -> list[str]:
        missing = [] if command.epilog and "Example:" in command.epilog else [path]
        if isinstance(command, click.Group):
            context = click.Context(command)
            for name in command.list_commands(context):  # lazy ones (emulator) too
                sub = command.get_command(context, name)
                assert sub is not None, name
                missing += walk(sub, f"{path} {name}")
        return missing
    assert walk(cli, "almasync") == []


def test_kinds_take_either_spelling(almasync: Almasync, tmp_path: Path) -> None:
    for spelling in ("location", "locations"):
        out = tmp_path / spelling
        result = almasync("export", "--out", str(out), "--kinds", spelling)
        assert result.exit_code == 0, result.output
        assert (out / "locations.yaml").is_file()
    bad = almasync("export", "--out", str(tmp_path / "x"), "--kinds", "shelves")
    assert bad.exit_code == 64
    assert "locations.yaml: 7 locations" in result.stderr


def test_a_kind_is_shown_as_the_files_name_it_wherever_it_was_given(
        almasync: Almasync) -> None:
    """Plans, warnings and errors name a kind as the files do (``code_tables``), whichever
    spelling ``--target`` was given in; the plan JSON keeps its singular ``kind`` field."""
    shown = {spelling: almasync("plan", str(EXAMPLES), "--target", spelling)
             for spelling in ("code_table", "code_tables")}
    assert shown["code_table"].stdout == shown["code_tables"].stdout
    assert "~ code_tables UserGroups\n" in shown["code_tables"].stdout
    assert "code_table " not in shown["code_tables"].stdout
    missing = almasync("plan", str(EXAMPLES), "--target", "location:MAIN/NOPE")
    assert "Warning: --target locations:MAIN/NOPE matches no resource" in missing.stderr
    unknown = almasync("plan", str(EXAMPLES), "--target", "locatons:MAIN/STACKS")
    assert unknown.exit_code == 64
    assert ("unknown kind 'locatons'; did you mean 'locations'?; known kinds: general, "
            "libraries, ") in unknown.stderr
    assert "code_tables, mapping_tables, locations, " in unknown.stderr
    markdown = almasync("plan", str(EXAMPLES), "--format", "markdown").stdout
    assert "#### Code tables (" in markdown and "#### Code table (" not in markdown
    assert almasync.plan_json(EXAMPLES)["changes"][0]["kind"] in {"location", "code_table"}


def test_export_is_a_repository_ready_to_commit(almasync: Almasync, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert ".almasync/" in (out / ".gitignore").read_text().split()
    settings = (out / "almasync.yaml").read_text()
    assert settings.startswith("# yaml-language-server: $schema=")
    for path in out.glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema="), path
    assert almasync("validate", str(out)).exit_code == 0
    assert almasync("plan", str(out), "--detailed-exitcode").exit_code == 0
    # A second export keeps the user's own settings and .gitignore lines.
    (out / "almasync.yaml").write_text("safety: {max_deletes: 1}\n")
    (out / ".gitignore").write_text("*.bak")
    again = almasync("export", "--out", str(out), "--overwrite")
    assert again.exit_code == 0, again.output
    assert (out / "almasync.yaml").read_text() == "safety: {max_deletes: 1}\n"
    assert (out / ".gitignore").read_text().splitlines()[0] == "*.bak"
    assert (out / ".gitignore").read_text().count(".almasync/") == 1


def test_example_files_name_a_schema_that_exists() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=https://"), path
        assert first.rsplit("/", 1)[1] in SCHEMAS, path
        expected = "settings" if path.name == "almasync.yaml" else "resources"
        assert expected in first, path
