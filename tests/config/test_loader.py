"""Config loading: every problem at once, each with file, line and column; exit 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from almasync.cli import cli
from almasync.config.loader import load_config
from almasync.errors import ConfigError, ExitCode
from almasync.model import Kind
from tests.conftest import EXAMPLES


def validate(root: Path) -> Any:
    return CliRunner().invoke(cli, ["validate", str(root)])


def test_examples_are_valid() -> None:
    result = validate(EXAMPLES)
    assert result.exit_code == 0, result.stderr
    assert "Valid: " in result.stdout
    desired = load_config(EXAMPLES)
    assert ("MAIN", "STACKS") in desired.of(Kind.LOCATION)
    assert desired.of(Kind.LOCATION)[("MAIN", "STACKS")].fields["type"] == "OPEN"


def test_yaml_syntax_error_has_position(config: Any) -> None:
    root = config({"locations.yaml": "locations:\n  MAIN: [\n"})
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'locations.yaml'}:3:1: YAML syntax error" in result.stderr


def test_wrong_type_points_at_value(config: Any) -> None:
    root = config({"a.yaml": "locations:\n  MAIN:\n    X:\n      name: 5\n      type: OPEN\n"})
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'a.yaml'}:4:13: locations.MAIN.X.name: Input should be a valid string" \
        in result.stderr


def test_string_is_not_a_boolean(config: Any) -> None:
    root = config({"a.yaml": "locations:\n  MAIN:\n    X:\n      name: x\n      type: OPEN\n"
                             "      suppress_from_publishing: 'false'\n"})
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert ":6:33: locations.MAIN.X.suppress_from_publishing:" in result.stderr


def test_unknown_field_and_unknown_kind(config: Any) -> None:
    root = config({"a.yaml": "locations:\n  MAIN:\n    X:\n      name: x\n      type: OPEN\n"
                             "      colour: red\nlocatoins: {}\n"})
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'a.yaml'}:6:7: locations.MAIN.X.colour: unknown field 'colour'" \
        in result.stderr
    assert f"{root / 'a.yaml'}:7:1: unknown kind 'locatoins'" in result.stderr
    assert "2 problems found; nothing was written to Alma." in result.stderr


def test_missing_required_field(config: Any) -> None:
    root = config({"a.yaml": "locations:\n  MAIN:\n    X:\n      external_name: x\n"})
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'a.yaml'}:3:5: locations.MAIN.X.name: missing required field 'name'" \
        in result.stderr
    assert "locations.MAIN.X.type: missing required field 'type'" in result.stderr


def test_duplicate_across_files_names_both_places(config: Any) -> None:
    root = config({
        "a.yaml": "locations:\n  MAIN:\n    X: {name: x, type: OPEN}\n",
        "sub/b.yaml": "# another file\nlocations:\n  MAIN:\n    X: {name: y, type: OPEN}\n",
    })
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'sub' / 'b.yaml'}:4:5: locations.MAIN.X: declared twice; first "
            f"declared at {root / 'a.yaml'}:3:5") in result.stderr


def test_duplicate_key_in_one_file(config: Any) -> None:
    root = config({"a.yaml": "locations:\n  MAIN:\n    X: {name: x, type: OPEN}\n"
                             "    X: {name: y, type: OPEN}\n"})
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'a.yaml'}:4:5:" in result.stderr
    assert "duplicate key" in result.stderr


def test_every_problem_reported_at_once(config: Any) -> None:
    root = config({
        "a.yaml": "locations:\n  MAIN:\n    X: {name: 1, type: OPEN}\n",
        "b.yaml": "locations: [1]\n",
        "c.yaml": "- not a mapping\n",
    })
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "3 problems found" in result.stderr
    assert f"{root / 'b.yaml'}:1:12: locations: expected a mapping" in result.stderr
    assert f"{root / 'c.yaml'}:1:1: expected a mapping whose keys are resource kinds" \
        in result.stderr


def test_settings_are_validated(config: Any) -> None:
    root = config({"almasync.yaml": "prune:\n  locatons: true\nsafety:\n  max_deletes: -1\n"
                                    "environments:\n  prod: {api_url: x, api_key_env: 'my key'}\n"})
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert ":2:3: almasync.prune:" in result.stderr or ":1:1: almasync.prune" in result.stderr
    assert ":4:16: almasync.safety.max_deletes:" in result.stderr
    assert "almasync.environments.prod.api_key_env" in result.stderr


def test_empty_files_and_dates(config: Any) -> None:
    root = config({"empty.yaml": "", "a.yaml": "locations:\n  MAIN:\n    X:\n      name: x\n"
                                                "      type: OPEN\n"})
    desired = load_config(root)
    assert desired.count == 1


def test_not_a_directory(tmp_path: Path) -> None:
    try:
        load_config(tmp_path / "nope")
    except ConfigError as exc:
        assert "not a directory" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected ConfigError")


def test_every_impossible_date_is_reported_at_once(config: Any) -> None:
    root = config({"r.yaml": "reminders:\n"
                             "  - {entity_id: '1', type: GENERAL, text: x,"
                             " reminder_date: 2026-02-30}\n"
                             "  - {entity_id: '2', type: GENERAL, text: y,"
                             " reminder_date: 2026-13-01}\n"})
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'r.yaml'}:2:61: reminders[0].reminder_date: " in result.stderr
    assert "(got '2026-02-30')" in result.stderr
    assert f"{root / 'r.yaml'}:3:61: reminders[1].reminder_date: " in result.stderr
    assert "(got '2026-13-01')" in result.stderr


def test_unknown_names_get_a_suggestion(config: Any) -> None:
    root = config({"a.yaml": "licence_terms: {}\nlicense_terms:\n  ARCHIVE:\n    nmae: x\n",
                   "almasync.yaml": "safety:\n  max_delets: 3\n"})
    result = validate(root)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "unknown kind 'licence_terms'; did you mean 'license_terms'?" in result.stderr
    assert "unknown field 'nmae'; did you mean 'name'?" in result.stderr
    assert "unknown field 'max_delets'; did you mean 'max_deletes'?" in result.stderr


def test_an_unknown_name_far_from_any_lists_the_known_kinds(config: Any) -> None:
    result = validate(config({"a.yaml": "zzz: {}\n"}))
    assert "unknown kind 'zzz'; known kinds: " in result.stderr
    assert "code_tables, " in result.stderr


def test_an_empty_kind_section_declares_nothing(config: Any) -> None:
    root = config({"a.yaml": "license_terms:\nlocations:\n  MAIN:\n    X: {name: x, type: OPEN}\n"})
    assert load_config(root).count == 1


def test_an_empty_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "settings-only").mkdir()
    (tmp_path / "settings-only" / "almasync.yaml").write_text("prune: {}\n")
    (tmp_path / "empty").mkdir()
    for root in (tmp_path / "empty", tmp_path / "settings-only"):
        result = validate(root)
        assert result.exit_code == ExitCode.INVALID_CONFIG
        assert result.stderr.startswith(f"{root}: no resource files (*.yaml) in this folder")


def test_exported_files_are_readable_by_others(tmp_path: Path) -> None:
    from almasync.cli.files import write_atomic

    target = tmp_path / "a.yaml"
    write_atomic(target, "x: 1\n")
    assert target.stat().st_mode & 0o044 == 0o044
