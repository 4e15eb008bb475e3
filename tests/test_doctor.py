"""``almasync doctor``: the table, its exit codes, read-only, and ``--record``."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from almasync.cli import cli
from almasync.doctor.assumptions import (
    ASSUMPTIONS,
    Status,
    environment_type,
    list_shapes,
    profile_parameters,
    value_types,
)
from almasync.doctor.captures import read
from almasync.doctor.client import Exchange
from almasync.doctor.sample import Listing, Sample
from almasync.doctor.sanitise import (
    EMAIL,
    HOST,
    PERSONAL,
    PUBLIC_HOSTS,
    is_marker,
    what_holds,
)
from almasync.emulator import Emulator
from almasync.emulator.replay import Replay
from almasync.errors import ExitCode
from tests.conftest import Almasync
from tests.noop import CAPTURES, DEVIANT_SEEDS, outcomes


def _run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, ["doctor", *args],
                              env={"ALMASYNC_RATE_LIMIT": "0", **(env or {})},
                              catch_exceptions=False)


def _rows(stdout: str) -> dict[tuple[str, str], str]:
    data = json.loads(stdout)
    return {(r["kind"], r["assumption"]): r["status"] for r in data["assumptions"]}


def test_against_the_demo_nothing_is_contradicted(almasync: Almasync) -> None:
    result = almasync("doctor")
    assert result.exit_code == ExitCode.OK, result.stdout + result.stderr
    assert re.search(r"KIND +ASSUMPTION +STATUS +WHAT IT MEANS", result.stdout)
    for kind in ("locations", "code_tables", "mapping_tables", "letters", "license_terms",
                 "reminders", "open_hours", "sets", "integration_profiles"):
        assert re.search(rf"^{kind} +fields replayed in a write +verified", result.stdout,
                         re.MULTILINE), kind
    assert re.search(r"^general +environment_type +verified +environment_type SANDBOX",
                     result.stdout, re.MULTILINE)
    assert " 0 contradicted" in result.stdout
    assert {r.method for r in almasync.emu.requests} == {"GET"}
    assert almasync.key not in result.stdout + result.stderr


def test_json_lists_every_assumption(almasync: Almasync) -> None:
    result = almasync("doctor", "--format", "json")
    assert result.exit_code == ExitCode.OK
    rows = _rows(result.stdout)
    assert {(a.kind, a.name) for a in ASSUMPTIONS} <= set(rows)
    assert set(rows.values()) <= {s.value for s in Status}
    assert json.loads(result.stdout)["contradicted"] is False


def test_a_profile_parameter_without_action_is_a_contradiction(tmp_path: Path) -> None:
    seed = tmp_path / "deviant.json"
    seed.write_text(json.dumps(DEVIANT_SEEDS["profile parameters without action, and twice"]))
    result = _run("--emulator", str(seed))
    assert result.exit_code == ExitCode.CHANGES, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines()
                if "profile parameter identity" in line)
    assert "contradicted" in line
    assert "ODD: parameter ftp_server has no action" in line
    assert "ODD: parameter x of action EXPORT occurs twice" in line
    # what it means for the user, on the same line
    assert "almasync cannot tell which entry it means" in line


def _with_unknown_location_field(folder: Path) -> list[Exchange]:
    out = []
    for exchange in read(folder):
        body = exchange.body
        if re.fullmatch(r"/conf/libraries/[^/]+/locations/[^/]+", exchange.path):
            body = {**body, "floor_plan_url": "plans/3rd-floor.pdf"}
        out.append(Exchange(exchange.method, exchange.path, exchange.params, body,
                            exchange.status, exchange.headers))
    return out


def test_a_location_field_almasync_does_not_know_is_a_contradiction() -> None:
    with Replay(_with_unknown_location_field(CAPTURES / "demo")) as replay:
        result = _run(env={"ALMA_API_URL": replay.base_url, "ALMA_API_KEY": replay.api_key})
        writes = [call for call in replay.calls if call[0] != "GET"]
    assert result.exit_code == ExitCode.CHANGES, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines()
                if line.startswith("locations") and "fields expected" in line)
    assert "contradicted" in line and ": floor_plan_url" in line
    assert "sends it back as read in every write" in line
    # ... and the no-op write shows that almasync does carry it back
    assert re.search(r"^locations +fields replayed in a write +verified", result.stdout,
                     re.MULTILINE)
    assert writes == []


def test_unreachable_is_4() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _run(env={"ALMA_API_URL": f"http://127.0.0.1:{port}",
                       "ALMA_API_KEY": "doctor-key-xyz"})
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "could not reach Alma" in result.stderr
    assert "doctor-key-xyz" not in result.stdout + result.stderr


# -- --record --------------------------------------------------------------------------------

SECRET = "Pw-4-the-FTP-server!"
PERSON = "Roe, Jane"
EMAIL_ADDRESS = "jane.roe@library.uni-example.edu"
FTP_HOST = "ftp.bursar.uni-example.edu"


def _private_seed() -> dict[str, Any]:
    return {
        "format": 1,
        "institution": {"code": "01PRIV_INST", "name": "Private University",
                        "environment_type": "SANDBOX"},
        "license_terms": {"ILL": {"name": "Interlibrary loan",
                                  "description": f"Questions to {EMAIL_ADDRESS}"}},
        "sets": [{"name": "Weeded 2026", "type": "ITEMIZED", "content": "BIB_MMS",
                  "created_by": PERSON, "members": ["991"]}],
        "integration_profiles": [{
            "id": "77", "code": "BURSAR", "type": "BURSAR", "parameter": [
                {"action": {"value": "EXPORT"}, "name": {"value": "ftp_server"},
                 "value": FTP_HOST},
                {"action": {"value": "EXPORT"}, "name": {"value": "ftp_password"},
                 "value": SECRET},
                {"action": {"value": "EXPORT"}, "name": {"value": "contact"},
                 "value": f"mailto:{EMAIL_ADDRESS}"}]}],
    }


def _walk(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Any, str]:
    folder = tmp_path / "captures" / "private"
    with Emulator(seed=_private_seed(), rate_limit=None) as emu:
        env = {"ALMA_API_URL": emu.base_url, "ALMA_API_KEY": emu.api_key}
        result = _run("--record", str(folder), env=env)
        key = emu.api_key
    assert result.exit_code == ExitCode.OK, result.stdout + result.stderr
    return folder, result, key


def test_record_leaves_no_secret_and_no_person_behind(recorded: tuple[Path, Any, str]
                                                      ) -> None:
    folder, result, key = recorded
    files = sorted(folder.rglob("*.json"))
    assert {p.parent.name for p in files} >= {"general", "sets", "integration_profiles",
                                              "license_terms"}
    assert f"Recorded {len(files)} responses under {folder}" in result.stderr
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    text += result.stdout + result.stderr
    for private in (SECRET, key, PERSON, EMAIL_ADDRESS, FTP_HOST, "uni-example"):
        assert private not in text
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for name, value in _walk(data["body"]):
            if name in PERSONAL or what_holds(name) == "person":
                assert value is None or is_marker(value), (path, name, value)
            if isinstance(value, str):
                assert all(is_marker(e) for e in EMAIL.findall(value)), (path, value)
                hosts = [h for h in HOST.findall(value) if h.lower() not in PUBLIC_HOSTS
                         and not h.endswith((".invalid", ".xsl"))]
                assert [h for h in hosts if not h.replace(".", "").isdigit()] == [], value
    profile = next(json.loads(p.read_text()) for p in files
                   if p.parent.name == "integration_profiles" and "_77." in p.name)
    values = {e["name"]["value"]: e["value"] for e in profile["body"]["parameter"]}
    assert values["ftp_password"].startswith("redacted-secret-")
    assert values["ftp_server"].startswith("redacted-host-")
    assert values["contact"].startswith("redacted-person-")
    term = next(json.loads(p.read_text()) for p in files
                if p.parent.name == "license_terms" and "_ILL." in p.name)
    assert re.fullmatch(r"Questions to redacted-email-\d+@example\.invalid",
                        term["body"]["description"])


def test_a_recording_replays_in_the_suite(recorded: tuple[Path, Any, str],
                                          tmp_path: Path) -> None:
    folder, _, _ = recorded
    with Replay.from_folder(folder) as replay:
        found = outcomes(replay.base_url, replay.api_key)
        env = {"ALMA_API_URL": replay.base_url, "ALMA_API_KEY": replay.api_key,
               "ALMASYNC_RATE_LIMIT": "0"}
        runner = CliRunner()
        exported = runner.invoke(cli, ["export", "--out", str(tmp_path / "x")], env=env)
        planned = runner.invoke(cli, ["plan", str(tmp_path / "x"), "--format", "json"],
                                env=env)
        again = _run(env={"ALMA_API_URL": replay.base_url, "ALMA_API_KEY": replay.api_key})
    assert [f.message for o in found for f in o.findings] == []
    assert {o.kind.value for o in found if o.checked} >= {"set", "integration_profile",
                                                          "license_term"}
    assert exported.exit_code == 0, exported.stderr
    assert planned.exit_code == 0, planned.stderr
    assert json.loads(planned.stdout)["changes"] == []
    assert again.exit_code == ExitCode.OK, again.stdout


# -- the checks, on hand-made samples ---------------------------------------------------------

def _sample(kind: str, *objects: Any, lists: tuple[Listing, ...] = ()) -> dict[str, Sample]:
    sample = Sample(kind, lists=list(lists),
                    objects=[(Exchange("GET", f"/conf/{kind}/x", {}, o), None) for o in objects])
    return {kind: sample}


def test_checks_on_hand_made_samples() -> None:
    assert environment_type(_sample("general", {"environment_type": {"value": "TEST"}})
                            ).status is Status.CONTRADICTED
    assert environment_type({}).status is Status.NOT_SEEN
    bad_type = value_types("locations")(_sample("locations", {
        "code": "A", "type": "OPEN", "suppress_from_publishing": "maybe"}))
    assert bad_type.status is Status.CONTRADICTED
    assert "type is 'OPEN', expected a coded" in bad_type.detail
    assert "suppress_from_publishing is 'maybe'" in bad_type.detail
    bare = Listing(Exchange("GET", "/conf/sets", {}, {"set": {"id": "1", "name": "x"},
                                                        "total_record_count": 1}),
                   "set", lambda e: str(e["id"]))
    one = list_shapes("sets")({"sets": Sample("sets", lists=[bare])})
    assert one.status is Status.VERIFIED and "bare object" in one.detail
    uncounted = Listing(Exchange("GET", "/conf/sets", {}, {"set": []}), "set",
                        lambda e: str(e["id"]))
    assert list_shapes("sets")({"sets": Sample("sets", lists=[uncounted])}
                               ).status is Status.CONTRADICTED
    single = profile_parameters(_sample("integration_profiles", {
        "code": "P", "parameter": {"action": {"value": "A"}, "name": {"value": "n"}}}))
    assert single.status is Status.VERIFIED


def test_the_environment_type_almasync_yaml_declares_is_checked(
        almasync: Almasync, tmp_path: Path) -> None:
    (tmp_path / "almasync.yaml").write_text(
        f"environments:\n  prod:\n    api_url: {almasync.emu.base_url}\n"
        "    api_key_env: DOCTOR_KEY\n    environment_type: PRODUCTION\n", encoding="utf-8")
    result = almasync("doctor", "--env", "prod", "--config", str(tmp_path),
                      env={"DOCTOR_KEY": almasync.key})
    assert result.exit_code == ExitCode.CHANGES, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("general"))
    assert "contradicted" in line
    assert "almasync.yaml declares PRODUCTION, the institution reports SANDBOX" in line


def test_docs_list_every_assumption_and_which_are_unverified() -> None:
    from almasync.doctor.run import NOOP
    from almasync.kinds import ORDER

    text = (Path(__file__).resolve().parent.parent / "docs" / "doctor.md").read_text()
    per_kind: dict[str, dict[str, bool]] = {}
    kinds = {h.kind.config_key for h in ORDER}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 2 and cells[0] in kinds:
            per_kind[cells[0]] = {name.replace(" (*unverified*)", "").strip():
                                  "*unverified*" in name for name in cells[1].split(", ")}
    assert set(per_kind) == kinds
    for a in ASSUMPTIONS:
        if a.kind in per_kind:
            assert per_kind[a.kind].get(a.name) is a.unverified, (a.kind, a.name)
        else:
            assert f"| {a.kind} | {a.name} |" in text, (a.kind, a.name)
    assert all(NOOP in names for names in per_kind.values())
    assert sum(len(names) for names in per_kind.values()) == len(
        [a for a in ASSUMPTIONS if a.kind in per_kind]) + len(per_kind)


def test_a_refused_key_is_4_not_a_sample(almasync: Almasync) -> None:
    result = almasync("doctor", env={"ALMA_API_KEY": "not-the-key"})
    assert result.exit_code == ExitCode.UNAVAILABLE, result.stdout
    assert "not-the-key" not in result.stdout + result.stderr


def test_list_entries_without_their_key_are_a_contradiction() -> None:
    exchanges = []
    for exchange in read(CAPTURES / "demo"):
        body = exchange.body
        if re.fullmatch(r"/conf/libraries/[^/]+/locations", exchange.path):
            body = {**body, "location": [{k: v for k, v in e.items() if k != "code"}
                                         for e in body["location"]]}
        exchanges.append(Exchange(exchange.method, exchange.path, exchange.params, body,
                                  exchange.status, exchange.headers))
    with Replay(exchanges) as replay:
        result = _run(env={"ALMA_API_URL": replay.base_url, "ALMA_API_KEY": replay.api_key})
    assert result.exit_code == ExitCode.CHANGES, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines()
                if line.startswith("locations") and "list shapes" in line)
    assert "contradicted" in line
    assert "/conf/libraries/MAIN/locations: 2 entries without the field that identifies" in line


def test_a_kind_that_fails_on_a_capture_is_a_contradiction_not_a_crash() -> None:
    from almasync.doctor.run import noop_rows
    from almasync.doctor.sample import Sample

    listing = Listing(Exchange("GET", "/conf/license-terms", {}, {
        "license_term": [{"code": "X", "name": 5}], "total_record_count": 1}),
        "license_term", lambda e: str(e.get("code")), kept={"X"})
    full = Exchange("GET", "/conf/license-terms/X", {}, ["not", "an", "object"])
    rows = noop_rows({"license_terms": Sample("license_terms", lists=[listing],
                                              objects=[(full, {"code": "X"})])})
    assert [(r.kind, r.status) for r in rows] == [("license_terms", Status.CONTRADICTED)]
    assert "almasync could not read the sample back or build its write" in rows[0].detail


def test_record_refuses_a_folder_that_is_not_empty(almasync: Almasync, tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("{}")
    result = almasync("doctor", "--record", str(tmp_path))
    assert result.exit_code == ExitCode.USAGE
    assert "not empty" in result.stderr
    assert almasync.emu.requests == []


def test_an_empty_institution_is_mostly_not_seen_and_nothing_contradicted() -> None:
    result = _run("--emulator", "empty", "--format", "json")
    assert result.exit_code == ExitCode.OK, result.stdout + result.stderr
    rows = _rows(result.stdout)
    assert rows[("locations", "fields replayed in a write")] == "not seen"
    assert rows[("general", "environment_type")] == "verified"
    assert "contradicted" not in rows.values()
