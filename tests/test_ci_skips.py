"""`.ci/check_skips.py`: a skip passes CI only when it names a missing optional tool."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "check_skips.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_skips", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_only_skips_naming_a_missing_tool_pass(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.a" name="test_ok"/>'
        '<testcase classname="tests.a" name="test_tool"><skipped type="pytest.skip" '
        "message=\"could not import 'almapy': No module named 'almapy'\"/></testcase>"
        '<testcase classname="tests.a" name="test_spec"><skipped type="pytest.skip" '
        'message="conf.json not found"/></testcase>'
        "</testsuite></testsuites>")
    check = _load()
    assert check.bad_skips(str(report)) == ["tests.a::test_spec: skipped (conf.json not found)"]
    assert check.main(["check_skips.py", str(report)]) == 1
    report.write_text(report.read_text().replace('message="conf.json not found"',
                                                 'message="gpg is not installed"'))
    assert check.main(["check_skips.py", str(report)]) == 0
