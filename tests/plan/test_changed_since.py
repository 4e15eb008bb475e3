"""``plan --changed-since REF``: a pull request's plan reads only what its files can affect.

Each test builds a git repository whose ``config/`` folder is a copy of examples/config,
commits it, edits the files and plans against the demo emulator, counting its requests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from almasync.errors import ExitCode
from tests.conftest import EXAMPLES, Almasync


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org",
                           "-c", "init.defaultBranch=main", *args], cwd=repo,
                          capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding examples/config as ``config/``, committed."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES, root / "config")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "config")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def planned(almasync: Almasync, config: Path, *extra: str,
            env: dict[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The JSON plan and the requests it made (``METHOD path``)."""
    before = len(almasync.emu.requests)
    result = almasync("plan", str(config), "--format", "json", *extra, env=env)
    assert result.exit_code == 0, result.stderr
    calls = [f"{r.method} {r.path}" for r in almasync.emu.requests[before:]]
    return json.loads(result.stdout), calls


def changes(plan: dict[str, Any], kind: str | None = None) -> list[tuple[str, str, str]]:
    return [(c["action"], c["kind"], c["key"]) for c in plan["changes"]
            if kind is None or c["kind"] == kind]


def test_one_code_table_edit_plans_that_table_in_a_few_calls(almasync: Almasync,
                                                              repo: Path) -> None:
    config = repo / "config"
    edit(config / "code_tables.yaml", "description: Doctoral student",
         "description: Doctoral candidate")
    full, full_calls = planned(almasync, config)
    plan, calls = planned(almasync, config, "--changed-since", "HEAD")

    assert changes(plan) == [("update", "code_table", "UserGroups")]
    # The same change as the full plan makes of that table, read from one table.
    assert plan["changes"] == [c for c in full["changes"] if c["key"] == "UserGroups"
                               and c["kind"] == "code_table"]
    assert len(calls) < 10 < len(full_calls), calls
    assert all(c.startswith("GET ") for c in calls)
    assert [c for c in calls if "/conf/code-tables" in c] == \
        ["GET /almaws/v1/conf/code-tables/UserGroups"]
    since = plan["changed_since"]
    assert since["ref"] == "HEAD"
    assert "UserGroups" not in since["not_read"]["code_table"]
    assert "MAIN/STACKS" in since["not_read"]["location"]
    assert "changed_since" not in full

    text = almasync("plan", str(config), "--changed-since", "HEAD")
    assert text.exit_code == 0, text.stderr
    assert "~ code_tables UserGroups" in text.stdout
    assert re.search(r"Not read: the declarations unchanged since HEAD \(.*code_tables: 3",
                     text.stdout)
    markdown = almasync("plan", str(config), "--changed-since", "HEAD", "--format", "markdown")
    assert "Not read: the declarations unchanged since HEAD" in markdown.stdout


def test_nothing_changed_reads_nothing_but_the_institution(almasync: Almasync,
                                                            repo: Path) -> None:
    plan, calls = planned(almasync, repo / "config", "--changed-since", "HEAD")
    assert plan["changes"] == []
    assert calls == ["GET /almaws/v1/conf/general"]
    text = almasync("plan", str(repo / "config"), "--changed-since", "HEAD")
    assert "No changes in what the files changed since HEAD." in text.stdout
    assert "matches Alma" not in text.stdout


def test_removed_declaration_in_a_pruned_scope_is_deleted(almasync: Almasync,
                                                          repo: Path) -> None:
    # almasync.yaml prunes the locations of MAIN: dropping REF from the file deletes it.
    config = repo / "config"
    edit(config / "locations.yaml", "    REF:\n      name: Reference\n"
         "      external_name: Reference\n      type: OPEN\n"
         "      fulfillment_unit: DEFAULT_FU\n", "")
    plan, calls = planned(almasync, config, "--changed-since", "HEAD")
    assert changes(plan) == [("delete", "location", "MAIN/REF")]
    # Only that location is looked for: MAIN/STORAGE, also undeclared, is not (the full
    # plan's business), and no other library's list is read.
    assert not any("/libraries/LAW" in c or "/libraries/MUSIC" in c for c in calls), calls
    assert len(calls) < 10, calls


def test_removed_declaration_outside_prune_scope_only_stops_being_managed(
        almasync: Almasync, repo: Path) -> None:
    config = repo / "config"
    edit(config / "locations.yaml", "  LAW:\n    LAWSTACKS:\n      name: Law Stacks\n"
         "      type: OPEN\n      fulfillment_unit: LAW_FU\n", "")
    plan, calls = planned(almasync, config, "--changed-since", "HEAD")
    assert plan["changes"] == []
    assert calls == ["GET /almaws/v1/conf/general"]


def test_a_widened_prune_rule_plans_that_kind_in_full(almasync: Almasync,
                                                      repo: Path) -> None:
    config = repo / "config"
    edit(config / "almasync.yaml", "locations: [MAIN]", "locations: true")
    result = almasync("plan", str(config), "--format", "json", "--changed-since", "HEAD")
    full = almasync("plan", str(config), "--format", "json")
    assert result.exit_code == full.exit_code, result.stderr
    plan, whole = json.loads(result.stdout), json.loads(full.stdout)
    assert changes(plan) == changes(whole, "location")
    assert ("delete", "location", "MAIN/STORAGE") in changes(plan)
    assert {"location", "code_table"} & {k for _, k, _ in changes(plan)} == {"location"}
    assert "location" not in plan["changed_since"]["not_read"]


def test_overlays_apply_on_both_sides(almasync: Almasync, repo: Path) -> None:
    config = repo / "config"
    edit(config / "almasync.yaml", "    api_url: https://api-eu.hosted.exlibrisgroup.com\n"
         "    api_key_env: ALMA_SANDBOX_KEY",
         f"    api_url: {almasync.emu.base_url}\n    api_key_env: ALMA_SANDBOX_KEY")
    overlay = config / "environments" / "sandbox"
    overlay.mkdir(parents=True)
    (overlay / "terms.yaml").write_text("license_terms:\n  WALKIN:\n"
                                        "    name: Walk-in users (sandbox)\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "sandbox overlay")
    env = {"ALMA_SANDBOX_KEY": almasync.emu.api_key}
    # The overlay is in both trees: unchanged, so nothing of it is planned.
    plan, _ = planned(almasync, config, "--env", "sandbox", "--changed-since", "HEAD", env=env)
    assert plan["changes"] == []
    # A change in the overlay is a change for its environment only.
    edit(overlay / "terms.yaml", "(sandbox)", "(training)")
    plan, _ = planned(almasync, config, "--env", "sandbox", "--changed-since", "HEAD", env=env)
    assert changes(plan) == [("update", "license_term", "WALKIN")]
    assert plan["changes"][0]["after"]["name"] == "Walk-in users (training)"
    plan, _ = planned(almasync, config, "--changed-since", "HEAD")
    assert plan["changes"] == []


def test_saved_incremental_plan_applies_like_any_saved_plan(almasync: Almasync,
                                                            repo: Path) -> None:
    config = repo / "config"
    edit(config / "license_terms.yaml", "name: Walk-in users", "name: Walk-in visitors")
    out = repo / "plan.json"
    assert almasync("plan", str(config), "--changed-since", "HEAD",
                    "--out", str(out)).exit_code == 0
    applied = almasync("apply", str(out), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert [(w.method, w.path) for w in almasync.writes()] == \
        [("PUT", "/almaws/v1/conf/license-terms/WALKIN")]
    plan, _ = planned(almasync, config, "--changed-since", "HEAD")
    assert plan["changes"] == []


def test_new_untracked_file_counts_as_changed(almasync: Almasync, repo: Path) -> None:
    (repo / "config" / "extra.yaml").write_text(
        "license_terms:\n  EXTRA:\n    name: Extra term\n    type: USAGE\n"
        "    value_type: PERMITTED_PROHIBITED\n")
    plan, _ = planned(almasync, repo / "config", "--changed-since", "HEAD")
    assert changes(plan) == [("create", "license_term", "EXTRA")]


def test_bad_ref_no_repository_and_drift_are_usage_errors(almasync: Almasync, repo: Path,
                                                           tmp_path: Path) -> None:
    bad = almasync("plan", str(repo / "config"), "--changed-since", "no-such-branch")
    assert bad.exit_code == ExitCode.USAGE
    assert "--changed-since no-such-branch: no such commit" in bad.stderr
    outside = tmp_path / "plain"
    shutil.copytree(EXAMPLES, outside)
    loose = almasync("plan", str(outside), "--changed-since", "HEAD")
    assert loose.exit_code == ExitCode.USAGE
    assert "is not inside a git repository" in loose.stderr
    several = almasync("plan", str(repo / "config"), "--all-envs", "--changed-since", "HEAD")
    assert several.exit_code == ExitCode.USAGE
    assert "--changed-since plans one environment" in several.stderr
    drift = almasync("drift", str(repo / "config"), "--changed-since", "HEAD")
    assert drift.exit_code == ExitCode.USAGE
    assert not almasync.emu.requests


def test_config_that_did_not_load_at_the_ref_is_located_there(almasync: Almasync,
                                                               repo: Path) -> None:
    config = repo / "config"
    edit(config / "sets.yaml", "sets:", "sets: [")
    git(repo, "commit", "-q", "-am", "broken")
    edit(config / "sets.yaml", "sets: [", "sets:")
    result = almasync("plan", str(config), "--changed-since", "HEAD")
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "the config as of HEAD does not load" in result.stderr
    assert "HEAD:config/sets.yaml:" in result.stderr
    # HEAD~1 loads: the plan is of what changed since then (nothing).
    assert almasync("plan", str(config), "--changed-since", "HEAD~1").exit_code == 0


def test_reference_checks_read_only_what_the_change_names(almasync: Almasync,
                                                          repo: Path) -> None:
    # The desk mapping names desks of MAIN and MUSIC: LAW's desks are not listed.
    config = repo / "config"
    edit(config / "mapping_tables.yaml", "column0: SELFCHECK3", "column0: SELFCHECK4")
    plan, calls = planned(almasync, config, "--changed-since", "HEAD")
    assert changes(plan) == [("update", "mapping_table", "CirculationDeskMapping")]
    desks = sorted(c for c in calls if "/circ-desks" in c)
    assert [c.split("/")[5] for c in desks] == ["MAIN", "MUSIC"], calls
    assert not any("/locations" in c or "/code-tables" in c for c in calls), calls
    assert len(calls) < 10, calls


def test_a_changed_template_changes_its_letter(almasync: Almasync, repo: Path) -> None:
    # letters.yaml is unchanged (and parsed once); the template it names is read at the ref.
    template = repo / "config" / "letters" / "LoanStatusNoticeLetter.xsl"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "</xsl:stylesheet>", "<!-- edited -->\n</xsl:stylesheet>"), encoding="utf-8")
    plan, calls = planned(almasync, repo / "config", "--changed-since", "HEAD")
    assert changes(plan) == [("update", "letter", "LoanStatusNoticeLetter")]
    assert len(calls) < 10, calls


def test_config_at_the_top_of_the_repository(almasync: Almasync, tmp_path: Path) -> None:
    root = tmp_path / "top"
    shutil.copytree(EXAMPLES, root)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "config")
    edit(root / "license_terms.yaml", "name: Walk-in users", "name: Walk-in visitors")
    plan, _ = planned(almasync, root, "--changed-since", "HEAD")
    assert changes(plan) == [("update", "license_term", "WALKIN")]


def test_a_folder_new_since_the_ref_is_planned_in_full(almasync: Almasync,
                                                       tmp_path: Path) -> None:
    root = tmp_path / "new"
    root.mkdir()
    (root / "README").write_text("config comes next\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    shutil.copytree(EXAMPLES, root / "config")
    result = almasync("plan", str(root / "config"), "--format", "json",
                      "--changed-since", "HEAD")
    full = almasync("plan", str(root / "config"), "--format", "json")
    assert result.exit_code == full.exit_code, result.stderr
    plan, whole = json.loads(result.stdout), json.loads(full.stdout)
    assert plan["changes"] == whole["changes"]
    assert plan["digest"] == whole["digest"]
    assert plan["changed_since"]["not_read"] == {}


def test_an_ignored_file_is_read_as_it_is_and_journals_are_not_changes(
        almasync: Almasync, repo: Path) -> None:
    config = repo / "config"
    journals = config / ".almasync" / "journals"
    journals.mkdir(parents=True)
    (journals / "old.json").write_text("{}")
    plan, calls = planned(almasync, config, "--changed-since", "HEAD")
    assert plan["changes"] == [] and calls == ["GET /almaws/v1/conf/general"]
    (repo / ".gitignore").write_text("local.yaml\n")
    (config / "local.yaml").write_text(
        "license_terms:\n  LOCAL:\n    name: Local term\n    type: USAGE\n"
        "    value_type: PERMITTED_PROHIBITED\n")
    plan, _ = planned(almasync, config, "--changed-since", "HEAD")
    assert changes(plan) == [("create", "license_term", "LOCAL")]


def test_a_narrowed_prune_rule_reads_nothing(almasync: Almasync, repo: Path) -> None:
    # Pruning less deletes nothing more: there is nothing to look for.
    edit(repo / "config" / "almasync.yaml", "prune:\n  locations: [MAIN]\n", "")
    plan, calls = planned(almasync, repo / "config", "--changed-since", "HEAD")
    assert plan["changes"] == []
    assert calls == ["GET /almaws/v1/conf/general"]
