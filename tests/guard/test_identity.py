"""Which institution a key reaches: the plan header, the recorded code, the environment
guard of ``plan --env``, and the write-access probe."""

from __future__ import annotations

import json
from typing import Any

import pytest

from almasync.alma.client import AlmaClient
from almasync.emulator import Emulator
from almasync.errors import (
    AlmaError,
    AlmaUnavailable,
    EnvironmentMismatch,
    ExitCode,
    InstitutionMismatch,
    WriteRefused,
)
from almasync.identity import (
    PROBE_ATTEMPTS,
    Identity,
    check_environment_type,
    check_institution,
    check_write_access,
    identify,
)
from tests.conftest import Almasync

SAME = "locations:\n  MUSIC:\n    SCORES: {name: Scores, external_name: Scores, type: OPEN}\n"


def _client(emu: Emulator, key: str | None = None, read_only: bool = True) -> AlmaClient:
    return AlmaClient(emu.base_url, key or emu.api_key, read_only=read_only, rate_limit=None)


def test_identify_reads_the_code_and_type_from_conf_general(emulator: Emulator) -> None:
    with _client(emulator) as client:
        found = identify(client)
    host = emulator.base_url.removeprefix("http://")
    assert found == Identity("01DEMO_INST", "SANDBOX", host)
    assert found.header("environment sandbox") == (
        f"institution 01DEMO_INST at {host} (environment sandbox, SANDBOX)")
    assert [(r.method, r.path) for r in emulator.requests] == [("GET",
                                                                "/almaws/v1/conf/general")]


def test_the_empty_seed_and_a_renamed_emulator_are_other_institutions(
        emulator: Emulator, empty_emulator: Emulator) -> None:
    with _client(empty_emulator) as client:
        assert identify(client).code == "01EMPTY_INST"
    emulator.institution_code = "01OTHER_INST"
    with _client(emulator) as client:
        assert identify(client).code == "01OTHER_INST"
        # What is scoped to the institution moved with it.
        hours = client.get("/conf/open-hours", {"scope": "01OTHER_INST"})
        assert hours.get("open_hour")
        assert client.get("/conf/test")["test"].endswith("institutionCode: 01OTHER_INST")


def test_identify_fails_clearly_when_alma_names_no_institution(emulator: Emulator) -> None:
    emulator.store.institution["code"] = ""
    with _client(emulator) as client, pytest.raises(AlmaError, match="no institution code"):
        identify(client)


def test_checks_refuse_another_institution_and_another_type() -> None:
    here = Identity("01B_INST", "PRODUCTION", "api-eu.hosted.exlibrisgroup.com")
    check_institution("01B_INST", here, "the plan")
    with pytest.raises(InstitutionMismatch, match="made against institution 01A_INST") as err:
        check_institution("01A_INST", here, "the plan")
    assert err.value.exit_code is ExitCode.BLOCKED
    with pytest.raises(InstitutionMismatch, match="names no institution"):
        check_institution(None, here, "the plan")
    check_environment_type(here, "PRODUCTION")
    check_environment_type(here, None)
    with pytest.raises(EnvironmentMismatch, match="reports PRODUCTION"):
        check_environment_type(here, "SANDBOX")


def test_write_probe_passes_a_read_write_key_and_stops_a_read_only_one(
        emulator: Emulator) -> None:
    with _client(emulator, read_only=False) as client:
        check_write_access(client)
    with (_client(emulator, emulator.read_only_key, read_only=False) as client,
          pytest.raises(WriteRefused, match="may not write") as err):
        check_write_access(client)
    assert err.value.exit_code is ExitCode.UNAVAILABLE
    assert emulator.read_only_key not in str(err.value)
    assert emulator.write_count == 0
    assert [r.path for r in emulator.requests if r.method == "POST"] == [
        "/almaws/v1/conf/test"] * 2


def test_plan_records_the_institution_it_was_read_from(almasync: Almasync,
                                                       config: Any) -> None:
    plan = almasync.plan_json(config({"l.yaml": SAME}))
    assert plan["target"]["institution"] == "01DEMO_INST"
    assert plan["target"]["environment_type"] == "SANDBOX"


def test_plan_env_applies_the_environment_guard(almasync: Almasync, config: Any,
                                                tmp_path: Any) -> None:
    root = config({"l.yaml": SAME.replace("Scores, type", "Notes, type"), "almasync.yaml":
                   f"environments:\n  production:\n    api_url: {almasync.emu.base_url}\n"
                   "    api_key_env: PROD_KEY\n    environment_type: PRODUCTION\n"})
    out = tmp_path / "plan.json"
    result = almasync("plan", str(root), "--env", "production", "--out", str(out),
                      env={"PROD_KEY": almasync.key})
    assert result.exit_code == ExitCode.BLOCKED
    # The plan is still printed, and the reason is given.
    assert "~ locations MUSIC/SCORES" in result.stdout
    assert "environment_type PRODUCTION but institution 01DEMO_INST reports SANDBOX" \
        in result.stderr
    assert "read from the wrong institution" in result.stderr
    assert json.loads(out.read_text())["target"]["institution"] == "01DEMO_INST"


def test_the_environment_guard_holds_for_each_of_several_environments(
        almasync: Almasync, config: Any, tmp_path: Any) -> None:
    base = almasync.emu.base_url
    root = config({"l.yaml": SAME, "almasync.yaml":
                   f"environments:\n  sandbox:\n    api_url: {base}\n"
                   "    api_key_env: KEY\n    environment_type: SANDBOX\n"
                   f"  production:\n    api_url: {base}\n"
                   "    api_key_env: KEY\n    environment_type: PRODUCTION\n"})
    out = tmp_path / "plan-{env}.json"
    result = almasync("plan", str(root), "--env", "sandbox,production", "--out", str(out),
                      env={"KEY": almasync.key})
    assert result.exit_code == ExitCode.BLOCKED
    assert "production: the settings declare environment_type PRODUCTION but institution " \
        "01DEMO_INST reports SANDBOX" in result.stderr
    assert "sandbox: the settings" not in result.stderr
    saved = json.loads((tmp_path / "plan-sandbox.json").read_text())
    assert saved["settings"]["environment"]["name"] == "sandbox"
    assert saved["target"]["institution"] == "01DEMO_INST"


def test_write_probe_asks_again_on_server_errors_then_stops_with_exit_4(
        emulator: Emulator) -> None:
    emulator.fault_rate = 1.0  # every answer an injected 500, nothing applied
    with (_client(emulator, read_only=False) as client,
          pytest.raises(AlmaUnavailable, match="could not learn whether this key may write")
          as err):
        check_write_access(client)
    assert not isinstance(err.value, WriteRefused)
    assert err.value.exit_code is ExitCode.UNAVAILABLE
    assert emulator.write_count == 0
    assert [r.path for r in emulator.requests if r.method == "POST"] == [
        "/almaws/v1/conf/test"] * PROBE_ATTEMPTS
