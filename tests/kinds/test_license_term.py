"""License terms end to end: the CLI against the emulator over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from almasync.errors import ExitCode
from almasync.kinds.license_term import strip_empty
from tests.conftest import Almasync

BASIC = """\
license_terms:
  ARCHIVE:
    name: Archiving rights
  TDM:
    name: Text and data mining
    description: Computational analysis
    type: USAGE
    value_type: YES_NO
"""



def test_plan_apply_then_plan_is_empty(almasync: Almasync, config: Any) -> None:
    root = config({"terms.yaml": BASIC})
    data = almasync.plan_json(root)
    assert data["summary"] == {"create": 1, "update": 1, "delete": 0}
    update = next(c for c in data["changes"] if c["action"] == "update")
    assert update["key"] == "ARCHIVE"
    assert update["diff"] == [{"path": "name", "before": "Archiving right",
                               "after": "Archiving rights", "absent": []}]
    assert {r.method for r in almasync.emu.requests} == {"GET"}

    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert "applied  + license_terms TDM" in result.stdout
    # Two terms: written side by side, so in either order.
    assert sorted((r.method, r.path) for r in almasync.writes()) == [
        ("POST", "/almaws/v1/conf/license-terms"),
        ("PUT", "/almaws/v1/conf/license-terms/ARCHIVE")]
    terms = almasync.emu.store.license_terms
    assert terms["TDM"] == {"code": "TDM", "name": "Text and data mining",
                            "description": "Computational analysis", "type": "USAGE",
                            "value_type": "YES_NO"}
    # The PUT sent the whole term: fields the file does not declare are unchanged.
    assert terms["ARCHIVE"]["type"] == "PERPETUAL"
    assert terms["ARCHIVE"]["description"] == "The right to keep a permanent archival copy"
    assert almasync.plan_json(root)["changes"] == []


def test_empty_description_matches_a_term_without_one(almasync: Almasync,
                                                      config: Any) -> None:
    almasync.emu.store.license_terms["WALKIN"]["description"] = ""
    root = config({"t.yaml": "license_terms:\n  WALKIN:\n    name: Walk-in users\n"
                             "    description: ''\n"})
    assert almasync.plan_json(root)["changes"] == []


def test_no_prune_deletes_nothing(almasync: Almasync, config: Any) -> None:
    root = config({"terms.yaml": BASIC})
    assert not [c for c in almasync.plan_json(root)["changes"] if c["action"] == "delete"]


def test_prune_true_deletes_every_undeclared_term(almasync: Almasync, config: Any) -> None:
    root = config({"terms.yaml": BASIC, "almasync.yaml": "prune:\n  license_terms: true\n"})
    data = almasync.plan_json(root)
    assert sorted(c["key"] for c in data["changes"] if c["action"] == "delete") == [
        "ILLELEC", "WALKIN"]
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert sorted(almasync.emu.store.license_terms) == ["ARCHIVE", "TDM"]
    assert almasync.plan_json(root)["changes"] == []


def test_prune_list_deletes_only_the_listed_codes(almasync: Almasync, config: Any) -> None:
    root = config({"terms.yaml": BASIC,
                   "almasync.yaml": "prune:\n  license_terms: [WALKIN, GONE]\n"})
    data = almasync.plan_json(root)
    assert [c["key"] for c in data["changes"] if c["action"] == "delete"] == ["WALKIN"]
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    assert "WALKIN" not in almasync.emu.store.license_terms
    assert "ILLELEC" in almasync.emu.store.license_terms


def test_config_errors_name_file_and_line(almasync: Almasync, config: Any) -> None:
    root = config({"t.yaml": ("license_terms:\n"
                              "  A:\n    description: no name\n"         # 2: name missing
                              "  B:\n    name: Bee\n    type: null\n"    # 6: null type
                              "  C:\n    name: Cee\n    vallue_type: YES_NO\n"  # 9
                              "  ' D':\n    name: Dee\n"                 # 10
                              "  E:\n    name: ''\n")})                  # 13
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    name = root / "t.yaml"
    err = result.stderr
    assert f"{name}:2:3: license_terms.A.name: missing required field 'name'" in err
    assert f"{name}:6:11: license_terms.B.type: Input should be a valid string" in err
    assert f"{name}:9:5: license_terms.C.vallue_type: unknown field 'vallue_type'" in err
    assert f"{name}:10:3: license_terms: term code ' D' is empty or has leading" in err
    assert f"{name}:13:11: license_terms.E.name: String should have at least 1 character" \
        in err
    assert almasync.emu.requests == []


def test_alma_refusal_fails_the_change_with_its_code(almasync: Almasync, config: Any) -> None:
    root = config({"t.yaml": ("license_terms:\n  BAD: {name: Bad, type: NOSUCHTYPE}\n"
                              "  WALKIN: {name: Walk-in visitors}\n")})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    out = result.stdout + result.stderr
    assert "failed   + license_terms BAD" in out
    assert "60195" in out
    assert "applied  ~ license_terms WALKIN" in out
    assert almasync.emu.store.license_terms["WALKIN"]["name"] == "Walk-in visitors"


def test_export_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out), "--kinds", "license_terms")
    assert result.exit_code == 0, result.stderr
    text = (out / "license_terms.yaml").read_text()
    assert "ARCHIVE:" in text and "type: PERPETUAL" in text
    assert almasync.plan_json(out)["changes"] == []


def test_drift_reports_changes_and_unmanaged(almasync: Almasync, config: Any) -> None:
    root = config({"terms.yaml": BASIC})
    result = almasync("drift", str(root), "--include-unmanaged")
    assert result.exit_code == ExitCode.CHANGES
    assert "~ license_terms ARCHIVE" in result.stdout
    assert "? license_terms WALKIN" in result.stdout
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_empty_wrapped_values_are_not_sent() -> None:
    body = {"code": "X", "type": {"value": None}, "value_type": {"value": ""},
            "description": "", "nested": [{"a": None, "b": {"value": "Y"}}]}
    assert strip_empty(body) == {"code": "X", "description": "",
                                 "nested": [{"b": {"value": "Y"}}]}
