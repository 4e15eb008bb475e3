"""Per-environment overlay folders and ``${VAR}`` values: one tree puts a refreshed sandbox
back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from almasync.config.loader import load_config
from almasync.emulator import Emulator
from almasync.errors import ConfigError
from almasync.model import Kind
from tests.conftest import Almasync

SETTINGS = """\
environments:
  sandbox:
    api_url: {url}
    api_key_env: ALMA_SANDBOX_KEY
    environment_type: SANDBOX
  production:
    api_url: https://api-eu.hosted.exlibrisgroup.com
    api_key_env: ALMA_PROD_KEY
    environment_type: PRODUCTION
"""
COMMON = """\
locations:
  MAIN:
    STACKS:
      name: Main Stacks
      type: OPEN
      external_name: Stacks
"""
OVERLAY = """\
locations:
  MAIN:
    STACKS:
      external_name: Stacks (sandbox)
    TRAINING:
      name: Training shelf
      type: OPEN
      external_name: ${TRAINING_LABEL}
"""


@pytest.fixture
def tree(config: Any, emulator: Emulator) -> Path:
    root: Path = config({"almasync.yaml": SETTINGS.format(url=emulator.base_url),
                         "locations.yaml": COMMON,
                         "environments/sandbox/locations.yaml": OVERLAY})
    return root


def test_overlay_replaces_fields_and_is_read_only_for_its_environment(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINING_LABEL", "Training")
    common = load_config(tree).of(Kind.LOCATION)
    assert set(common) == {("MAIN", "STACKS")}
    assert common[("MAIN", "STACKS")].fields["external_name"] == "Stacks"
    sandbox = load_config(tree, "sandbox").of(Kind.LOCATION)
    stacks = sandbox[("MAIN", "STACKS")]
    assert stacks.fields["name"] == "Main Stacks"
    assert stacks.fields["external_name"] == "Stacks (sandbox)"
    assert stacks.marks["external_name"].file.endswith("environments/sandbox/locations.yaml")
    assert stacks.marks["name"].file.endswith("config/locations.yaml")
    assert sandbox[("MAIN", "TRAINING")].fields["external_name"] == "Training"
    assert set(load_config(tree, "production").of(Kind.LOCATION)) == {("MAIN", "STACKS")}


def test_unset_variable_and_unknown_overlay_are_located_errors(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAINING_LABEL", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_config(tree, "sandbox")
    assert "environments/sandbox/locations.yaml:8:22: locations.MAIN.TRAINING." \
           "external_name: ${TRAINING_LABEL} is not set" in str(caught.value)
    (tree / "environments" / "staging").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config(tree)
    assert "overlay folder for environment 'staging'" in str(caught.value)


def test_literal_dollar_brace_and_overlay_typing(config: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHERE", "floor 2")
    root = config({"locations.yaml": COMMON.replace("external_name: Stacks",
                                                    "external_name: $${not} ${WHERE}")})
    loc = load_config(root).of(Kind.LOCATION)[("MAIN", "STACKS")]
    assert loc.fields["external_name"] == "${not} floor 2"


def test_a_variable_spelt_with_a_yaml_escape_is_still_replaced(
        config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The file's text never holds "${", its value does.
    monkeypatch.setenv("WHERE", "floor 2")
    root = config({"locations.yaml": COMMON.replace("external_name: Stacks",
                                                    'external_name: "\\x24{WHERE}"')})
    loc = load_config(root).of(Kind.LOCATION)[("MAIN", "STACKS")]
    assert loc.fields["external_name"] == "floor 2"


def test_apply_restores_the_sandbox_overlay_after_a_refresh(
        tree: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch,
        almasync: Almasync) -> None:
    env = {"ALMA_SANDBOX_KEY": emulator.api_key, "TRAINING_LABEL": "Training"}
    first = almasync("apply", str(tree), "--env", "sandbox", "--auto-approve", env=env)
    assert first.exit_code == 0, first.output
    # A sandbox refresh: the sandbox becomes a copy of production (the seed) again.
    with Emulator(seed="demo", rate_limit=None, api_key=emulator.api_key) as refreshed:
        settings = tree / "almasync.yaml"
        settings.write_text(SETTINGS.format(url=refreshed.base_url))
        runner = Almasync(refreshed, almasync.runner, refreshed.api_key)
        drifted = runner("plan", str(tree), "--env", "sandbox", "--detailed-exitcode",
                         env=env)
        assert drifted.exit_code == 2, drifted.output
        restored = runner("apply", str(tree), "--env", "sandbox", "--auto-approve", env=env)
        assert restored.exit_code == 0, restored.output
        after = runner("plan", str(tree), "--env", "sandbox", "--format", "json",
                       "--detailed-exitcode", env=env)
        assert after.exit_code == 0, after.output
        url = f"{refreshed.base_url}/almaws/v1/conf/libraries/MAIN/locations/STACKS"
        live = requests.get(url, headers={"Authorization": f"apikey {refreshed.api_key}",
                                          "Accept": "application/json"}, timeout=10).json()
        assert live["external_name"] == "Stacks (sandbox)"
