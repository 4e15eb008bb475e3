"""Keys are tuples end to end: a set named ``New acquisitions 2025/26`` works in every
command, and ``--target`` has a quoting rule for key parts holding ``/`` or ``:``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from almasync.engine import Target
from almasync.errors import ExitCode, UsageError
from almasync.model import Kind, format_key, parse_key
from tests.conftest import Almasync

NAME = "New acquisitions 2025/26"
SETS = f"""\
sets:
  {NAME}:
    type: ITEMIZED
    content: BIB_MMS
    private: false
    members: ["991234"]
"""
QUOTED = f'sets:"{NAME}"'


@pytest.mark.parametrize("key", [
    ("MAIN", "STACKS"), (NAME,), ("a:b",), ('say "hi"',), ("back\\slash", "x/y"), ("",)])
def test_format_and_parse_are_inverse(key: tuple[str, ...]) -> None:
    assert parse_key(format_key(key)) == key


def test_only_parts_that_need_it_are_quoted() -> None:
    assert format_key(("MAIN", "STACKS")) == "MAIN/STACKS"
    assert format_key((NAME,)) == '"New acquisitions 2025/26"'
    assert format_key(("BIB_MMS", "991", "GENERAL", "Due: 2026")) == \
        'BIB_MMS/991/GENERAL/"Due: 2026"'
    assert parse_key("BIB_MMS/991/GENERAL/Due: 2026") == ("BIB_MMS", "991", "GENERAL",
                                                          "Due: 2026")


@pytest.mark.parametrize("text", ['"open', 'MAIN/', '"a"b', "a//b"])
def test_malformed_target_keys_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="double quotes"):
        Target.parse(f"location:{text}")


def test_target_parses_quoted_and_plain_keys() -> None:
    assert Target.parse(QUOTED) == Target(Kind.SET, (NAME,))
    assert Target.parse("locations:MAIN/STACKS") == Target(Kind.LOCATION, ("MAIN", "STACKS"))
    assert str(Target.parse(QUOTED)) == QUOTED
    # The singular spelling of the plan JSON is accepted too; shown as the files spell it.
    assert str(Target.parse(f'set:"{NAME}"')) == QUOTED
    assert str(Target.parse("code_table:UserGroups")) == "code_tables:UserGroups"


def test_a_set_with_a_slash_in_its_name_works_in_every_command(
        almasync: Almasync, config: Any, tmp_path: Path) -> None:
    root = config({"sets.yaml": SETS})
    assert almasync("validate", str(root)).exit_code == ExitCode.OK
    shown = almasync("plan", str(root), "--target", QUOTED)
    assert shown.exit_code == ExitCode.OK, shown.stderr
    assert '+ sets "New acquisitions 2025/26"' in shown.stdout
    assert "Plan: 1 to create" in shown.stdout and "Warning" not in shown.stderr

    out = tmp_path / "plan.json"
    assert almasync("plan", str(root), "--out", str(out)).exit_code == ExitCode.OK
    [change] = json.loads(out.read_text())["changes"]
    assert change["key_parts"] == [NAME]
    applied = almasync("apply", str(out), "--auto-approve")
    assert applied.exit_code == ExitCode.OK, applied.stderr
    assert [s["name"] for s in almasync.emu.store.sets.values()].count(NAME) == 1

    assert almasync("drift", str(root)).exit_code == ExitCode.OK
    exported = tmp_path / "exported"
    assert almasync("export", "--out", str(exported), "--kinds", "sets").exit_code == 0
    assert almasync.plan_json(exported)["changes"] == []

    (root / "sets.yaml").write_text(SETS.replace('["991234"]', '["991234", "991235"]'))
    updated = almasync("plan", str(root), "--target", QUOTED, "--format", "json")
    assert [c["key_parts"] for c in json.loads(updated.stdout)["changes"]] == [[NAME]]
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.OK
    journal = max((root / ".almasync" / "journals").glob("*.json"),
                  key=lambda path: path.stat().st_mtime_ns)
    undone = almasync("rollback", str(journal), "--auto-approve")
    assert undone.exit_code == ExitCode.OK, undone.stderr
    [live] = [s for s in almasync.emu.store.sets.values() if s["name"] == NAME]
    assert [m["id"] for m in live["members"]] == ["991234"]


def test_an_unquoted_target_that_matches_nothing_is_warned_about(
        almasync: Almasync, config: Any) -> None:
    root = config({"sets.yaml": SETS})
    result = almasync("plan", str(root), "--target", f"set:{NAME}")
    assert result.exit_code == ExitCode.OK
    assert "No changes" in result.stdout
    assert (f"Warning: --target sets:New acquisitions 2025/26 matches no resource in the "
            f"files or in Alma; nothing is planned for it (did you mean --target "
            f"'{QUOTED}'?") in result.stderr
    typo = almasync("plan", str(root), "--target", "location:MAIN/NOPE")
    assert "Warning: --target locations:MAIN/NOPE matches no resource" in typo.stderr
    assert "did you mean" not in typo.stderr
