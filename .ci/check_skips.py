"""Fail when a test was skipped for any reason but a missing optional tool.

    python .ci/check_skips.py REPORT.xml

REPORT.xml is pytest's JUnit report. A skip is allowed only when its reason names a module
that could not be imported (``pytest.importorskip``) or a tool that is not installed.
"""

from __future__ import annotations

import re
import sys
from xml.etree import ElementTree

ALLOWED = re.compile(r"could not import '[\w.]+'|\b[\w.-]+ is not installed\b")


def bad_skips(report: str) -> list[str]:
    bad = []
    for case in ElementTree.parse(report).iter("testcase"):
        for skipped in case.iter("skipped"):
            reason = skipped.get("message") or skipped.text or ""
            if not ALLOWED.search(reason):
                name = f"{case.get('classname')}::{case.get('name')}"
                bad.append(f"{name}: skipped ({reason.strip() or 'no reason'})")
    return bad


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    bad = bad_skips(argv[1])
    for line in bad:
        print(line, file=sys.stderr)
    if bad:
        print(f"{len(bad)} test(s) skipped without a missing optional tool as the reason",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
