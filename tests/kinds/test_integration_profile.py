"""Integration profiles end to end, and the secrets they hold: the CLI against the emulator
over real HTTP. No secret may appear in any output, plan file, snapshot or export."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from ruamel.yaml import YAML

from almasync.errors import AlmaAuthError, AlmaError, ExitCode
from almasync.kinds.integration_profile import normalise, to_wire
from almasync.kinds.secrets import is_credential, resolve, scrubbed
from almasync.kinds.wire import strip_output_only
from tests.conftest import EXAMPLES, Almasync

SIS_SYNC = "6100000010005501"      # demo: USERS, parameters under SYNCHRONIZE
BURSAR = "6100000040005501"        # demo: BURSAR, ftp_* under both EXPORT and IMPORT
LIVE_SECRET = "live-Secret-0001"
NEW_SECRET = "new-Secret-0002"
EXPORT_SECRET = "demo-Export-Secret-1"   # the demo's live values
IMPORT_SECRET = "demo-Import-Secret-2"

SIS = """\
integration_profiles:
  SIS_SYNC:
    type: USERS
    description: Student information system import (nightly)
    parameters:
      SYNCHRONIZE: {active: false}
      IMPORT:
        ftp_password: ${SIS_FTP_PASSWORD}
        ftp_user: almasync
"""

BURSAR_EXPORT_PASSWORD = """\
integration_profiles:
  BURSAR_FINES:
    type: BURSAR
    parameters:
      EXPORT:
        ftp_password: ${BURSAR_OUT_PASSWORD}
        ftp_server: bursar-new.demo.example.edu
"""


def profile(almasync: Almasync, code: str) -> dict[str, Any]:
    with almasync.emu.store.lock:
        found = [p for p in almasync.emu.store.integration_profiles.values()
                 if p["code"] == code]
    assert len(found) == 1, code
    return found[0]


def parameters(almasync: Almasync, code: str) -> dict[tuple[str, str], Any]:
    """The stored parameters of a profile by (action, name)."""
    return {(p["action"]["value"], p["name"]["value"]): p["value"]
            for p in profile(almasync, code)["parameter"]}


def entries(almasync: Almasync, code: str) -> list[dict[str, Any]]:
    with almasync.emu.store.lock:
        return copy.deepcopy(profile(almasync, code)["parameter"])


def give_live_secret(almasync: Almasync) -> None:
    with almasync.emu.store.lock:
        almasync.emu.store.integration_profiles[SIS_SYNC]["parameter"].append(
            {"action": {"value": "IMPORT"}, "name": {"value": "ftp_password"},
             "value": LIVE_SECRET})


def put_bodies(almasync: Almasync, profile_id: str) -> list[dict[str, Any]]:
    """The JSON bodies of the PUTs the emulator recorded for one profile, in order."""
    return [json.loads(r.body) for r in almasync.emu.requests
            if r.method == "PUT" and r.path.endswith(f"/conf/integration-profiles/{profile_id}")]


def everything_written(root: Path) -> str:
    return "\n".join(p.read_text() for p in root.rglob("*") if p.is_file())


def test_demo_plan_of_the_examples(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--target", "integration_profiles")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert ('~ integration_profiles BURSAR_FINES\n    parameters.EXPORT.ftp_server: '
            '"bursar-out.demo.example.edu" -> "bursar-export.demo.example.edu"\n+') in out
    assert ('~ integration_profiles SIS_SYNC\n    description: "Student information system '
            'import" -> "Student information system import (nightly)"\n'
            '    parameters.IMPORT.ftp_password: (absent) -> "(sensitive)"\n'
            '    parameters.IMPORT.ftp_server: (absent) -> "sis-import.demo.example.edu"\n') in out
    assert '+ integration_profiles RFID_DESKS' in out
    assert '"api_token": "${RFID_API_TOKEN}"' in out
    assert almasync.writes() == []


def test_one_action_changes_and_the_other_stays_byte_for_byte(almasync: Almasync,
                                                              config: Any) -> None:
    """ftp_password and ftp_server exist under EXPORT and under IMPORT: changing EXPORT's
    leaves IMPORT's entries exactly as they were, in the PUT body and in Alma."""
    root = config({"bursar.yaml": BURSAR_EXPORT_PASSWORD})
    env = {"BURSAR_OUT_PASSWORD": NEW_SECRET}
    before = entries(almasync, "BURSAR_FINES")
    [change] = almasync.plan_json(root, env=env)["changes"]
    assert [(d["path"], d["before"], d["after"]) for d in change["diff"]] == [
        ("parameters.EXPORT.ftp_password", "(sensitive)", "(sensitive value changed)"),
        ("parameters.EXPORT.ftp_server", "bursar-out.demo.example.edu",
         "bursar-new.demo.example.edu")]

    applied = almasync("apply", str(root), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.stderr
    [body] = put_bodies(almasync, BURSAR)
    sent = body["parameter"]
    assert [e for e in sent if e["action"]["value"] == "IMPORT"] == before[3:]
    assert json.dumps(sent[3:]) == json.dumps(before[3:])   # same keys, order and values
    assert [e["value"] for e in sent[:3]] == ["bursar-new.demo.example.edu", "alma_export",
                                              NEW_SECRET]
    after = entries(almasync, "BURSAR_FINES")
    assert json.dumps(after[3:]) == json.dumps(before[3:])
    assert parameters(almasync, "BURSAR_FINES") == {
        ("EXPORT", "ftp_server"): "bursar-new.demo.example.edu",
        ("EXPORT", "ftp_user"): "alma_export",
        ("EXPORT", "ftp_password"): NEW_SECRET,
        ("IMPORT", "ftp_server"): "bursar-in.demo.example.edu",
        ("IMPORT", "ftp_user"): "alma_import",
        ("IMPORT", "ftp_password"): IMPORT_SECRET}
    assert almasync.plan_json(root, env=env)["changes"] == []


def test_import_credential_changes_alone(almasync: Almasync, config: Any) -> None:
    root = config({"b.yaml": "integration_profiles:\n  BURSAR_FINES:\n    type: BURSAR\n"
                             "    parameters:\n      EXPORT: {ftp_password: '${OUT}'}\n"
                             "      IMPORT: {ftp_password: '${IN}'}\n"})
    same = {"OUT": EXPORT_SECRET, "IN": IMPORT_SECRET}
    assert almasync.plan_json(root, env=same)["changes"] == []
    env = {**same, "IN": NEW_SECRET}
    [change] = almasync.plan_json(root, env=env)["changes"]
    assert [d["path"] for d in change["diff"]] == ["parameters.IMPORT.ftp_password"]
    assert almasync("apply", str(root), "--auto-approve", env=env).exit_code == 0
    assert parameters(almasync, "BURSAR_FINES")[("EXPORT", "ftp_password")] == EXPORT_SECRET
    assert parameters(almasync, "BURSAR_FINES")[("IMPORT", "ftp_password")] == NEW_SECRET
    assert almasync.plan_json(root, env=env)["changes"] == []


def test_added_parameter_lands_with_its_action(almasync: Almasync, config: Any) -> None:
    root = config({"b.yaml": "integration_profiles:\n  BURSAR_FINES:\n    type: BURSAR\n"
                             "    parameters:\n      EXPORT: {ftp_port: 2121}\n"
                             "      PAYMENTS: {enabled: true}\n"})
    before = entries(almasync, "BURSAR_FINES")
    [change] = almasync.plan_json(root)["changes"]
    assert change["diff"] == [
        {"path": "parameters.EXPORT.ftp_port", "before": None, "after": "2121",
         "absent": ["before"]},
        {"path": "parameters.PAYMENTS.enabled", "before": None, "after": True,
         "absent": ["before"]}]
    text = almasync("plan", str(root)).stdout
    assert 'parameters.EXPORT.ftp_port: (absent) -> "2121"' in text

    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    assert entries(almasync, "BURSAR_FINES") == [
        *before,
        {"action": {"value": "EXPORT"}, "name": {"value": "ftp_port"}, "value": "2121"},
        {"action": {"value": "PAYMENTS"}, "name": {"value": "enabled"}, "value": "true"}]
    assert almasync.plan_json(root)["changes"] == []


def test_what_the_file_does_not_manage_is_written_back_as_read(almasync: Almasync,
                                                               config: Any) -> None:
    """Unknown actions, unknown keys of an entry, odd values and unknown top-level fields
    go back exactly as Alma gave them."""
    odd = {"action": {"value": "X_UNKNOWN"}, "name": {"value": "mode"},
           "value": "2", "sequence": 7}
    with almasync.emu.store.lock:
        rec = almasync.emu.store.integration_profiles[BURSAR]
        rec["parameter"].insert(1, odd)
        rec["extra"]["contact_info"] = {"email": [{"address": "bursar@demo.example.edu"}]}
    root = config({"b.yaml": "integration_profiles:\n  BURSAR_FINES:\n    type: BURSAR\n"
                             "    description: Bursar exchange\n"
                             "    parameters:\n      IMPORT: {ftp_user: alma_in}\n"})
    before = entries(almasync, "BURSAR_FINES")
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    [body] = put_bodies(almasync, BURSAR)
    assert body["contact_info"] == {"email": [{"address": "bursar@demo.example.edu"}]}
    assert body["system"] == "OTHER" and body["description"] == "Bursar exchange"
    changed = [dict(e) for e in before]
    changed[5]["value"] = "alma_in"
    assert body["parameter"] == changed
    assert entries(almasync, "BURSAR_FINES") == changed
    assert "actions" not in body and "parameters" not in body


def test_declaring_what_is_live_writes_back_the_live_object(
        almasync: Almasync, monkeypatch: pytest.MonkeyPatch) -> None:
    """The no-op write: for every profile the emulator serves, declaring exactly what is
    live (credentials through variables holding the live values) and building the PUT
    body gives back the live object minus Alma's output-only fields, unchanged."""
    with almasync.emu.store.lock:
        rec = almasync.emu.store.integration_profiles[BURSAR]
        rec["parameter"].append({"action": {"value": "EXPORT"}, "name": {"value": "passive"},
                                 "value": True, "note": "a JSON boolean"})
        rec["extra"]["system"] = {"value": "OTHER", "desc": "Other"}
        ids = sorted(almasync.emu.store.integration_profiles)
        stored = {i: {(e["action"]["value"], e["name"]["value"]): e.get("value")
                      for e in almasync.emu.store.integration_profiles[i].get("parameter", [])}
                  for i in ids}
    session = requests.Session()
    session.headers.update({"Authorization": f"apikey {almasync.key}",
                            "Accept": "application/json"})
    credentials = []
    for profile_id in ids:
        url = f"{almasync.emu.base_url}/almaws/v1/conf/integration-profiles/{profile_id}"
        payload = session.get(url, timeout=10).json()
        declared = normalise(payload)
        for action, values in declared["parameters"].items():
            for name in [n for n in values if is_credential(n)]:
                variable = f"LIVE_{profile_id}_{action}_{name}".upper()
                monkeypatch.setenv(variable, stored[profile_id][(action, name)])
                credentials.append(variable)
                values[name] = "${" + variable + "}"
        resolved, _ = resolve(declared, profile_id)
        live = strip_output_only(payload)
        assert to_wire(live, resolved, profile_id) == live, profile_id
    assert len(credentials) == 2     # BURSAR_FINES: EXPORT's and IMPORT's ftp_password


def test_plan_apply_plan_is_empty(almasync: Almasync, config: Any) -> None:
    root = config({"profiles.yaml": SIS})
    env = {"SIS_FTP_PASSWORD": NEW_SECRET}
    data = almasync.plan_json(root, env=env)
    [change] = data["changes"]
    assert [d["path"] for d in change["diff"]] == [
        "description", "parameters.IMPORT.ftp_password", "parameters.IMPORT.ftp_user",
        "parameters.SYNCHRONIZE.active"]

    applied = almasync("apply", str(root), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.stderr
    assert parameters(almasync, "SIS_SYNC") == {
        ("SYNCHRONIZE", "ftp_server"): "sis-export.demo.example.edu",
        ("SYNCHRONIZE", "file_name_pattern"): "students_*.xml",
        ("SYNCHRONIZE", "active"): "false",
        ("IMPORT", "ftp_password"): NEW_SECRET,
        ("IMPORT", "ftp_user"): "almasync"}
    assert profile(almasync, "SIS_SYNC")["extra"]["system"] == "OTHER"
    assert almasync.plan_json(root, env=env)["changes"] == []


def test_rollback_restores_each_pair_under_its_action(almasync: Almasync,
                                                     config: Any) -> None:
    root = config({"b.yaml": "integration_profiles:\n  BURSAR_FINES:\n    type: BURSAR\n"
                             "    parameters:\n      IMPORT: {ftp_server: new-in.example.edu,"
                             " ftp_port: 2121}\n"})
    before = entries(almasync, "BURSAR_FINES")
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    [snapshot] = sorted((root / ".almasync" / "journals").glob("*.json"))
    undo = almasync("rollback", str(snapshot), "--auto-approve", "--force")
    assert undo.exit_code == 0, undo.stdout + undo.stderr
    rolled = put_bodies(almasync, BURSAR)[-1]["parameter"]
    # IMPORT's ftp_server is back; EXPORT's ftp_server and both credentials were never
    # touched; the added ftp_port stays (parameters are never removed).
    assert rolled == entries(almasync, "BURSAR_FINES") == [
        *before,
        {"action": {"value": "IMPORT"}, "name": {"value": "ftp_port"}, "value": "2121"}]


def test_create_with_a_secret(almasync: Almasync, config: Any) -> None:
    root = config({"p.yaml": "integration_profiles:\n  RFID_DESKS:\n    type: RFID\n"
                             "    name: RFID pads\n    parameters:\n      CHECKIN:\n"
                             "        api_token: ${RFID_TOKEN}\n        port: 8443\n"})
    env = {"RFID_TOKEN": NEW_SECRET}
    result = almasync("apply", str(root), "--auto-approve", env=env)
    assert result.exit_code == 0, result.stderr
    assert '"api_token": "${RFID_TOKEN}"' in result.stdout
    assert parameters(almasync, "RFID_DESKS") == {("CHECKIN", "api_token"): NEW_SECRET,
                                                  ("CHECKIN", "port"): "8443"}
    assert profile(almasync, "RFID_DESKS")["extra"]["name"] == "RFID pads"
    assert almasync.plan_json(root, env=env)["changes"] == []


def test_no_output_ever_shows_a_secret(almasync: Almasync, config: Any,
                                       tmp_path: Path) -> None:
    give_live_secret(almasync)
    root = config({"profiles.yaml": SIS})
    env = {"SIS_FTP_PASSWORD": NEW_SECRET}
    outputs = []
    text = almasync("plan", str(root), "--out", str(tmp_path / "plan.json"), env=env)
    assert ('parameters.IMPORT.ftp_password: "(sensitive)" -> "(sensitive value changed)"'
            in text.stdout)
    outputs.append(text)
    outputs += [almasync("plan", str(root), "--format", f, env=env)
                for f in ("json", "markdown")]
    outputs += [almasync("drift", str(root), "--format", f, "--include-unmanaged", env=env)
                for f in ("text", "json", "markdown", "junit")]
    outputs.append(almasync("-v", "apply", str(root), "--auto-approve", env=env))
    outputs.append(almasync("export", "--out", str(tmp_path / "exported"), env=env))
    secrets = (LIVE_SECRET, NEW_SECRET, EXPORT_SECRET, IMPORT_SECRET)
    for result in outputs:
        assert result.exit_code in (0, ExitCode.CHANGES), result.stderr
        for secret in secrets:
            assert secret not in result.stdout + result.stderr
    for secret in secrets:
        assert secret not in everything_written(tmp_path)    # plan file, snapshots, export
    assert parameters(almasync, "SIS_SYNC")[("IMPORT", "ftp_password")] == NEW_SECRET
    exported = everything_written(tmp_path / "exported")
    assert "ftp_password: ${SIS_SYNC_IMPORT_FTP_PASSWORD}" in exported
    assert "ftp_password: ${BURSAR_FINES_EXPORT_FTP_PASSWORD}" in exported


def test_same_secret_is_no_change(almasync: Almasync, config: Any) -> None:
    give_live_secret(almasync)
    root = config({"p.yaml": "integration_profiles:\n  SIS_SYNC:\n    type: USERS\n"
                             "    parameters: {IMPORT: {ftp_password: '${SIS_FTP_PASSWORD}'}}\n"})
    assert almasync.plan_json(root, env={"SIS_FTP_PASSWORD": LIVE_SECRET})["changes"] == []
    [change] = almasync.plan_json(root, env={"SIS_FTP_PASSWORD": NEW_SECRET})["changes"]
    assert change["before"] == {"parameters": {"IMPORT": {"ftp_password": "(sensitive)"}},
                                "type": "USERS"}
    # the same name under another action is another parameter: absent there
    other = config({"p.yaml": "integration_profiles:\n  SIS_SYNC:\n    type: USERS\n"
                              "    parameters: {SYNCHRONIZE: {ftp_password: '${PW}'}}\n"})
    [change] = almasync.plan_json(other, env={"PW": LIVE_SECRET})["changes"]
    assert [(d["path"], d["absent"]) for d in change["diff"]] == [
        ("parameters.SYNCHRONIZE.ftp_password", ["before"])]


def test_unset_variable_plans_but_stops_apply(almasync: Almasync, config: Any) -> None:
    give_live_secret(almasync)
    root = config({"profiles.yaml": SIS})
    data = almasync.plan_json(root, env={"SIS_FTP_PASSWORD": ""})
    [change] = data["changes"]
    assert "parameters.IMPORT.ftp_password" not in [d["path"] for d in change["diff"]]

    result = almasync("apply", str(root), "--auto-approve", env={"SIS_FTP_PASSWORD": ""})
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'profiles.yaml'}:5:5: integration_profiles.SIS_SYNC.parameters."
            "IMPORT.ftp_password: ${SIS_FTP_PASSWORD} is not set (or empty)") in result.stderr
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
    assert "parameters.IMPORT.ftp_password refers to ${SIS_FTP_PASSWORD}, which is not set" \
        in unset.stderr
    assert almasync("apply", str(saved), "--auto-approve", env=env).exit_code == 0
    assert parameters(almasync, "SIS_SYNC")[("IMPORT", "ftp_password")] == NEW_SECRET


def test_credentials_only_as_references(almasync: Almasync, config: Any) -> None:
    root = config({"p.yaml": """\
integration_profiles:
  SIS_SYNC:
    type: USERS
    parameters:
      SYNCHRONIZE: {sftp_private_key: "-----BEGIN KEY-----abc"}
      IMPORT:
        ftp_password: hunter2-literal
        ApiKey: [not, "a-scalar-secret"]
        ftp_server: ${SIS_SERVER}
"""})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    err, name = result.stderr, root / "p.yaml"
    assert (f"{name}:5:39: integration_profiles.SIS_SYNC.parameters.SYNCHRONIZE."
            "sftp_private_key: a credential is written only as a ${ENV_VAR} reference, e.g. "
            "${SIS_SYNC_SYNCHRONIZE_SFTP_PRIVATE_KEY}") in err
    assert (f"{name}:7:23: integration_profiles.SIS_SYNC.parameters.IMPORT.ftp_password: a "
            "credential is written only as a ${ENV_VAR} reference, e.g. "
            "${SIS_SYNC_IMPORT_FTP_PASSWORD}") in err
    assert (f"{name}:8:17: integration_profiles.SIS_SYNC.parameters.IMPORT.ApiKey: a "
            "credential") in err
    assert (f"{name}:9:21: integration_profiles.SIS_SYNC.parameters.IMPORT.ftp_server: "
            "${SIS_SERVER} references are only for credentials") in err
    for literal in ("hunter2", "BEGIN KEY", "a-scalar-secret"):
        assert literal not in err + result.stdout
    assert almasync.emu.requests == []


@pytest.mark.parametrize(("body", "where"), [
    ("    actions:\n      SYNCHRONIZE: {active: true}\n", "4:5: integration_profiles.SIS_SYNC"),
    ("    parameters:\n      ftp_server: sis.example.edu\n",
     "5:19: integration_profiles.SIS_SYNC.parameters.ftp_server: Input should be a valid "
     "dictionary"),
])
def test_the_old_shapes_are_refused(almasync: Almasync, config: Any, body: str,
                                    where: str) -> None:
    """No ``actions`` list, and no parameter without its action."""
    root = config({"p.yaml": "integration_profiles:\n  SIS_SYNC:\n    type: USERS\n" + body})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{root / 'p.yaml'}:{where}" in result.stderr
    assert almasync.emu.requests == []


def test_type_change_is_refused_at_plan_time(almasync: Almasync, config: Any) -> None:
    root = config({"p.yaml": "integration_profiles:\n  SIS_SYNC:\n    type: SIS\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'p.yaml'}:3:5: integration_profiles.SIS_SYNC.type: the profile is USERS "
            "in Alma and Alma cannot change a profile's type") in result.stderr


def test_type_must_be_in_the_integration_types_code_table(almasync: Almasync,
                                                          config: Any) -> None:
    root = config({"p.yaml": "integration_profiles:\n  NEW_ILL:\n    type: ILL_INTEGRATION\n"
                             "  BAD:\n    description: x\n    type: BURSER\n"
                             "  WORSE:\n    type: NOSUCHTYPE\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    err, name = result.stderr, root / "p.yaml"
    assert (f"{name}:6:5: integration_profiles.BAD.type: 'BURSER' is not a code of Alma's "
            "IntegrationTypes code table (valid types: BURSAR, ") in err
    assert f"{name}:8:5: integration_profiles.WORSE.type: 'NOSUCHTYPE' is not a code" in err
    assert "NEW_ILL" not in err
    assert {r.method for r in almasync.emu.requests} == {"GET"}

    # The table decides, not a list built into almasync: a type Alma adds is accepted.
    with almasync.emu.store.lock:
        almasync.emu.store.code_tables["IntegrationTypes"]["rows"].append(
            {"code": "NOSUCHTYPE", "description": "Now there is", "default": False,
             "enabled": True})
    good = config({"p.yaml": "integration_profiles:\n  WORSE:\n    type: NOSUCHTYPE\n"})
    assert [c["action"] for c in almasync.plan_json(good)["changes"]] == ["create"]


def test_alma_refusal_fails_the_change_not_the_run(almasync: Almasync, config: Any,
                                                   tmp_path: Path) -> None:
    root = config({"p.yaml": "integration_profiles:\n  PROXY:\n    type: PROXY_DEFINITION\n"
                             "  OFFSITE_REQUESTS:\n    type: REMOTE_STORAGE\n"
                             "    description: Offsite storage requests\n"})
    saved = tmp_path / "plan.json"
    assert almasync("plan", str(root), "--out", str(saved)).exit_code == 0
    with almasync.emu.store.lock:     # the type goes away between plan and apply
        table = almasync.emu.store.code_tables["IntegrationTypes"]
        table["rows"] = [r for r in table["rows"] if r["code"] != "PROXY_DEFINITION"]
    result = almasync("apply", str(saved), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   + integration_profiles PROXY" in result.stdout
    assert "applied  ~ integration_profiles OFFSITE_REQUESTS" in result.stdout
    assert "40166404" in result.stderr
    assert profile(almasync, "OFFSITE_REQUESTS")["description"] == "Offsite storage requests"


@pytest.mark.parametrize("entry", [
    {"name": {"value": "ftp_server"}, "value": "no-action.example.edu"},
    {"action": {"value": "EXPORT"}, "name": {"value": "ftp_server"}, "value": "twice"},
])
def test_a_parameter_alma_holds_ambiguously_stops_the_plan(almasync: Almasync, config: Any,
                                                           entry: dict[str, Any]) -> None:
    """An entry with no action, or a pair held twice: almasync cannot tell which entry a
    declared parameter means, so it says so at the declaring line instead of guessing."""
    with almasync.emu.store.lock:
        almasync.emu.store.integration_profiles[BURSAR]["parameter"].append(entry)
    root = config({"p.yaml": BURSAR_EXPORT_PASSWORD})
    result = almasync("plan", str(root), env={"BURSAR_OUT_PASSWORD": NEW_SECRET})
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'p.yaml'}:4:5: integration_profiles.BURSAR_FINES.parameters.EXPORT."
            "ftp_server: Alma holds more than one entry that may be this parameter"
            ) in result.stderr
    assert "ftp_password" not in result.stderr
    # Declaring only unambiguous parameters is fine.
    other = config({"p.yaml": "integration_profiles:\n  BURSAR_FINES:\n    type: BURSAR\n"
                              "    parameters: {IMPORT: {ftp_user: alma_in}}\n"})
    [change] = almasync.plan_json(other)["changes"]
    assert [d["path"] for d in change["diff"]] == ["parameters.IMPORT.ftp_user"]


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
    assert codes == ["BURSAR_FINES", "DISCOVERY_PUBLISH", "SIS_SYNC"]
    assert almasync.plan_json(root)["changes"] == []
    assert almasync.plan_json(config({"p.yaml": sis}))["changes"] == []


def test_export_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    give_live_secret(almasync)
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out), "--kinds", "integration_profiles")
    assert result.exit_code == 0, result.stderr
    text = (out / "integration_profiles.yaml").read_text()
    exported = YAML(typ="safe").load(text)["integration_profiles"]
    assert exported["BURSAR_FINES"]["parameters"] == {
        "EXPORT": {"ftp_server": "bursar-out.demo.example.edu", "ftp_user": "alma_export",
                   "ftp_password": "${BURSAR_FINES_EXPORT_FTP_PASSWORD}"},
        "IMPORT": {"ftp_server": "bursar-in.demo.example.edu", "ftp_user": "alma_import",
                   "ftp_password": "${BURSAR_FINES_IMPORT_FTP_PASSWORD}"}}
    assert exported["SIS_SYNC"]["parameters"]["SYNCHRONIZE"] == {
        "ftp_server": "sis-export.demo.example.edu", "file_name_pattern": "students_*.xml",
        "active": True}
    assert exported["SIS_SYNC"]["parameters"]["IMPORT"] == {
        "ftp_password": "${SIS_SYNC_IMPORT_FTP_PASSWORD}"}
    assert "actions" not in text
    for secret in (LIVE_SECRET, EXPORT_SECRET, IMPORT_SECRET):
        assert secret not in text
    assert almasync("validate", str(out)).exit_code == 0
    assert almasync.plan_json(out)["changes"] == []
    # With the variables set, the credentials are compared: the live values match.
    env = {"BURSAR_FINES_EXPORT_FTP_PASSWORD": EXPORT_SECRET,
           "BURSAR_FINES_IMPORT_FTP_PASSWORD": IMPORT_SECRET,
           "SIS_SYNC_IMPORT_FTP_PASSWORD": LIVE_SECRET}
    assert almasync.plan_json(out, env=env)["changes"] == []
    [change] = almasync.plan_json(
        out, env={**env, "BURSAR_FINES_IMPORT_FTP_PASSWORD": EXPORT_SECRET})["changes"]
    assert [d["path"] for d in change["diff"]] == ["parameters.IMPORT.ftp_password"]


def test_schema_covers_integration_profiles(almasync: Almasync, tmp_path: Path) -> None:
    assert almasync("schema", "--out", str(tmp_path)).exit_code == 0
    schema = json.loads((tmp_path / "almasync-resources.schema.json").read_text())
    fields = schema["$defs"]["IntegrationProfileFields"]
    assert fields["required"] == ["type"]
    parameters = fields["properties"]["parameters"]
    assert "${ENV_VAR}" in parameters["description"]
    assert parameters["additionalProperties"]["type"] == "object"   # action -> name -> value
    assert "actions" not in fields["properties"]
    assert "integration_profiles" in schema["properties"]


def test_every_profile_problem_alma_shows_is_reported_at_once(almasync: Almasync,
                                                              config: Any) -> None:
    """A type Alma cannot change in one profile and an ambiguous parameter in another are
    both reported by one plan, each at its line."""
    with almasync.emu.store.lock:
        almasync.emu.store.integration_profiles[BURSAR]["parameter"].append(
            {"name": {"value": "ftp_server"}, "value": "no-action.example.edu"})
    root = config({"p.yaml": BURSAR_EXPORT_PASSWORD + "  SIS_SYNC:\n    type: SIS\n"})
    result = almasync("plan", str(root), env={"BURSAR_OUT_PASSWORD": NEW_SECRET})
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / 'p.yaml'}:4:5: integration_profiles.BURSAR_FINES.parameters.EXPORT."
            "ftp_server: Alma holds more than one entry") in result.stderr
    assert "integration_profiles.SIS_SYNC.type: the profile is USERS in Alma" \
        in result.stderr
    assert almasync.writes() == []
