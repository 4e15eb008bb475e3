"""Integration profiles end to end, and the secrets they hold: the CLI against the emulator
over real HTTP. No secret may appear in any output, plan file, snapshot or export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from almasync.errors import AlmaAuthError, AlmaError, ExitCode
from almasync.kinds.secrets import scrubbed
from tests.conftest import EXAMPLES, Almasync

SIS_SYNC = "6100000010005501"   # demo: USERS, action SYNCHRONIZE, parameter ftp_server
LIVE_SECRET = "live-Secret-0001"
NEW_SECRET = "new-Secret-0002"

SIS = """\
integration_profiles:
  SIS_SYNC:
    type: USERS
    description: Student information system import (nightly)
    actions:
      SYNCHRONIZE: {active: false}
      IMPORT: {file_name_pattern: "new_*.xml"}
    parameters:
      ftp_password: ${SIS_FTP_PASSWORD}
      ftp_user: almasync
"""



def profile(almasync: Almasync, code: str) -> dict[str, Any]:
    with almasync.emu.store.lock:
        found = [p for p in almasync.emu.store.integration_profiles.values()
                 if p["code"] == code]
    assert len(found) == 1, code
    return found[0]


def parameters(almasync: Almasync, code: str) -> dict[str, Any]:
    return {p["name"]: p["value"] for p in profile(almasync, code)["extra"]["parameters"]}


def give_live_secret(almasync: Almasync) -> None:
    with almasync.emu.store.lock:
        almasync.emu.store.integration_profiles[SIS_SYNC]["extra"]["parameters"].append(
            {"name": "ftp_password", "value": LIVE_SECRET})


def everything_written(root: Path) -> str:
    return "\n".join(p.read_text() for p in root.rglob("*") if p.is_file())


def test_demo_plan_of_the_examples(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--target", "integration_profiles")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert ('~ integration_profile SIS_SYNC\n    description: "Student information system '
            'import" -> "Student information system import (nightly)"\n'
            '    parameters.ftp_password: (absent) -> "(sensitive)"') in out
    assert '+ integration_profile RFID_DESKS' in out
    assert '"api_token": "${RFID_API_TOKEN}"' in out
    assert almasync.writes() == []


def test_plan_apply_plan_is_empty(almasync: Almasync, config: Any) -> None:
    root = config({"profiles.yaml": SIS})
    env = {"SIS_FTP_PASSWORD": NEW_SECRET}
    data = almasync.plan_json(root, env=env)
    [change] = data["changes"]
    assert [d["path"] for d in change["diff"]] == [
        "actions.IMPORT", "actions.SYNCHRONIZE.active", "description",
        "parameters.ftp_password", "parameters.ftp_user"]

    applied = almasync("apply", str(root), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.stderr
    assert parameters(almasync, "SIS_SYNC") == {
        "ftp_server": "sis-export.demo.example.edu", "ftp_password": NEW_SECRET,
        "ftp_user": "almasync"}
    actions = profile(almasync, "SIS_SYNC")["extra"]["actions"]
    assert actions == [{"type": "SYNCHRONIZE", "file_name_pattern": "students_*.xml",
                        "active": False}, {"type": "IMPORT", "file_name_pattern": "new_*.xml"}]
    assert profile(almasync, "SIS_SYNC")["extra"]["system"] == "OTHER"
    assert almasync.plan_json(root, env=env)["changes"] == []


def test_create_with_a_secret(almasync: Almasync, config: Any) -> None:
    root = config({"p.yaml": "integration_profiles:\n  RFID_DESKS:\n    type: RFID\n"
                             "    name: RFID pads\n    parameters:\n"
                             "      api_token: ${RFID_TOKEN}\n      port: 8443\n"})
    env = {"RFID_TOKEN": NEW_SECRET}
    result = almasync("apply", str(root), "--auto-approve", env=env)
    assert result.exit_code == 0, result.stderr
    assert '"api_token": "${RFID_TOKEN}"' in result.stdout
    assert parameters(almasync, "RFID_DESKS") == {"api_token": NEW_SECRET, "port": "8443"}
    assert profile(almasync, "RFID_DESKS")["extra"]["name"] == "RFID pads"
    assert almasync.plan_json(root, env=env)["changes"] == []


def test_no_output_ever_shows_a_secret(almasync: Almasync, config: Any,
                                       tmp_path: Path) -> None:
    give_live_secret(almasync)
    root = config({"profiles.yaml": SIS})
    env = {"SIS_FTP_PASSWORD": NEW_SECRET}
    outputs = []
    text = almasync("plan", str(root), "--out", str(tmp_path / "plan.json"), env=env)
    assert ('parameters.ftp_password: "(sensitive)" -> "(sensitive value changed)"'
            in text.stdout)
    outputs.append(text)
    outputs += [almasync("plan", str(root), "--format", f, env=env)
                for f in ("json", "markdown")]
    outputs += [almasync("drift", str(root), "--format", f, "--include-unmanaged", env=env)
                for f in ("text", "json", "markdown", "junit")]
    outputs.append(almasync("-v", "apply", str(root), "--auto-approve", env=env))
    outputs.append(almasync("export", "--out", str(tmp_path / "exported"), env=env))
    for result in outputs:
        assert result.exit_code in (0, ExitCode.CHANGES), result.stderr
        for secret in (LIVE_SECRET, NEW_SECRET):
            assert secret not in result.stdout + result.stderr
    for secret in (LIVE_SECRET, NEW_SECRET):
        assert secret not in everything_written(tmp_path)    # plan file, snapshots, export
    assert parameters(almasync, "SIS_SYNC")["ftp_password"] == NEW_SECRET
    assert "ftp_password: ${SIS_SYNC_FTP_PASSWORD}" in everything_written(
        tmp_path / "exported")


def test_same_secret_is_no_change(almasync: Almasync, config: Any) -> None:
    give_live_secret(almasync)
    root = config({"p.yaml": "integration_profiles:\n  SIS_SYNC:\n    type: USERS\n"
                             "    parameters: {ftp_password: '${SIS_FTP_PASSWORD}'}\n"})
    assert almasync.plan_json(root, env={"SIS_FTP_PASSWORD": LIVE_SECRET})["changes"] == []
    [change] = almasync.plan_json(root, env={"SIS_FTP_PASSWORD": NEW_SECRET})["changes"]
    assert change["before"] == {"parameters": {"ftp_password": "(sensitive)"}, "type": "USERS"}


def test_unset_variable_plans_but_stops_apply(almasync: Almasync, config: Any) -> None:
    give_live_secret(almasync)
    root = config({"profiles.yaml": SIS})
    data = almasync.plan_json(root, env={"SIS_FTP_PASSWORD": ""})
    [change] = data["changes"]
    assert "parameters.ftp_password" not in [d["path"] for d in change["diff"]]

    result = almasync("apply", str(root), "--auto-approve", env={"SIS_FTP_PASSWORD": ""})
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'profiles.yaml'}:8:5: integration_profiles.SIS_SYNC.parameters."
            "ftp_password: ${SIS_FTP_PASSWORD} is not set (or empty)") in result.stderr
    assert almasync.writes() == []


def test_saved_plan_holds_references_only(almasync: Almasync, config: Any,
                                          tmp_path: Path) -> None:
    root = config({"profiles.yaml": SIS})
    saved = tmp_path / "plan.json"
    env = {"SIS_FTP_PASSWORD": NEW_SECRET}
    assert almasync("plan", str(root), "--out", str(saved), env=env).exit_code == 0
    assert NEW_SECRET not in saved.read_text()
    assert "${SIS_FTP_PASSWORD}" in saved.read_text()
    unset = almasync("apply", str(saved), "--auto-approve")
    assert unset.exit_code == ExitCode.INVALID_CONFIG
    assert "parameters.ftp_password refers to ${SIS_FTP_PASSWORD}, which is not set" \
        in unset.stderr
    assert almasync("apply", str(saved), "--auto-approve", env=env).exit_code == 0
    assert parameters(almasync, "SIS_SYNC")["ftp_password"] == NEW_SECRET


def test_credentials_only_as_references(almasync: Almasync, config: Any) -> None:
    root = config({"p.yaml": """\
integration_profiles:
  SIS_SYNC:
    type: USERS
    actions:
      SYNCHRONIZE: {sftp_private_key: "-----BEGIN KEY-----abc"}
    parameters:
      ftp_password: hunter2-literal
      ApiKey: [not, "a-scalar-secret"]
      ftp_server: ${SIS_SERVER}
"""})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    err, name = result.stderr, root / "p.yaml"
    assert (f"{name}:5:39: integration_profiles.SIS_SYNC.actions.SYNCHRONIZE.sftp_private_key:"
            " a credential is written only as a ${ENV_VAR} reference, e.g. "
            "${SIS_SYNC_SYNCHRONIZE_SFTP_PRIVATE_KEY}") in err
    assert (f"{name}:7:21: integration_profiles.SIS_SYNC.parameters.ftp_password: a "
            "credential is written only as a ${ENV_VAR} reference") in err
    assert f"{name}:8:15: integration_profiles.SIS_SYNC.parameters.ApiKey: a credential" in err
    assert (f"{name}:9:19: integration_profiles.SIS_SYNC.parameters.ftp_server: "
            "${SIS_SERVER} references are only for credentials") in err
    for literal in ("hunter2", "BEGIN KEY", "a-scalar-secret"):
        assert literal not in err + result.stdout
    assert almasync.emu.requests == []


def test_type_change_is_refused_at_plan_time(almasync: Almasync, config: Any) -> None:
    root = config({"p.yaml": "integration_profiles:\n  SIS_SYNC:\n    type: SIS\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'p.yaml'}:3:5: integration_profiles.SIS_SYNC.type: the profile is USERS "
            "in Alma and Alma cannot change a profile's type") in result.stderr


def test_alma_refusal_fails_the_change_not_the_run(almasync: Almasync, config: Any) -> None:
    root = config({"p.yaml": "integration_profiles:\n  BAD:\n    type: NOSUCHTYPE\n"
                             "  OFFSITE_REQUESTS:\n    type: REMOTE_STORAGE\n"
                             "    description: Offsite storage requests\n"})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   + integration_profile BAD" in result.stdout
    assert "applied  ~ integration_profile OFFSITE_REQUESTS" in result.stdout
    assert "40166404" in result.stderr
    assert profile(almasync, "OFFSITE_REQUESTS")["description"] == "Offsite storage requests"


@pytest.mark.parametrize("error_class", [AlmaError, AlmaAuthError])
def test_secrets_are_scrubbed_from_alma_messages(error_class: type[AlmaError]) -> None:
    with pytest.raises(error_class) as caught, scrubbed([NEW_SECRET]):
        raise error_class(400, "40166410", f"Parameter value invalid: {NEW_SECRET}.",
                          "E01-1", "PUT", "/conf/integration-profiles/1")
    assert NEW_SECRET not in str(caught.value)
    assert caught.value.alma_message == "Parameter value invalid: (sensitive)."
    assert caught.value.code == "40166410" and caught.value.__cause__ is None


def test_prune_by_code_prefix(almasync: Almasync, config: Any) -> None:
    sis = "integration_profiles:\n  SIS_SYNC:\n    type: USERS\n"
    root = config({"p.yaml": sis, "almasync.yaml": "prune:\n  integration_profiles: [OFF]\n"})
    data = almasync.plan_json(root)
    assert [(c["action"], c["key"]) for c in data["changes"]] == [
        ("delete", "OFFSITE_REQUESTS")]
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    with almasync.emu.store.lock:
        codes = sorted(p["code"] for p in almasync.emu.store.integration_profiles.values())
    assert codes == ["DISCOVERY_PUBLISH", "SIS_SYNC"]
    assert almasync.plan_json(root)["changes"] == []
    assert almasync.plan_json(config({"p.yaml": sis}))["changes"] == []


def test_export_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    give_live_secret(almasync)
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out), "--kinds", "integration_profiles")
    assert result.exit_code == 0, result.stderr
    text = (out / "integration_profiles.yaml").read_text()
    assert "ftp_password: ${SIS_SYNC_FTP_PASSWORD}" in text
    assert "file_name_pattern: students_*.xml" in text and LIVE_SECRET not in text
    assert almasync.plan_json(out)["changes"] == []
    assert almasync("validate", str(out)).exit_code == 0


def test_schema_covers_integration_profiles(almasync: Almasync, tmp_path: Path) -> None:
    assert almasync("schema", "--out", str(tmp_path)).exit_code == 0
    schema = json.loads((tmp_path / "almasync-resources.schema.json").read_text())
    fields = schema["$defs"]["IntegrationProfileFields"]
    assert fields["required"] == ["type"]
    assert "${ENV_VAR}" in fields["properties"]["parameters"]["description"]
    assert "integration_profiles" in schema["properties"]
