"""Saved plans: applied exactly as saved, refused (exit 6, nothing written) when stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from almasync.errors import ExitCode
from tests.conftest import Almasync

CONFIG = """\
locations:
  MAIN:
    STACKS: {name: Main Stacks, external_name: Main Stacks, type: OPEN}
    NEWBOOKS: {name: New Books, type: OPEN, fulfillment_unit: DEFAULT_FU}
"""


def _put_location(almasync: Almasync, library: str, code: str, **fields: Any) -> None:
    url = f"{almasync.emu.base_url}/almaws/v1/conf/libraries/{library}/locations/{code}"
    headers = {"Authorization": f"apikey {almasync.key}", "Accept": "application/json"}
    body = requests.get(url, headers=headers, timeout=5).json()
    body = {k: v for k, v in body.items() if not (isinstance(v, dict) and v.get("value") == "")}
    body.update(fields)
    response = requests.put(url, json=body, headers=headers, timeout=5)
    assert response.status_code == 200, response.text


def _save_plan(almasync: Almasync, root: Path, tmp_path: Path) -> Path:
    out = tmp_path / "plan.json"
    result = almasync("plan", str(root), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    return out


def test_saved_plan_applies_exactly_what_was_saved(almasync: Almasync, config: Any,
                                                   tmp_path: Path) -> None:
    root = config({"l.yaml": CONFIG})
    out = _save_plan(almasync, root, tmp_path)
    saved = json.loads(out.read_text())
    assert saved["summary"] == {"create": 1, "update": 1, "delete": 0}
    assert almasync.key not in out.read_text()
    # The file changes after the plan was made; the saved plan still applies as saved.
    (root / "l.yaml").write_text(CONFIG.replace("New Books", "Something else"))
    result = almasync("apply", str(out), "--auto-approve")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert len(almasync.writes()) == 2
    after = json.loads(almasync("plan", str(root), "--format", "json").stdout)
    assert [c["diff"] for c in after["changes"]] == [
        [{"path": "name", "before": "New Books", "after": "Something else", "absent": []}]]


def test_stale_update_is_refused_with_nothing_written(almasync: Almasync, config: Any,
                                                      tmp_path: Path) -> None:
    root = config({"l.yaml": CONFIG})
    out = _save_plan(almasync, root, tmp_path)
    _put_location(almasync, "MAIN", "STACKS", external_name="Changed by hand")
    writes_before = len(almasync.writes())
    result = almasync("apply", str(out), "--auto-approve")
    assert result.exit_code == ExitCode.STALE_PLAN
    assert "locations MAIN/STACKS changed in Alma since the plan was made" in result.stderr
    assert len(almasync.writes()) == writes_before


def test_stale_create_is_refused(almasync: Almasync, config: Any, tmp_path: Path) -> None:
    root = config({"l.yaml": CONFIG})
    out = _save_plan(almasync, root, tmp_path)
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    writes_before = len(almasync.writes())
    result = almasync("apply", str(out), "--auto-approve")
    assert result.exit_code == ExitCode.STALE_PLAN
    assert "locations MAIN/NEWBOOKS was created in Alma since the plan was made" \
        in result.stderr
    assert len(almasync.writes()) == writes_before


def test_change_to_an_undeclared_field_is_not_stale(almasync: Almasync, config: Any,
                                                    tmp_path: Path) -> None:
    root = config({"l.yaml": CONFIG})
    out = _save_plan(almasync, root, tmp_path)
    _put_location(almasync, "MAIN", "STACKS", map="floor 2")
    assert almasync("apply", str(out), "--auto-approve").exit_code == ExitCode.OK


def test_damaged_plan_file(almasync: Almasync, tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    assert almasync("apply", str(bad), "--auto-approve").exit_code == ExitCode.INVALID_CONFIG
    bad.write_text(json.dumps({"format_version": 99, "changes": []}))
    result = almasync("apply", str(bad), "--auto-approve")
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "format_version" in result.stderr
