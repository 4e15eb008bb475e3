"""Letters end to end: templates in files, XML-only PUTs, labels through the code table."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner

from almasync import engine
from almasync.alma.client import AlmaClient
from almasync.config.loader import DesiredState
from almasync.config.settings import Settings
from almasync.config.yamlwrite import dump_yaml
from almasync.emulator import Emulator
from almasync.emulator.seed import builtin_seed
from almasync.errors import ExitCode
from almasync.kinds.letter import LetterHandler, letter_xml, xsl_file_name
from almasync.model import Kind, Resource
from tests.conftest import EXAMPLES, Almasync

CODE = "FulfillmentActivityLetter"
XSL = f"letters/{CODE}.xsl"
ADDED = '      <p>@@requests@@: <xsl:value-of select="count(//request)" /></p>\n'


def live_xsl(almasync: Almasync, code: str = CODE) -> str:
    text: str = almasync.emu.store.letters[code]["xsl"]
    return text


def changed_xsl(almasync: Almasync) -> str:
    """The live template with one line added after the heading."""
    live = live_xsl(almasync)
    anchor = "<h2>@@header@@</h2>\n"
    assert anchor in live
    return live.replace(anchor, anchor + ADDED)


def letter_config(config: Any, xsl: str, extra: str = "") -> Path:
    yaml = (f"letters:\n  {CODE}:\n    enabled: true\n    xsl_file: {XSL}\n"
            "    labels:\n      header: Your library activity\n" + extra)
    root: Path = config({"letters.yaml": yaml})
    (root / XSL).parent.mkdir(exist_ok=True)
    (root / XSL).write_bytes(xsl.encode("utf-8"))
    return root



def test_plan_holds_whole_templates_and_shows_a_short_diff(almasync: Almasync,
                                                            config: Any) -> None:
    """The plan file holds both templates whole (one canonical form, before and after alike);
    the text and Markdown output show a summary and a short unified diff."""
    wanted = changed_xsl(almasync)
    root = letter_config(config, wanted)
    data = almasync.plan_json(root)
    [change] = data["changes"]
    assert (change["action"], change["kind"], change["key"]) == ("update", "letter", CODE)
    diffs = {d["path"]: d for d in change["diff"]}
    assert sorted(diffs) == ["labels.header", "xsl"]
    assert diffs["labels.header"]["before"] == "Activity Report"
    assert diffs["labels.header"]["after"] == "Your library activity"
    assert (diffs["xsl"]["before"], diffs["xsl"]["after"]) == (live_xsl(almasync), wanted)
    assert change["before"] == {"enabled": True, "xsl": live_xsl(almasync),
                                "labels": {"header": "Activity Report"}}
    assert change["after"]["xsl"] == wanted, "apply gets the whole template"
    assert set(change["before"]) == set(change["after"]), "before and after have one shape"
    assert "xsl_file" not in change["after"]
    text = almasync("plan", str(root)).stdout
    lines = text.splitlines()
    at = lines.index("    xsl:")
    assert lines[at + 2].startswith(
        f"        | template of {len(live_xsl(almasync).splitlines())} lines, sha256 ")
    assert '    labels.header: "Activity Report" -> "Your library activity"' in lines
    shown = lines[at + 4:lines.index("", at)]
    assert shown[0].startswith("        | @@ -")
    assert "        | +" + ADDED.rstrip("\n") in shown
    assert len(shown) <= 6, "the plan shows the change, not the template"
    markdown = almasync("plan", str(root), "--format", "markdown").stdout
    assert "+" + ADDED.rstrip("\n") in markdown.splitlines()
    assert "<xsl:stylesheet" not in markdown
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_apply_writes_xml_and_labels_then_plan_is_empty(almasync: Almasync,
                                                        config: Any) -> None:
    wanted = changed_xsl(almasync)
    root = letter_config(config, wanted)
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert f"applied  ~ letters {CODE}" in result.stdout
    writes = [(r.method, r.path) for r in almasync.writes()]
    assert writes == [("PUT", f"/almaws/v1/conf/letters/{CODE}"),
                      ("PUT", f"/almaws/v1/conf/code-tables/{CODE}")]
    letter = almasync.emu.store.letters[CODE]
    assert letter["xsl"] == wanted
    assert letter["customized"] is True
    assert letter["channel"] == "EMAIL", "fields the file does not declare are sent back"
    rows = {r["code"]: r["description"] for r in almasync.emu.store.code_tables[CODE]["rows"]}
    assert rows == {"header": "Your library activity", "loans": "Loans",
                    "requests": "Requests", "fines_fees": "Fines and fees"}
    assert almasync.plan_json(root)["changes"] == []


def test_saved_plan_applies_the_whole_template(almasync: Almasync, config: Any,
                                               tmp_path: Path) -> None:
    wanted = changed_xsl(almasync)
    root = letter_config(config, wanted)
    saved = tmp_path / "plan.json"
    assert almasync("plan", str(root), "--out", str(saved)).exit_code == 0
    (root / XSL).write_text("<changed-after-the-plan/>")
    result = almasync("apply", str(saved), "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert live_xsl(almasync) == wanted


def test_saved_plan_is_stale_when_the_template_changed_in_alma(almasync: Almasync,
                                                               config: Any,
                                                               tmp_path: Path) -> None:
    root = letter_config(config, changed_xsl(almasync))
    saved = tmp_path / "plan.json"
    assert almasync("plan", str(root), "--out", str(saved)).exit_code == 0
    edited = live_xsl(almasync).replace("@@header@@", "@@loans@@", 1)
    assert len(edited.splitlines()) == len(live_xsl(almasync).splitlines())
    almasync.emu.store.letters[CODE]["xsl"] = edited  # same length, other text
    result = almasync("apply", str(saved), "--auto-approve")
    assert result.exit_code == ExitCode.STALE_PLAN
    assert live_xsl(almasync) == edited


def test_only_changed_parts_are_written(almasync: Almasync, config: Any) -> None:
    root = letter_config(config, live_xsl(almasync))
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert [(r.method, r.path) for r in almasync.writes()] == [
        ("PUT", f"/almaws/v1/conf/code-tables/{CODE}")]


def test_windows_line_endings_plan_nothing(almasync: Almasync, config: Any) -> None:
    crlf = live_xsl(almasync).replace("\n", "\r\n")
    yaml = f"letters:\n  {CODE}:\n    enabled: true\n    xsl_file: {XSL}\n"
    root = config({"letters.yaml": yaml})
    (root / "letters").mkdir()
    (root / XSL).write_bytes(crlf.encode("utf-8"))
    assert almasync.plan_json(root)["changes"] == []
    # ... and a template saved in Alma with CRLF matches a checkout with LF.
    (root / XSL).write_bytes(live_xsl(almasync).encode("utf-8"))
    almasync.emu.store.letters[CODE]["xsl"] = crlf
    assert almasync.plan_json(root)["changes"] == []


def test_enabling_a_letter(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": "letters:\n  GeneralMessageEmailLetter:\n    enabled: true\n"})
    text = almasync("plan", str(root)).stdout
    assert "~ letters GeneralMessageEmailLetter\n    enabled: false -> true" in text
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    assert almasync.emu.store.letters["GeneralMessageEmailLetter"]["enabled"] is True
    assert almasync.plan_json(root)["changes"] == []


def test_config_errors_name_file_and_line(almasync: Almasync, config: Any,
                                          tmp_path: Path) -> None:
    outside = tmp_path / "outside.xsl"
    outside.write_text("<x/>")
    root = config({"sub/letters.yaml": (
        "letters:\n"
        "  A:\n    xsl_file: letters/missing.xsl\n"                      # line 3
        f"  B:\n    xsl_file: {outside}\n"                                # line 5
        "  C:\n    xsl_file: ../../outside.xsl\n"                        # line 7
        "  D:\n    description: Derived\n"                                # line 9
        "  E:\n    xsl: <x/>\n"                                           # line 11
        "  F:\n    enabled: 'yes'\n    channel: EMAIL\n")})               # lines 13, 14
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    name = root / "sub" / "letters.yaml"
    err = result.stderr
    assert f"{name}:3:15: letters.A.xsl_file: 'letters/missing.xsl': no such file" in err
    assert f"{name}:5:15: letters.B.xsl_file: {str(outside)!r} is absolute" in err
    assert f"{name}:7:15: letters.C.xsl_file: '../../outside.xsl' leads outside" in err
    assert f"{name}:9:5: letters.D.description: Alma derives" in err
    assert f"{name}:11:5: letters.E.xsl: keep the template in a file" in err
    assert f"{name}:13:14: letters.F.enabled: Input should be a valid boolean" in err
    assert f"{name}:14:5: letters.F.channel: unknown field 'channel'" in err
    assert "7 problems found" in err
    assert almasync.emu.requests == []


def test_malformed_template_is_reported_inside_the_xsl_file(almasync: Almasync,
                                                            config: Any) -> None:
    root = letter_config(config, '<xsl:stylesheet xmlns:xsl="x">\n  <p>\n</xsl:stylesheet>\n')
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert (f"{root / XSL}:3:3: letters.{CODE}: the XSL template is not well-formed XML: "
            "mismatched tag") in result.stderr


def test_unknown_letter_and_label_stop_the_plan(almasync: Almasync, config: Any) -> None:
    root = config({"l.yaml": ("letters:\n  FulfilmentActivityLetter:\n    enabled: true\n"
                              "  LoanStatusNoticeLetter:\n    labels:\n      dute_date: Due\n")})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    name = root / "l.yaml"
    assert (f"{name}:2:3: letter 'FulfilmentActivityLetter' does not exist in Alma, and "
            "letters cannot be created through the API (did you mean FulfillmentActivityLetter?)"
            ) in result.stderr
    assert (f"{name}:5:5: letter 'LoanStatusNoticeLetter': label 'dute_date' is not in its "
            "labels code table 'LoanStatusNoticeLetter' (did you mean due_date?)"
            ) in result.stderr
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_alma_refusal_fails_the_change_with_its_code(almasync: Almasync, config: Any) -> None:
    almasync.emu.store.code_tables[CODE]["customizable"] = False
    root = letter_config(config, live_xsl(almasync),
                         "  GeneralMessageEmailLetter:\n    enabled: true\n")
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert f"failed   ~ letters {CODE}" in result.stdout
    assert "applied  ~ letters GeneralMessageEmailLetter" in result.stdout
    assert "90123" in result.stdout + result.stderr
    assert f"/conf/code-tables/{CODE}" in result.stdout + result.stderr


def test_prune_never_deletes_letters(almasync: Almasync, config: Any) -> None:
    files = {"l.yaml": "letters:\n  GeneralMessageEmailLetter:\n    enabled: false\n"}
    refused = config({**files, "almasync.yaml": "prune:\n  letters: true\n"})
    result = almasync("validate", str(refused))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "almasync.prune.letters: Alma cannot delete letters" in result.stderr
    (refused / "almasync.yaml").unlink()
    root = config(files)
    assert almasync.plan_json(root)["changes"] == []
    drift = almasync("drift", str(root), "--include-unmanaged")
    assert drift.exit_code == ExitCode.CHANGES
    assert "? letters LoanStatusNoticeLetter" in drift.stdout  # customised, not declared
    assert "? letters FulfillmentActivityLetter" not in drift.stdout  # as Alma ships it
    assert "- letter" not in drift.stdout
    assert "matches Alma" not in drift.stdout
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_drift_reports_a_template_changed_in_alma(almasync: Almasync, config: Any) -> None:
    root = letter_config(config, live_xsl(almasync))
    almasync.emu.store.letters[CODE]["xsl"] = changed_xsl(almasync)
    result = almasync("drift", str(root))
    assert result.exit_code == ExitCode.CHANGES
    assert f"~ letters {CODE}" in result.stdout
    assert "-      <p>@@requests@@" in result.stdout.replace("\\n", "\n")


def test_export_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    """The letter side of export: YAML plus template files, which then plan empty."""
    out = tmp_path / "exported"
    handler = LetterHandler()
    with AlmaClient(almasync.emu.base_url, almasync.key, read_only=True,
                    rate_limit=None) as client:
        live = engine.read_live(client, DesiredState(out, Settings()), everything=True,
                                detail=True, only=[Kind.LETTER])
    resources = {k: Resource(Kind.LETTER, k, f) for k, f in live[Kind.LETTER].items()}
    tree = handler.export(resources)
    assert tree == {"GeneralMessageEmailLetter": {"enabled": False},
                    "LoanStatusNoticeLetter": {"enabled": True,
                                               "xsl_file": xsl_file_name("LoanStatusNoticeLetter")}}
    out.mkdir()
    (out / "letters.yaml").write_text(dump_yaml({"letters": tree}))
    for name, text in handler.export_files(resources).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    assert (out / "letters" / "LoanStatusNoticeLetter.xsl").read_text() == \
        live_xsl(almasync, "LoanStatusNoticeLetter")
    assert almasync("validate", str(out)).exit_code == 0
    assert almasync.plan_json(out)["changes"] == []


def test_letter_xml_carries_the_template_as_text() -> None:
    template = '<xsl:stylesheet a="1 &amp; 2"><p>x < y</p></xsl:stylesheet>'
    body = {"code": "X", "enabled": True, "labels": {"value": "X"}, "retention_period": None,
            "xsl": template, "row": [{"code": "a"}, {"code": "b"}]}
    root = ET.fromstring(letter_xml(body))
    assert root.tag == "letter"
    assert root.findtext("xsl") == template
    assert root.findtext("enabled") == "true"
    assert root.findtext("labels") == "X"
    assert root.findtext("retention_period") == ""
    assert [r.findtext("code") for r in root.iterfind("rows/row")] == ["a", "b"]


def test_schema_and_example(almasync: Almasync, tmp_path: Path) -> None:
    assert almasync("schema", "--out", str(tmp_path)).exit_code == 0
    schema = json.loads((tmp_path / "almasync-resources.schema.json").read_text())
    fields = schema["$defs"]["LetterFields"]["properties"]
    assert sorted(fields) == ["enabled", "labels", "xsl_file"]
    result = almasync("plan", str(EXAMPLES), "--format", "json", "--target", "letter")
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert {c["key"] for c in changes} >= {CODE, "GeneralMessageEmailLetter"}


def test_export_then_drift_including_unmanaged_is_clean(almasync: Almasync,
                                                        tmp_path: Path) -> None:
    """What export leaves out as Alma's defaults (uncustomised letters, the header and
    footer components) drift does not call unmanaged; its text agrees with its exit code."""
    out = tmp_path / "out"
    exported = almasync("export", "--out", str(out))
    assert exported.exit_code == 0, exported.stderr
    assert "3 left out as Alma's defaults" in exported.stderr
    drift = almasync("drift", str(out), "--include-unmanaged")
    assert drift.exit_code == ExitCode.OK, drift.stdout
    assert "No changes. The configuration matches Alma." in drift.stdout
    assert "Unmanaged" not in drift.stdout
    tree = (out / "letters.yaml").read_text()
    assert "labels" not in tree  # export writes labels once: under code_tables
    assert f"{CODE}:" in (out / "code_tables.yaml").read_text()


def test_drift_text_never_says_matches_when_it_exits_2(almasync: Almasync,
                                                       config: Any) -> None:
    root = config({"l.yaml": "letters:\n  GeneralMessageEmailLetter:\n    enabled: false\n"})
    for fmt in ("text", "markdown"):
        drift = almasync("drift", str(root), "--include-unmanaged", "--format", fmt)
        assert drift.exit_code == ExitCode.CHANGES
        assert "matches Alma" not in drift.stdout
        assert "No changes." not in drift.stdout
        assert "No changes to declared resources" in drift.stdout


def test_labels_declared_twice_is_a_validate_error_naming_both(almasync: Almasync,
                                                               config: Any) -> None:
    root = config({
        "letters.yaml": f"letters:\n  {CODE}:\n    labels:\n      header: Activity\n",
        "tables.yaml": (f"code_tables:\n  {CODE}:\n    rows:\n"
                        "      - {code: header, description: Your activity}\n"),
    })
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    letters, tables = root / "letters.yaml", root / "tables.yaml"
    assert f"{letters}:3:5: letters.{CODE}.labels: label header is declared twice" \
        in result.stderr
    assert f"code_tables.{CODE} at {tables}:3:5" in result.stderr
    assert almasync.emu.requests == []  # validate is offline


def test_labels_in_one_place_each_validate(almasync: Almasync, config: Any) -> None:
    """Different rows in the two places, or a translation of the same row, clash with
    nothing: each value still has one place."""
    root = config({
        "letters.yaml": f"letters:\n  {CODE}:\n    labels:\n      header: Activity\n",
        "tables.yaml": (f"code_tables:\n  {CODE}:\n    - rows:\n"
                        "        - {code: loans, description: Loans}\n"
                        "    - lang: fr\n      rows:\n"
                        "        - {code: header, description: Activite}\n"),
    })
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.OK, result.stderr


def test_a_letter_listed_twice_and_string_flags(tmp_path: Path) -> None:
    """Alma's letter list may name a letter twice, and its flags are strings: read once,
    as booleans; export and drift are unchanged by the repetition."""
    seed = builtin_seed("demo")
    seed["letters"]["LoanStatusNoticeLetter"]["listed_twice"] = True
    seed["letters"]["FulfillmentActivityLetter"]["listed_twice"] = True
    with Emulator(seed=seed, rate_limit=None) as emu:
        run = Almasync(emu, CliRunner(), emu.api_key)
        listed = [e["code"] for e in requests.get(
            emu.base_url + "/almaws/v1/conf/letters",
            headers={"Authorization": f"apikey {emu.api_key}"}, timeout=10).json()["letter"]]
        assert listed.count("LoanStatusNoticeLetter") == 2
        out = tmp_path / "out"
        assert run("export", "--out", str(out)).exit_code == 0
        tree = (out / "letters.yaml").read_text()
        assert tree.count("LoanStatusNoticeLetter:") == 1
        assert "enabled: false" in tree  # GeneralMessageEmailLetter: "false" read as false
        drift = run("drift", str(out), "--include-unmanaged")
        assert drift.exit_code == ExitCode.OK, drift.stdout
