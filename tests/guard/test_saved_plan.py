"""A saved plan is self-contained and belongs to one institution: applied from another
directory with its recorded environment, guard and post_apply jobs; a stricter local
almasync.yaml wins; an edited file or another institution is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from almasync.emulator import Emulator
from almasync.errors import ExitCode
from almasync.plan.plan import file_digest
from tests.conftest import Almasync

CHANGE = "locations:\n  MUSIC:\n    SCORES: {name: Scores and Parts, type: OPEN}\n"
JOB = ("post_apply:\n  - job_id: M26714670000011\n    set: New acquisitions 2026\n"
       "    wait: true\n    timeout: 60\n")


def _settings(emu: Emulator, kind: str = "SANDBOX", extra: str = JOB) -> str:
    return (f"environments:\n  sandbox:\n    api_url: {emu.base_url}\n"
            f"    api_key_env: SANDBOX_KEY\n    environment_type: {kind}\n" + extra)


def _repository(tmp_path: Path, settings: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "config").mkdir(parents=True)
    (repo / "config" / "l.yaml").write_text(CHANGE)
    (repo / "config" / "almasync.yaml").write_text(settings)
    return repo


def _plan_in(almasync: Almasync, repo: Path, monkeypatch: pytest.MonkeyPatch,
             expect: int = ExitCode.OK) -> Path:
    """``plan config --env sandbox --out plan.json``, run in the repository."""
    monkeypatch.chdir(repo)
    result = almasync("plan", "config", "--env", "sandbox", "--out", "plan.json",
                      env={"SANDBOX_KEY": almasync.key})
    assert result.exit_code == expect, result.stderr
    return repo / "plan.json"


def _artifact(plan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The plan downloaded into another job's empty working directory."""
    ci = tmp_path / "ci-job"
    ci.mkdir()
    shutil.copy(plan, ci / "plan.json")
    monkeypatch.chdir(ci)
    return ci


def _apply(almasync: Almasync, *extra: str) -> Any:
    return almasync("apply", "plan.json", "--auto-approve", *extra,
                    env={"SANDBOX_KEY": almasync.key, "ALMA_API_URL": None,
                         "ALMA_API_KEY": None})


def _job_posts(almasync: Almasync) -> list[Any]:
    return [r for r in almasync.emu.requests
            if r.method == "POST" and r.path.startswith("/almaws/v1/conf/jobs/")]


def test_the_plan_file_records_its_settings_never_the_key(
        almasync: Almasync, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repository(tmp_path, _settings(almasync.emu, extra=JOB + "safety:\n  max_deletes: 3\n"
                                           "prune:\n  locations: [MUSIC]\n"))
    data = json.loads(_plan_in(almasync, repo, monkeypatch).read_text())
    assert data["format_version"] == 2
    assert data["digest"].startswith("sha256:") and data["file_digest"].startswith("sha256:")
    assert data["target"]["institution"] == "01DEMO_INST"
    assert data["settings"] == {
        "environment": {"name": "sandbox", "api_url": almasync.emu.base_url,
                        "api_key_env": "SANDBOX_KEY", "environment_type": "SANDBOX"},
        "safety": {"max_deletes": 3},
        "prune": {"locations": ["MUSIC"]},
        "post_apply": [{"job_id": "M26714670000011", "set": "New acquisitions 2026",
                        "timeout": 60.0}],
    }
    assert almasync.key not in json.dumps(data)


def test_a_plan_is_applied_from_another_directory_with_its_recorded_settings(
        almasync: Almasync, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan_in(almasync, _repository(tmp_path, _settings(almasync.emu)), monkeypatch)
    ci = _artifact(plan, tmp_path, monkeypatch)
    result = _apply(almasync)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert ("Settings: from the plan file plan.json (environment sandbox, SANDBOX; safety "
            "rules, prune scope and 1 post_apply job as recorded).") in result.stderr
    host = almasync.emu.base_url.removeprefix("http://")
    assert f"Target: institution 01DEMO_INST at {host} (environment sandbox, SANDBOX)" \
        in result.stdout
    assert len(_job_posts(almasync)) == 1           # the recorded post_apply job ran
    assert "COMPLETED_SUCCESS" in result.stdout
    # The journal lies beside the plan file, not in a stray ./config folder.
    assert len(list((ci / ".almasync" / "journals").glob("*.json"))) == 1
    assert not (ci / "config").exists()


def test_the_recorded_environment_guard_holds_wherever_the_plan_is_applied(
        almasync: Almasync, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repository(tmp_path, _settings(almasync.emu, "PRODUCTION"))
    plan = _plan_in(almasync, repo, monkeypatch, expect=ExitCode.BLOCKED)
    _artifact(plan, tmp_path, monkeypatch)
    result = _apply(almasync)
    assert result.exit_code == ExitCode.BLOCKED
    assert "declare environment_type PRODUCTION but institution 01DEMO_INST reports " \
        "SANDBOX" in result.stderr
    assert almasync.writes() == []


def test_another_environment_than_the_plans_is_refused(
        almasync: Almasync, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan_in(almasync, _repository(tmp_path, _settings(almasync.emu)), monkeypatch)
    _artifact(plan, tmp_path, monkeypatch)
    result = _apply(almasync, "--env", "production")
    assert result.exit_code == ExitCode.BLOCKED
    assert "was made for environment sandbox, not production" in result.stderr
    assert almasync.writes() == []


def test_a_stricter_local_almasync_yaml_wins_and_says_so(
        almasync: Almasync, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repository(tmp_path, _settings(almasync.emu, extra="safety:\n  max_updates: 5\n"))
    ci = _artifact(_plan_in(almasync, repo, monkeypatch), tmp_path, monkeypatch)
    (ci / "almasync.yaml").write_text("safety:\n  max_updates: 0\n")
    result = _apply(almasync)
    assert result.exit_code == ExitCode.BLOCKED
    assert "Stricter in almasync.yaml, and used: safety.max_updates: 0 (plan: 5)." \
        in result.stderr
    assert "1 updates exceed safety.max_updates (0)" in result.stderr
    assert almasync.writes() == []
    (ci / "almasync.yaml").write_text("safety:\n  max_updates: 10\n")
    looser = _apply(almasync)
    assert looser.exit_code == ExitCode.OK, looser.stderr
    assert "almasync.yaml is no stricter than the plan's settings." in looser.stderr


def test_a_narrower_local_prune_scope_blocks_the_deletes_outside_it(
        almasync: Almasync, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repository(tmp_path, _settings(almasync.emu, extra="prune:\n  license_terms: "
                                           "true\n"))
    (repo / "config" / "t.yaml").write_text("license_terms:\n  ARCHIVE: {name: Archiving "
                                            "right}\n")
    plan = _plan_in(almasync, repo, monkeypatch)
    assert json.loads(plan.read_text())["summary"]["delete"] >= 1
    ci = _artifact(plan, tmp_path, monkeypatch)
    (ci / "almasync.yaml").write_text("prune:\n  locations: [MUSIC]\n")
    result = _apply(almasync)
    assert result.exit_code == ExitCode.BLOCKED
    assert "prune.license_terms: nothing (plan: true)" in result.stderr
    assert "license_terms WALKIN is outside the prune scope in force" in result.stderr
    assert almasync.writes() == []


def test_an_edited_plan_file_is_refused(almasync: Almasync, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan_in(almasync, _repository(tmp_path, _settings(almasync.emu)), monkeypatch)
    data = json.loads(plan.read_text())
    assert data["digest"].startswith("sha256:") and data["file_digest"].startswith("sha256:")
    data["settings"]["safety"] = {"max_updates": 100}
    plan.write_text(json.dumps(data))
    result = _apply(almasync)
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "file_digest" in result.stderr and "changed after `plan` wrote it" in result.stderr
    # Changes edited and the file sealed again: the changes no longer match the digest a
    # review names.
    data = json.loads(plan.read_text())
    data["changes"][0]["after"]["name"] = "Something else"
    data["file_digest"] = file_digest({k: v for k, v in data.items() if k != "file_digest"})
    plan.write_text(json.dumps(data))
    edited = _apply(almasync)
    assert edited.exit_code == ExitCode.INVALID_CONFIG
    assert "does not match its changes" in edited.stderr
    assert almasync.writes() == []


def test_a_plan_and_a_journal_of_one_institution_are_refused_by_another(
        almasync: Almasync, config: Any, tmp_path: Path) -> None:
    root = config({"l.yaml": CHANGE})
    out = tmp_path / "plan.json"
    assert almasync("plan", str(root), "--out", str(out)).exit_code == ExitCode.OK
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.OK
    [journal] = (root / ".almasync" / "journals").glob("*.json")
    assert json.loads(journal.read_text())["target"]["institution"] == "01DEMO_INST"
    # Institution B: the same state as A was before the apply (a sandbox refreshed from A).
    with Emulator(seed="demo", rate_limit=None, institution_code="01OTHER_INST") as other:
        b = Almasync(other, almasync.runner, other.api_key)
        refused = b("apply", str(out), "--auto-approve")
        assert refused.exit_code == ExitCode.BLOCKED, refused.stderr
        assert ("was made against institution 01DEMO_INST, but this key reaches institution "
                "01OTHER_INST") in refused.stderr
        assert b("rollback", str(journal), "--auto-approve").exit_code == ExitCode.BLOCKED
        assert b.writes() == []
