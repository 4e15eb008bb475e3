"""``plan`` and ``drift`` over several environments (``--env a,b`` or ``--all-envs``): each
institution read concurrently, one combined report with a section per environment, and the
worst exit code of them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import click

from almasync import consortium, jobs
from almasync.cli import render
from almasync.cli.connect import connect
from almasync.cli.files import write_atomic
from almasync.cli.terminal import note, use_colour
from almasync.config.loader import load_config
from almasync.errors import EnvironmentMismatch, ExitCode, UsageError
from almasync.identity import Identity, check_environment_type
from almasync.plan import recorded, safety
from almasync.plan.plan import Plan

PlanMaker = Callable[..., Plan]


def _one(directory: Path, env: str, make_plan: PlanMaker, *, drift: bool,
         everything: bool, targets: tuple[str, ...]) -> tuple[Plan, int]:
    """Plan one environment; its plan and its own exit code (2 with changes)."""
    desired = load_config(directory, env)
    with connect(desired.settings, env, None, read_only=True) as conn:
        result = make_plan(conn, desired, everything=everything, targets=targets,
                           info={"config": str(directory), "env": env}, progress_shown=False)
    if drift:
        if not everything:
            result = dataclasses.replace(result, unmanaged=())
        return result, ExitCode.CHANGES if result.differs or result.unmanaged else ExitCode.OK
    post_apply = jobs.describe_post_apply(desired.settings.post_apply)
    result = dataclasses.replace(result, post_apply=tuple(post_apply),
                                 settings=recorded.record(desired.settings, env))
    try:
        check_environment_type(Identity(result.target.get("institution", ""),
                                        result.target.get("environment_type"), ""),
                               conn.environment_type,
                               consequence="this plan was read from the wrong institution")
    except EnvironmentMismatch as exc:
        note(f"{env}: {exc}")
        return result, ExitCode.BLOCKED
    verdict = safety.judge(result, desired.settings.safety.for_environment(env))
    if verdict.blocking(False):
        return result, ExitCode.BLOCKED
    return result, ExitCode.CHANGES if result.differs else ExitCode.OK


def run(directory: Path, envs: list[str], make_plan: PlanMaker, *, fmt: str,
        drift: bool = False, everything: bool = False, targets: tuple[str, ...] = (),
        out: Path | None = None, detailed_exitcode: bool = True,
        junit_out: Path | None = None) -> int:
    """Plan (or check drift of) every environment in ``envs``; print one report."""
    if out is not None and "{env}" not in str(out):
        raise UsageError("with several environments, --out needs {env} in its name, e.g. "
                         "--out plan-{env}.json (one plan file per environment)")
    note(f"Reading {len(envs)} environments concurrently: {', '.join(envs)}")
    ctx = click.get_current_context()

    def each(env: str) -> tuple[Plan, int]:
        # The command's context on this thread too: --timeout and -q hold there as well.
        with ctx.scope(cleanup=False):
            return _one(directory, env, make_plan, drift=drift, everything=everything,
                        targets=targets)

    outcomes = consortium.run_each(envs, each)
    click.echo(_render(outcomes, fmt, drift), nl=fmt not in ("json", "junit"),
               color=use_colour())
    for outcome in outcomes:
        if outcome.value is not None and out is not None:
            path = Path(str(out).replace("{env}", outcome.env))
            write_atomic(path, render.plan_json(outcome.value))
            note(f"Plan of {outcome.env} saved to {path}.")
    if junit_out is not None:
        write_atomic(junit_out, _junit(outcomes))
    code = consortium.worst([o.code for o in outcomes])
    if not drift and not detailed_exitcode and code == ExitCode.CHANGES:
        return ExitCode.OK
    return code


def _render(outcomes: list[consortium.Outcome[Plan]], fmt: str, drift: bool) -> str:
    verb = "drift" if drift else "plan"
    if fmt == "json":
        return json.dumps({"environments": {
            o.env: ({"exit_code": o.code, "plan": o.value.to_dict()} if o.value is not None
                    else {"exit_code": o.code, "error": o.error})
            for o in outcomes}}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "junit":
        return _junit(outcomes)
    sections: list[str] = []
    for o in outcomes:
        if fmt == "markdown":
            body = (render.plan_markdown(o.value, f"almasync {verb}") if o.value is not None
                    else f"### almasync {verb} on environment **{o.env}**: failed (exit "
                         f"{o.code})\n\n```text\n{o.error}\n```\n")
            sections.append(body)
            continue
        head = f"== environment {o.env} =="
        if o.value is None:
            sections.append(f"{head}\nFailed (exit {o.code}): {o.error}")
        elif drift:
            sections.append(f"{head}\n{render.drift_text(o.value, colour=use_colour())}")
        else:
            sections.append(f"{head}\n{render.plan_text(o.value, colour=use_colour())}")
    summary = "; ".join(_summary(o, drift) for o in outcomes)
    if fmt == "markdown":
        return "\n---\n\n".join(sections) + f"\n**{len(outcomes)} environments:** {summary}\n"
    return "\n\n".join(sections) + f"\n\n{len(outcomes)} environments: {summary}."


def _summary(outcome: consortium.Outcome[Plan], drift: bool) -> str:
    if outcome.value is None:
        return f"{outcome.env}: failed (exit {outcome.code})"
    changes = len(outcome.value.changes) + len(outcome.value.alma_only)
    unmanaged = len(outcome.value.unmanaged) if drift else 0
    parts = [f"{changes} change(s)"] if changes else []
    parts += [f"{unmanaged} unmanaged"] if unmanaged else []
    state = ", ".join(parts) or ("no drift" if drift else "no changes")
    if outcome.code == ExitCode.BLOCKED:
        state += ", blocked by a safety rule"
    return f"{outcome.env}: {state}"


def _junit(outcomes: list[consortium.Outcome[Plan]]) -> str:
    """One JUnit document with a test suite per environment."""
    suites = []
    for o in outcomes:
        if o.value is None:
            suites.append(f'<testsuite name={quoteattr("almasync drift " + o.env)} tests="1" '
                          f'failures="0" errors="1"><testcase classname="almasync" '
                          f'name={quoteattr(o.env)}><error message="exit {o.code}">'
                          f'{escape(o.error or "")}</error></testcase></testsuite>')
            continue
        one = render.drift_junit(o.value).split("\n", 1)[1]
        suites.append(one.replace('name="almasync drift"',
                                  f'name={quoteattr("almasync drift " + o.env)}', 1).strip())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n' + "\n".join(suites)
            + "\n</testsuites>\n")
