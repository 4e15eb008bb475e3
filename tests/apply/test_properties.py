"""Property: for random desired and live states, apply against the emulator leaves a plan
that is empty, and changes nothing undeclared outside the prune scope.

hypothesis draws the live state (written into a fresh demo institution over HTTP), the
declared state and the prune scope; the CLI then plans, applies and plans again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almasync.cli import cli
from almasync.emulator import Emulator

BUDGET = settings(max_examples=12, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow,
                                         HealthCheck.function_scoped_fixture])

CODES = st.sampled_from(["ARCHIVE", "ILLELEC", "WALKIN", "TDM", "COURSE", "ALUMNI"])
TEXT = st.text(st.characters(codec="utf-8", categories=("L", "N", "Zs", "P")),
               min_size=1, max_size=20).map(str.strip).filter(bool)
TERM = st.fixed_dictionaries({"name": TEXT}, optional={
    "description": TEXT, "type": st.sampled_from(["USAGE", "ILL", "PERPETUAL"]),
    "value_type": st.sampled_from(["YES_NO", "PERMITTED_PROHIBITED"])})
TERMS = st.dictionaries(CODES, TERM, max_size=5)


class Run:
    """The CLI against one emulator, and a plain HTTP view of what Alma holds."""

    def __init__(self, emu: Emulator, root: Path) -> None:
        self.emu = emu
        self.root = root
        self.headers = {"Authorization": f"apikey {emu.api_key}", "Accept": "application/json"}

    def cli(self, *args: str) -> Any:
        env = {"ALMA_API_URL": self.emu.base_url, "ALMA_API_KEY": self.emu.api_key,
               "ALMASYNC_RATE_LIMIT": "0"}
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    def get(self, path: str) -> Any:
        response = requests.get(f"{self.emu.base_url}/almaws/v1{path}", headers=self.headers,
                                timeout=10)
        response.raise_for_status()
        return response.json()

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            (self.root / name).write_text(text, encoding="utf-8")

    def apply_then_plan(self) -> dict[str, Any]:
        applied = self.cli("apply", str(self.root), "--auto-approve", "--force")
        assert applied.exit_code == 0, applied.output
        again = self.cli("plan", str(self.root), "--format", "json")
        assert again.exit_code == 0, again.output
        data: dict[str, Any] = json.loads(again.stdout)
        return data


def _terms(run: Run) -> dict[str, dict[str, Any]]:
    listed = run.get("/conf/license-terms").get("license_term") or []
    return {t["code"]: run.get(f"/conf/license-terms/{t['code']}") for t in listed}


def _plain(term: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.get("value") if isinstance(v, dict) else v) for k, v in term.items()
            if k not in ("link",)}


@BUDGET
@given(live=TERMS, desired=TERMS, prune=st.one_of(st.booleans(), st.sets(CODES, max_size=3)))
def test_license_terms(tmp_path_factory: Any, live: dict[str, Any], desired: dict[str, Any],
                       prune: bool | set[str]) -> None:
    root = tmp_path_factory.mktemp("terms")
    with Emulator(seed="demo", rate_limit=None) as emu:
        run = Run(emu, root)
        for code, fields in live.items():
            body = {"code": code, **{k: ({"value": v} if k in ("type", "value_type") else v)
                                     for k, v in fields.items()}}
            if code in _terms(run):
                continue
            requests.post(f"{emu.base_url}/almaws/v1/conf/license-terms", json=body,
                          headers=run.headers, timeout=10).raise_for_status()
        before = _terms(run)
        scope = "true" if prune is True else json.dumps(sorted(prune)) if prune else "false"
        run.write({"almasync.yaml": f"prune:\n  license_terms: {scope}\n",
                   "terms.yaml": "license_terms: " + json.dumps(desired) + "\n"})
        again = run.apply_then_plan()
        assert again["changes"] == [], again["changes"]
        after = _terms(run)
    for code, term in before.items():
        in_scope = prune is True or (isinstance(prune, set) and code in prune)
        if code not in desired and not in_scope:
            assert _plain(after[code]) == _plain(term), code  # undeclared: untouched
        if code in desired:
            for name, value in _plain(term).items():
                if name not in desired[code]:
                    assert _plain(after[code]).get(name) == value, (code, name)
    assert set(after) == {c for c in before if c in desired or not (
        prune is True or (isinstance(prune, set) and c in prune))} | set(desired)


ROW = st.fixed_dictionaries({"description": TEXT},
                            optional={"enabled": st.booleans()})
ROW_CODES = st.sampled_from(["STAFF", "GRAD", "UNDERGRAD", "FACULTY", "ALUMNI", "VISITOR"])


@BUDGET
@given(rows=st.dictionaries(ROW_CODES, ROW, min_size=1, max_size=4))
def test_code_table_rows(tmp_path_factory: Any, rows: dict[str, dict[str, Any]]) -> None:
    root = tmp_path_factory.mktemp("table")
    with Emulator(seed="demo", rate_limit=None) as emu:
        run = Run(emu, root)
        before = {r["code"]: r for r in run.get("/conf/code-tables/UserGroups")["row"]}
        declared = [{"code": code, **fields} for code, fields in rows.items()]
        run.write({"tables.yaml": "code_tables:\n  UserGroups:\n    rows: "
                   + json.dumps(declared) + "\n"})
        again = run.apply_then_plan()
        assert again["changes"] == [], again["changes"]
        after = {r["code"]: r for r in run.get("/conf/code-tables/UserGroups")["row"]}
    assert set(after) == set(before) | set(rows)
    for code, row in before.items():
        if code not in rows:
            assert after[code] == row, code  # a row the file does not declare is kept as is
        else:
            for name, value in row.items():
                if name not in rows[code] and name != "description":
                    assert after[code].get(name) == value, (code, name)
