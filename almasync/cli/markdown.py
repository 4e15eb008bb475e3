"""The Markdown plan: a pull-request comment a reviewer can read.

Layout, top to bottom: one summary line naming where the plan was read; destructive changes
in their own block, with what each delete removes; one section per kind, each change one
plain sentence with its field-level detail in a fenced ``diff`` block inside ``<details>``;
the post-apply jobs; the call estimate and the plan's digest. The whole comment always fits
one pull-request comment (:data:`LIMIT` characters): when the full text would not, every
destructive change is kept and the rest is summarised with counts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from almasync import budget
from almasync.cli import shorten
from almasync.model import Kind, format_key
from almasync.plan.changes import ABSENT, Action, Change, FieldDiff
from almasync.plan.plan import Plan, alma_only_message

#: GitHub refuses comments over 65,536 characters; stay clearly below.
LIMIT = 65_000
#: Lines of one value shown in a detail block before it is cut (with a note saying so).
_VALUE_LINES = 400

_VERBS = {Action.CREATE: "Create", Action.UPDATE: "Update", Action.DELETE: "Delete"}


def noun(kind: Kind) -> str:
    """``code_table`` -> ``code table``: how a sentence names one resource of a kind
    ("Add row PHD to code table UserGroups")."""
    return kind.value.replace("_", " ")


def plural(kind: Kind) -> str:
    """``code_tables`` -> ``code tables``: a kind as headings and counts name it, spelled
    as in the files."""
    return kind.config_key.replace("_", " ")


def no_changes(plan: Plan) -> str:
    """The line of a plan without changes: a plan of what changed since a ref says only
    that, since it did not read the rest."""
    if plan.changed_since is not None:
        return f"No changes in what the files changed since {plan.changed_since}."
    return "No changes. The configuration matches Alma."


def not_read_note(plan: Plan) -> str | None:
    """``plan --changed-since``: which declared resources were not read, per kind."""
    if plan.changed_since is None:
        return None
    counts = ", ".join(f"{kind.config_key}: {len(keys)}" for kind, keys in sorted(
        plan.not_read.items(), key=lambda item: item[0].value) if keys)
    return (f"Not read: the declarations unchanged since {plan.changed_since}"
            + (f" ({counts})" if counts else " (none)")
            + "; this plan covers only what the files changed since then. A full "
            "`almasync plan` or `almasync drift` reads everything.")


def _quote(value: Any) -> str:
    if value is ABSENT or value is None:
        return "(none)"
    if isinstance(value, str):
        if "\n" in value:
            return "(text)"
        return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _entry(path: str) -> tuple[str, str, str] | None:
    """``rows[PHD]`` -> (``rows``, ``PHD``, ``""``); ``rows[STAFF].description`` ->
    (``rows``, ``STAFF``, ``description``); None for a plain field."""
    if "[" not in path or "]" not in path:
        return None
    head, _, rest = path.partition("[")
    name, _, tail = rest.partition("]")
    return head, name, tail.lstrip(".")


_ENTRY_NOUN = {"rows": "row", "open_hour": "entry", "members": "member"}


def _clauses(diffs: Iterable[FieldDiff]) -> list[str]:
    """What an update does, as short clauses: ``add row PHD``, ``rename from 'a' to 'b'``,
    ``change external_name``."""
    added: list[str] = []
    removed: list[str] = []
    changed: list[str] = []
    fields: list[str] = []
    rename = ""
    for diff in diffs:
        entry = _entry(diff.path)
        if entry is not None:
            head, name, _ = entry
            what = f"{_ENTRY_NOUN.get(head, head)} {name}"
            if diff.before is ABSENT:
                added.append(what)
            elif diff.after is ABSENT:
                removed.append(what)
            elif what not in changed:
                changed.append(what)
        elif diff.path == "name":
            rename = f"rename from {_quote(diff.before)} to {_quote(diff.after)}"
        elif diff.path not in fields:
            fields.append(diff.path)
    clauses = [rename] if rename else []
    clauses += [f"add {', '.join(added)}"] if added else []
    clauses += [f"change {', '.join(changed)}"] if changed else []
    clauses += [f"remove {', '.join(removed)}"] if removed else []
    clauses += [f"change {', '.join(fields)}"] if fields else []
    return clauses


def sentence(change: Change) -> str:
    """One plain sentence for one change, e.g. ``Add row PHD to code table UserGroups``."""
    what = f"{noun(change.kind)} {format_key(change.key)}"
    if change.action is Action.CREATE:
        name = (change.after or {}).get("name")
        return f"Create {what}" + (f" ({_quote(name)})" if isinstance(name, str) else "")
    if change.action is Action.DELETE:
        name = (change.before or {}).get("name")
        return f"Delete {what}" + (f" ({_quote(name)})" if isinstance(name, str) else "")
    clauses = _clauses(change.diffs)
    if len(clauses) == 1:
        clause = clauses[0]
        if clause.startswith("change ") and len(change.diffs) == 1 \
                and _entry(change.diffs[0].path) is None:
            d = _shown(change.diffs[0])
            if not any(isinstance(v, str) and "\n" in v for v in (d.before, d.after)):
                return (f"Change {d.path} of {what} from {_quote(d.before)} to "
                        f"{_quote(d.after)}")
        if clause.startswith("rename "):
            return f"Rename {what} {clause[len('rename '):]}"
        if clause.startswith("add ") and len(change.diffs) == 1:
            return f"Add {clause[4:]} to {what}"
        if clause.startswith("remove ") and len(change.diffs) == 1:
            return f"Remove {clause[7:]} from {what}"
    return f"Update {what}: " + "; ".join(clauses) if clauses else f"Update {what}"


def _lines(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.splitlines() or ['""']
    return [json.dumps(value, ensure_ascii=False, sort_keys=True)]


def _side(sign: str, path: str, value: Any) -> list[str]:
    """``- path: value`` (or a block of lines for multi-line text)."""
    lines = _lines(value)
    if len(lines) == 1:
        return [f"{sign} {path}: {lines[0]}"]
    out = [f"{sign} {path}:"]
    out += [f"{sign}     {line}" for line in lines[:_VALUE_LINES]]
    if len(lines) > _VALUE_LINES:
        out.append(f"{sign}     ... {len(lines) - _VALUE_LINES} more lines")
    return out


def _shown(diff: FieldDiff) -> FieldDiff:
    """A difference as a reviewer reads it: a template as its summary and a unified diff,
    a list of ids as counts (see :mod:`almasync.cli.shorten`)."""
    return FieldDiff(diff.path, *shorten.shown(diff.path, diff.before, diff.after))


def _is_hunk(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("@@")


def diff_lines(change: Change) -> list[str]:
    """The field-level detail of a change as the lines of a ``diff`` block."""
    if change.action is Action.CREATE:
        return [line for name, value in (change.after or {}).items()
                for line in _side("+", name, value)]
    if change.action is Action.DELETE:
        return [line for name, value in (change.before or {}).items()
                for line in _side("-", name, value)]
    out: list[str] = []
    for diff in map(_shown, change.diffs):
        if _is_hunk(diff.after):
            # A letter template: the unified diff of the two texts, as it is.
            out.append(f"  {diff.path}:")
            out += [line if line[:1] in "+-@" else f" {line}"
                    for line in str(diff.after).splitlines()]
            continue
        if diff.before is not ABSENT:
            out += _side("-", diff.path, diff.before)
        if diff.after is not ABSENT:
            out += _side("+", diff.path, diff.after)
    return out


def _fence(lines: list[str]) -> list[str]:
    """A fenced block whose fence is longer than any run of backticks inside it."""
    ticks = "`" * max(3, _longest_backticks(lines) + 1)
    return [f"{ticks}diff", *lines, ticks]


def _longest_backticks(lines: list[str]) -> int:
    best = 0
    for line in lines:
        run = 0
        for char in line:
            run = run + 1 if char == "`" else 0
            best = max(best, run)
    return best


def _escape(text: str) -> str:
    """Text safe in Markdown prose: no HTML (a key may hold ``<``), no emphasis runs."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("*", "\\*").replace("_", "\\_").replace("|", "\\|"))


def _change_block(change: Change) -> list[str]:
    detail = diff_lines(change)
    head = f"{change.action.symbol} {_escape(sentence(change))}"
    if not detail:
        return [f"- {head}"]
    return [f"<details><summary><code>{change.action.symbol}</code> "
            f"{_html(sentence(change))}</summary>", "", *_fence(detail), "", "</details>",
            ""]


def _html(text: str) -> str:
    """Text safe inside an HTML element (``<summary>``), where Markdown escapes show."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _where(plan: Plan) -> str:
    target = plan.target
    parts = []
    if target.get("env"):
        parts.append(f"environment **{_escape(target['env'])}**")
    if target.get("institution"):
        parts.append(f"institution **{_escape(target['institution'])}**")
    if not parts and target.get("label"):
        parts.append(_escape(target["label"]))
    return " on " + ", ".join(parts) if parts else ""


def _summary(plan: Plan, title: str) -> str:
    s = plan.summary
    if plan.empty:
        counts = "no changes"
    else:
        counts = f"{s['create']} to create, {s['update']} to update, {s['delete']} to delete"
    return f"### {title}{_where(plan)}: {counts}"


def _footer(plan: Plan) -> list[str]:
    lines = []
    if plan.post_apply:
        lines += ["After a successful apply, these jobs run:", ""]
        lines += [f"- {_escape(line)}" for line in plan.post_apply]
        lines.append("")
    if plan.unmanaged:
        lines += [f"{len(plan.unmanaged)} live resource(s) are not declared in any file.", ""]
    lines.append(f"<sub>apply makes about {budget.write_calls(plan)} calls besides reading "
                 f"what this plan read · plan digest "
                 f"<code>{plan.digest}</code></sub>")
    return lines


def _destructive(deletes: list[Change], *, detail: bool) -> list[str]:
    if not deletes:
        return []
    lines = [f"#### :warning: {len(deletes)} destructive change(s)", ""]
    for change in deletes:
        lines += _change_block(change) if detail else [f"- {_escape(sentence(change))}"]
    return lines if detail else [*lines, ""]


def _sections(changes: list[Change]) -> list[str]:
    lines: list[str] = []
    by_kind: dict[Kind, list[Change]] = {}
    for change in changes:
        by_kind.setdefault(change.kind, []).append(change)
    for kind, group in by_kind.items():
        lines += [f"#### {plural(kind).capitalize()} ({len(group)})", ""]
        for change in group:
            lines += _change_block(change)
    return lines


def _counts(changes: list[Change]) -> list[str]:
    tally = Counter((change.kind, change.action) for change in changes)
    lines = ["| kind | create | update |", "|---|---|---|"]
    for kind in dict.fromkeys(change.kind for change in changes):
        lines.append(f"| {kind.config_key} | {tally[(kind, Action.CREATE)]} | "
                     f"{tally[(kind, Action.UPDATE)]} |")
    return [*lines, ""]


def _alma_only(plan: Plan) -> list[str]:
    """Read-only differences: named with their values, never counted as writes."""
    lines = [f"#### {len(plan.alma_only)} difference(s) to make in Alma's UI", "",
             "Read-only configuration: apply never writes it.", ""]
    for change in plan.alma_only:
        lines.append(f"- `{_escape(change.name)}`: {alma_only_message(change)}")
        lines += [f"  - `{_escape(d.path)}`: {_escape(_short(d.before))} -> "
                  f"{_escape(_short(d.after))}" for d in change.diffs]
    return [*lines, ""]


def _short(value: object) -> str:
    text = "(absent)" if value is ABSENT else json.dumps(value, ensure_ascii=False,
                                                          sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def plan_markdown(plan: Plan, title: str = "almasync plan", *,
                  limit: int = LIMIT) -> str:
    """The pull-request comment for ``plan``; never longer than ``limit`` characters."""
    deletes = plan.of(Action.DELETE)
    others = [c for c in plan.changes if c.action is not Action.DELETE]
    head = [_summary(plan, title), ""]
    if plan.alma_only:
        head += _alma_only(plan)
    elif plan.empty and plan.unmanaged:
        head += ["No changes to declared resources.", ""]
    elif plan.empty:
        head += [no_changes(plan), ""]
    if (unread := not_read_note(plan)) is not None:
        head += [_escape(unread), ""]
    full = "\n".join([*head, *_destructive(deletes, detail=True), *_sections(others),
                      *_footer(plan)]) + "\n"
    if len(full) <= limit:
        return full
    note = ["The full plan is too long for one comment: every destructive change is listed "
            "below, the rest is counted. Read the whole plan in the saved plan file "
            "(`almasync plan --out PLAN.json`) or with `almasync plan --format text`.", ""]
    for detail in (True, False):
        text = "\n".join([*head, *note, *_destructive(deletes, detail=detail),
                          *(_counts(others) if others else []), *_footer(plan)]) + "\n"
        if len(text) <= limit:
            return text
    # Even one line per delete does not fit: list the keys per kind, as many as fit.
    return _keys_only(plan, head, note, deletes, others, limit)


def _keys_only(plan: Plan, head: list[str], note: list[str], deletes: list[Change],
               others: list[Change], limit: int) -> str:
    tail = [*(_counts(others) if others else []), *_footer(plan)]
    budget = limit - len("\n".join([*head, *note, *tail])) - 400
    lines = [f"#### :warning: {len(deletes)} destructive change(s)", ""]
    by_kind: dict[Kind, list[str]] = {}
    for change in deletes:
        by_kind.setdefault(change.kind, []).append(format_key(change.key))
    shown = 0
    for kind, keys in by_kind.items():
        line = f"- {kind.config_key}, {len(keys)} to delete: "
        room = budget - sum(len(x) + 1 for x in lines) - len(line)
        names: list[str] = []
        for key in keys:
            piece = f"`{key}`"
            if len(piece) + 2 > room:
                break
            names.append(piece)
            room -= len(piece) + 2
        shown += len(names)
        rest = len(keys) - len(names)
        lines.append(line + ", ".join(names) + (f" and {rest} more" if rest else ""))
    if shown < len(deletes):
        lines += ["", f"**{len(deletes) - shown} deletes are not named here; read the saved "
                      "plan before approving.**"]
    return "\n".join([*head, *note, *lines, "", *tail]) + "\n"
