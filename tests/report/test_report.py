"""``almasync report``: the site from a config tree and from the live emulator, and its
content. tests/report/test_browser.py opens it in a real browser."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from almasync.errors import ExitCode
from tests.conftest import EXAMPLES, Almasync

SECRETS = ("demo-Export-Secret-1", "demo-Import-Secret-2")


def site_pages(path: Path) -> dict[str, str]:
    return {p.relative_to(path).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(path.rglob("*.html"))}


def write_drift(almasync: Almasync, tmp_path: Path) -> Path:
    """A real drift report: the examples with one location renamed, against the demo."""
    tree = tmp_path / "changed"
    shutil.copytree(EXAMPLES, tree)
    locations = tree / "locations.yaml"
    locations.write_text(locations.read_text().replace("name: Main Stacks",
                                                       "name: Main Stacks & Annex"))
    result = almasync("drift", str(tree), "--format", "json", "--include-unmanaged")
    assert result.exit_code == ExitCode.CHANGES, result.stderr
    out = tmp_path / "drift.json"
    out.write_text(result.stdout)
    return out


def test_report_of_a_config_tree_calls_no_alma(almasync: Almasync, tmp_path: Path) -> None:
    drift = write_drift(almasync, tmp_path)
    calls = len(almasync.emu.requests)
    out = tmp_path / "site"
    result = almasync("report", str(EXAMPLES), "--out", str(out), "--drift", str(drift))
    assert result.exit_code == 0, result.stderr
    assert len(almasync.emu.requests) == calls
    site = site_pages(out)
    assert {"index.html", "libraries.html", "code-tables.html", "mapping-tables.html",
            "letters.html", "hours.html", "profiles.html", "drift.html"} <= set(site)
    assert any(p.startswith("letters/") for p in site)
    assert any(p.startswith("hours/") for p in site)
    assert "Main Stacks \u2192 Main Stacks &amp; Annex" in site["drift.html"]
    assert "rows[STAFF].description" in site["drift.html"]
    assert '<table class="sortable">' in site["code-tables.html"]
    assert "from the entries below" in site["hours.html"] + "".join(
        v for k, v in site.items() if k.startswith("hours/"))
    profiles = site["profiles.html"]
    assert "BURSAR_FINES" in profiles and "(not shown)" in profiles and "${" not in profiles
    everything = "".join(site.values())
    # Nothing is fetched: no external script, style sheet, image or link.
    assert "src=" not in everything and "<link" not in everything
    assert 'href="http' not in everything and "@import" not in everything


def test_report_of_the_live_institution_only_reads(almasync: Almasync,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = almasync("report", "--live", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert almasync.writes() == []
    site = site_pages(out)
    libraries = site["libraries.html"]
    assert "LAW - Law Library" in libraries and "LAW_DESK" in libraries
    assert "Fulfillment unit RESERVES_FU" in libraries
    assert "as Alma computes them" in site["hours/MAIN.html"]
    everything = "".join(site.values())
    for secret in SECRETS:
        assert secret not in everything
    assert almasync.key not in everything
    assert "(not shown)" in site["profiles.html"]


def test_a_bad_drift_file_is_a_usage_error(almasync: Almasync, tmp_path: Path) -> None:
    bad = tmp_path / "drift.json"
    bad.write_text('{"plan": 1}')
    result = almasync("report", str(EXAMPLES), "--out", str(tmp_path / "site"),
                      "--drift", str(bad))
    assert result.exit_code == ExitCode.USAGE
    assert "not a drift report" in result.stderr
    assert not (tmp_path / "site").exists()


def test_a_refused_calendar_falls_back_to_the_entries(almasync: Almasync,
                                                      tmp_path: Path) -> None:
    # An Alma whose clock is five years ahead refuses today's dates (more than a year back).
    almasync.emu.clock = lambda: time.time() + 5 * 366 * 86400
    out = tmp_path / "site"
    result = almasync("report", "--live", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "open days of MAIN not shown as Alma computes them" in result.stderr
    assert "from the entries below" in site_pages(out)["hours/MAIN.html"]


def test_an_invalid_tree_writes_no_site(almasync: Almasync, config: Any,
                                        tmp_path: Path) -> None:
    root = config({"l.yaml": "locations: 5\n"})
    result = almasync("report", str(root), "--out", str(tmp_path / "site"))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "l.yaml:1:" in result.stderr
    assert not (tmp_path / "site").exists()
    assert almasync.emu.requests == []


def test_report_help_has_an_example(almasync: Almasync) -> None:
    result = almasync("report", "--help")
    assert result.exit_code == 0
    assert "almasync report config/ --out site/ --drift drift.json" in result.stdout
