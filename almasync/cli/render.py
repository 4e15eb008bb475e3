"""Renderers: a plan or a report -> text, JSON, Markdown or JUnit. Pure functions of their
input; the commands decide where the result goes."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import click

from almasync.cli import markdown, shorten
from almasync.model import format_key
from almasync.plan.changes import ABSENT, Action, Change
from almasync.plan.plan import Plan, alma_only_message

_COLOURS = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red"}


_LIST_HEAD = 5
_TEXT_LINES = 12


def _value(value: Any) -> str:
    """One value on one line; long lists are cut to their first few items."""
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, list) and len(value) > 2 * _LIST_HEAD:
        head = ", ".join(_value(item) for item in value[:_LIST_HEAD])
        return f"[{head}, ... {len(value) - _LIST_HEAD} more]"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _field(path: str, before: Any, after: Any = None, *, update: bool = False) -> list[str]:
    """``path: before -> after`` (or ``path: value``); multi-line text (a letter's XSL, a
    diff of it) is shown as indented lines rather than one escaped string."""
    sides = [("before", before), ("after", after)] if update else [("", before)]
    if not any(isinstance(value, str) and "\n" in value for _, value in sides):
        if update:
            return [f"{path}: {_value(before)} -> {_value(after)}"]
        return [f"{path}: {_value(before)}"]
    lines = [f"{path}:"]
    for label, value in sides:
        if label:
            lines.append(f"  {label}:")
        body = (value if isinstance(value, str) else _value(value)).splitlines()
        lines += [f"    | {line}" for line in body[:_TEXT_LINES]]
        if len(body) > _TEXT_LINES:
            lines.append(f"    | ... {len(body) - _TEXT_LINES} more lines")
    return lines


def summary_line(plan: Plan) -> str:
    s = plan.summary
    return f"Plan: {s['create']} to create, {s['update']} to update, {s['delete']} to delete."


def _detail(change: Change) -> list[str]:
    if change.action is Action.UPDATE:
        return [line for d in change.diffs
                for line in _field(d.path, *shorten.shown(d.path, d.before, d.after),
                                   update=True)]
    fields = change.after if change.action is Action.CREATE else change.before
    return [line for name, value in (fields or {}).items() for line in _field(name, value)]


def plan_text(plan: Plan, *, colour: bool = False, verb: str = "plan") -> str:
    lines: list[str] = []
    if plan.target.get("label"):
        lines += [f"Target: {plan.target['label']}", ""]
    for change in plan.changes:
        head = f"{change.action.symbol} {change.name}"
        lines.append(click.style(head, fg=_COLOURS[change.action]) if colour else head)
        lines.extend(f"    {line}" for line in _detail(change))
    lines.extend(alma_only_lines(plan, colour=colour))
    if plan.changes or plan.alma_only:
        pass
    elif verb == "drift" and plan.unmanaged:
        # The text never says "matches" when drift exits 2 for what it lists below.
        lines.append("No changes to declared resources, but Alma holds "
                     f"{len(plan.unmanaged)} that no file declares (listed below).")
    else:
        lines.append(markdown.no_changes(plan))
    lines += ["", summary_line(plan)]
    if (unread := markdown.not_read_note(plan)) is not None:
        lines.append(unread)
    if plan.alma_only:
        lines.append(f"{len(plan.alma_only)} difference(s) in read-only configuration: only "
                     "Alma's UI can change them, so apply leaves them as they are.")
    if verb == "plan":
        lines.append("Nothing was applied: this was a plan. Run `almasync apply` to make "
                     "these changes." if plan.changes else "Nothing was applied.")
    return "\n".join(lines)


def alma_only_lines(plan: Plan, *, colour: bool = False) -> list[str]:
    """``! kind key: cannot be changed through the API; change it in Alma`` and the
    differing values, for each read-only difference."""
    lines: list[str] = []
    for change in plan.alma_only:
        head = f"! {change.name}: {alma_only_message(change)}"
        lines.append(click.style(head, fg="magenta") if colour else head)
        lines.extend(f"    {line}" for line in _detail(change))
    return lines


def drift_text(plan: Plan, *, colour: bool = False) -> str:
    lines = [plan_text(plan, colour=colour, verb="drift").rstrip()]
    if plan.unmanaged:
        lines += ["", f"Unmanaged: {len(plan.unmanaged)} live resources no file declares:"]
        lines += [f"  ? {kind.config_key} {format_key(key)}" for kind, key in plan.unmanaged]
    return "\n".join(lines)


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def plan_markdown(plan: Plan, title: str = "almasync plan") -> str:
    """The pull-request comment (see :mod:`almasync.cli.markdown`)."""
    return markdown.plan_markdown(plan, title)


def drift_junit(plan: Plan) -> str:
    """Each drifted or unmanaged resource is a failed test case, for CI dashboards."""
    cases = []
    for c in plan.changes:
        text = "\n".join(_detail(c))
        cases.append(f'  <testcase classname={quoteattr(c.kind.config_key)} '
                     f'name={quoteattr(format_key(c.key))}><failure message='
                     f'{quoteattr(c.action.value)}>{escape(text)}</failure></testcase>')
    for c in plan.alma_only:
        text = "\n".join(_detail(c))
        cases.append(f'  <testcase classname={quoteattr(c.kind.config_key)} '
                     f'name={quoteattr(format_key(c.key))}><failure message='
                     f'{quoteattr(alma_only_message(c))}>{escape(text)}</failure></testcase>')
    for kind, key in plan.unmanaged:
        cases.append(f'  <testcase classname={quoteattr(kind.config_key)} '
                     f'name={quoteattr(format_key(key))}><failure message="unmanaged"/>'
                     '</testcase>')
    if not cases:
        cases.append('  <testcase classname="almasync" name="no drift"/>')
    failures = len(plan.changes) + len(plan.alma_only) + len(plan.unmanaged)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuite name="almasync drift" tests="{len(cases)}" failures="{failures}">\n'
            + "\n".join(cases) + "\n</testsuite>\n")
