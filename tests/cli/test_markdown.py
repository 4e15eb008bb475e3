"""The Markdown plan is a pull-request comment: sentences, destructive changes first, detail
in fenced diff blocks, and never longer than one comment."""

from __future__ import annotations

import re

from almasync.cli.markdown import LIMIT, plan_markdown, sentence
from almasync.model import Kind
from almasync.plan.changes import ABSENT, Action, Change, FieldDiff
from almasync.plan.plan import Plan
from tests.conftest import EXAMPLES, Almasync


def _update(kind: Kind, key: tuple[str, ...], *diffs: FieldDiff) -> Change:
    return Change(Action.UPDATE, kind, key, {}, {}, diffs)


def test_demo_plan_reads_as_sentences_with_destructive_changes_first(
        almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--format", "markdown")
    text = result.stdout
    first_line = text.splitlines()[0]
    assert "5 to create, 17 to update, 1 to delete" in first_line
    destructive = text.index("destructive change")
    assert destructive < text.index("#### Code tables")
    assert "Delete location MAIN/STORAGE ('Basement Storage')" in text
    assert "Rename location MUSIC/SCORES from 'Scores' to 'Scores and Parts'" in text
    assert "Add row PHD to code table UserGroups/lang=fr" in text
    # Every change has its own details block, and the digest closes the comment.
    assert text.count("<details>") == 23
    digest = re.search(r"plan digest <code>(sha256:[0-9a-f]{64})</code>", text)
    assert digest is not None
    saved = almasync.plan_json(EXAMPLES)
    assert len(saved["changes"]) == 23


def test_letter_template_is_shown_as_a_unified_diff(almasync: Almasync) -> None:
    text = almasync("plan", str(EXAMPLES), "--format", "markdown").stdout
    block = text[text.index("FulfillmentActivityLetter"):]
    block = block[:block.index("</details>")]
    assert "```diff" in block
    assert re.search(r"^\+\s+<p>@@requests@@", block, re.MULTILINE)
    assert re.search(r"^@@ -9,2 \+9,4 @@", block, re.MULTILINE)


def test_sentences_for_each_shape_of_change() -> None:
    add = _update(Kind.CODE_TABLE, ("UserGroups",),
                  FieldDiff("rows[PHD]", ABSENT, {"description": "PhD"}))
    assert sentence(add) == "Add row PHD to code table UserGroups"
    remove = _update(Kind.MAPPING_TABLE, ("M",), FieldDiff("rows[A|B]", {"x": 1}, ABSENT))
    assert sentence(remove) == "Remove row A|B from mapping table M"
    rename = _update(Kind.LOCATION, ("MAIN", "STACKS"), FieldDiff("name", "Stacks", "Main"))
    assert sentence(rename) == "Rename location MAIN/STACKS from 'Stacks' to 'Main'"
    mixed = _update(Kind.CODE_TABLE, ("T",), FieldDiff("rows[A]", ABSENT, {}),
                    FieldDiff("rows[B].description", "b", "c"), FieldDiff("description", 1, 2))
    assert sentence(mixed) == "Update code table T: add row A; change row B; change description"
    delete = Change(Action.DELETE, Kind.SET, ("Old",), {"name": "Old"}, None)
    assert sentence(delete) == "Delete set Old ('Old')"


def test_backticks_and_html_in_values_cannot_break_the_comment() -> None:
    change = _update(Kind.LICENSE_TERM, ("<b>",), FieldDiff("description", "a", "```x````"))
    text = plan_markdown(Plan((change,)))
    assert "<summary><code>~</code> Change description of license term &lt;b&gt;" in text
    fence = re.search(r"^(`+)diff$", text, re.MULTILINE)
    assert fence is not None and len(fence.group(1)) == 5


def test_a_five_thousand_change_plan_fits_one_comment_with_every_delete() -> None:
    deletes = [Change(Action.DELETE, Kind.LOCATION, ("MAIN", f"GONE{i}"),
                      {"name": f"Gone {i}", "type": "OPEN"}, None) for i in range(400)]
    updates = [_update(Kind.CODE_TABLE, (f"T{i}",),
                       FieldDiff(f"rows[R{i}].description", "old " * 20, "new " * 20))
               for i in range(4_600)]
    plan = Plan((*deletes, *updates))
    text = plan_markdown(plan)
    assert len(text) <= LIMIT
    assert all(f"MAIN/GONE{i} " in text or f"MAIN/GONE{i}`" in text for i in range(400))
    assert "| code_tables | 0 | 4600 |" in text
    assert "too long for one comment" in text
    assert plan.digest in text


def test_even_thousands_of_deletes_are_named_or_counted_within_the_limit() -> None:
    deletes = [Change(Action.DELETE, Kind.LOCATION, ("MAIN", f"LOCATION_{i:05d}"),
                      {"name": f"Gone {i}"}, None) for i in range(5_000)]
    text = plan_markdown(Plan(tuple(deletes)))
    assert len(text) <= LIMIT
    assert "5000 destructive change(s)" in text
    named = len(re.findall(r"`MAIN/LOCATION_\d{5}`", text))
    assert named > 1_000
    assert f"{5_000 - named} deletes are not named here" in text


def test_digest_depends_on_the_changes_only() -> None:
    one = _update(Kind.SET, ("S",), FieldDiff("description", "a", "b"))
    other = _update(Kind.SET, ("S",), FieldDiff("description", "a", "c"))
    assert Plan((one,)).digest == Plan((one,), target={"label": "x"}).digest
    assert Plan((one,)).digest != Plan((other,)).digest
