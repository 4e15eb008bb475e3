"""The report in a real headless browser: Debian's Chromium, driven by Selenium through
Debian's chromedriver. Every page is reached from index.html by following links, every page
renders its heading without a console error, every link (and its #anchor) resolves, and a
sortable table sorts."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import EXAMPLES, Almasync
from tests.report.test_report import site_pages, write_drift

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is absent (install Debian's chromium and chromium-driver "
           "packages, as .ci/run does)")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with tempfile.TemporaryDirectory(prefix="almasync-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        try:
            yield driver
        finally:
            driver.quit()


def _crawl(driver: object, site: Path) -> dict[str, list[str]]:
    """Follow every link from index.html; the links found on each page reached, and check
    each page as it is loaded."""
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(driver, WebDriver)
    root = site.resolve()
    seen: dict[str, list[str]] = {}
    queue = [root / "index.html"]
    while queue:
        page = queue.pop()
        rel = page.relative_to(root).as_posix()
        if rel in seen:
            continue
        driver.get(page.as_uri())
        heading = driver.execute_script(
            "var h = document.querySelector('main h1'); return h ? h.textContent : '';")
        assert heading.strip(), f"{rel}: no heading rendered"
        assert driver.title.endswith("almasync report"), rel
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], f"{rel}: {errors}"
        hrefs: list[str] = driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);")
        seen[rel] = hrefs
        for href in hrefs:
            parts = urlsplit(href)
            assert parts.scheme == "file", f"{rel}: link leaves the site: {href}"
            target = Path(unquote(parts.path))
            assert target.is_file(), f"{rel}: broken link {href}"
            assert target.resolve().is_relative_to(root), f"{rel}: outside the site: {href}"
            if parts.fragment:
                driver.get(href)
                found = driver.execute_script(
                    "return document.getElementById(arguments[0]) !== null;",
                    unquote(parts.fragment))
                assert found, f"{rel}: no anchor #{parts.fragment} in {target.name}"
            queue.append(target.resolve())
    return seen


def _sorts(driver: object, page: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(driver, WebDriver)
    driver.get(page.as_uri())
    table = driver.find_element(By.CSS_SELECTOR, "table.sortable")

    def first_column() -> list[str]:
        return [cell.text for cell in table.find_elements(By.CSS_SELECTOR,
                                                          "tbody tr td:first-child")]
    headers = table.find_elements(By.TAG_NAME, "th")
    headers[0].click()
    ascending = first_column()
    assert ascending == sorted(ascending)
    headers[0].click()
    assert first_column() == list(reversed(ascending))


def test_every_page_of_a_config_tree_report_renders_and_links_up(
        almasync: Almasync, tmp_path: Path, browser: object) -> None:
    drift = write_drift(almasync, tmp_path)
    out = tmp_path / "site"
    result = almasync("report", str(EXAMPLES), "--out", str(out), "--drift", str(drift))
    assert result.exit_code == 0, result.stderr
    reached = _crawl(browser, out)
    assert set(reached) == set(site_pages(out)), "a page is not reachable by links"
    _sorts(browser, out / "libraries.html")


def test_every_page_of_a_live_report_renders_and_links_up(
        almasync: Almasync, tmp_path: Path, browser: object) -> None:
    out = tmp_path / "live site"
    result = almasync("report", "--live", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    reached = _crawl(browser, out)
    assert set(reached) == set(site_pages(out))
    assert any(p.startswith("hours/") for p in reached)
