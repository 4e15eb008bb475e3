"""One place for each label: checks across letters and code tables, made by ``validate``.

A letter's labels are rows of the code table named after the letter, so a label text can be
written in two places: under ``letters.CODE.labels`` and as a row of ``code_tables.CODE``
(which is where ``export`` writes it). Declared in both, every apply would write one text and
the next would put the other back. A label declared in both places is therefore a config
problem that names both places. Declarations of the table with ``lang:`` (translations) or
``scope:`` (a library's customisation) set other values and do not clash.
"""

from __future__ import annotations

from collections.abc import Mapping

from almasync.errors import Problem
from almasync.kinds.table_rows import ROWS, TableId
from almasync.model import Key, Kind, Resource


def double_labels(resources: Mapping[Kind, Mapping[Key, Resource]]) -> list[Problem]:
    """A problem for each letter whose labels are also rows of a declared code table."""
    tables = {TableId.of(key): resource
              for key, resource in resources.get(Kind.CODE_TABLE, {}).items()}
    problems: list[Problem] = []
    for key, letter in sorted(resources.get(Kind.LETTER, {}).items()):
        labels = letter.fields.get("labels") or {}
        table = tables.get(TableId(key[0]))
        if not labels or table is None:
            continue
        rows = {str(row.get("code")) for row in table.fields.get(ROWS, [])}
        both = sorted(code for code in labels if code in rows)
        if not both:
            continue
        here = letter.marks.get("labels", letter.mark)
        there = table.marks.get(ROWS, table.mark)
        problems.append(Problem(here, (
            f"letters.{key[0]}.labels: {_labels(both)} declared twice, here "
            f"and as rows of code_tables.{key[0]} at {there}; each label text needs exactly "
            "one place (export writes labels under code_tables), so remove one of them")))
    return problems


def _labels(codes: list[str]) -> str:
    return f"label {codes[0]} is" if len(codes) == 1 else f"labels {', '.join(codes)} are"
