"""validate, plan, drift and apply: thin wrappers over the engine."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from almasync import budget, consortium, engine, jobs
from almasync.cli import apply_many as many_apply
from almasync.cli import many, progress, render
from almasync.cli.applying import ApplyRun, blocked
from almasync.cli.connect import Connection, connect
from almasync.cli.files import write_atomic
from almasync.cli.jobs_cmds import echo_post_apply_plan
from almasync.cli.locking import holding
from almasync.cli.options import F, config_dir, journal_dir, lock_timeout, output_format, target
from almasync.cli.saved_plan import SavedPlan, echo_settings, open_saved
from almasync.cli.terminal import note, use_colour
from almasync.config.loader import DesiredState, load_config, load_settings
from almasync.config.settings import Settings
from almasync.errors import ExitCode, StalePlanError, UsageError
from almasync.identity import check_environment_type, check_institution
from almasync.journal import Journal
from almasync.plan import recorded
from almasync.plan.incremental import Scope, load_since
from almasync.plan.plan import Plan


def _make_plan(conn: Connection, desired: DesiredState, *, everything: bool = False,
               targets: tuple[str, ...] = (), info: dict[str, str | None] | None = None,
               progress_shown: bool = True, identity: engine.Identity | None = None,
               scope: Scope | None = None) -> Plan:
    """Read and diff; with ``scope`` (``--changed-since``), only what it names."""
    parsed = [engine.Target.parse(t) for t in targets]
    only = {t.kind for t in parsed} or None
    # A plan is one snapshot: a path read twice (the institution's general settings, a
    # letter's labels table) is read from Alma once.
    with conn.client.memo():
        identity = identity or engine.identify(conn.client)
        planned = scope.planning(desired) if scope else desired
        with progress.reading(shown=progress_shown) as on_kind:
            if scope is None:
                live = engine.read_live(conn.client, desired, everything=everything,
                                        only=only, on_kind=on_kind)
            else:
                live = scope.restrict(engine.read_live(
                    conn.client, scope.reading(desired), only=only, on_kind=on_kind,
                    also=scope.also(), check_settings=scope.settings_changed))
    warn_unmatched(parsed, desired, live)
    target_info = {**where_info(conn, identity),
                   **{k: v for k, v in (info or {}).items() if v}}
    result = engine.make_plan(planned, live, targets=parsed, target_info=target_info)
    return scope.finish(result) if scope else result


def warn_unmatched(targets: list[engine.Target], desired: DesiredState,
                   live: engine.LiveState) -> None:
    """Say so when a ``--target`` names nothing: an empty plan must not pass for "no
    changes" because of a mistyped or unquoted key."""
    for named in engine.unmatched(targets, desired, live):
        hint = ""
        if named.key and len(named.key) > 1:
            whole = engine.Target(named.kind, ("/".join(named.key),))
            if not engine.unmatched([whole], desired, live):
                hint = f" (did you mean --target '{whole}'? a key part holding / or : " \
                       "goes in double quotes)"
        click.echo(f"Warning: --target {named} matches no resource in the files or in "
                   f"Alma; nothing is planned for it{hint}.", err=True)


def where_info(conn: Connection, identity: engine.Identity) -> dict[str, str]:
    """What a plan records about where it was read: the header line, the institution code,
    the gateway host and the environment type Alma reports."""
    info = {"label": identity.header(conn.where), "institution": identity.code,
            "host": identity.host}
    if identity.environment_type:
        info["environment_type"] = identity.environment_type
    return info


def guard_environment(conn: Connection, plan: Plan) -> None:
    """``plan --env E``: the environment guard of apply, after the plan is shown (exit 5)."""
    identity = engine.Identity(plan.target.get("institution", ""),
                               plan.target.get("environment_type"), plan.target.get("host", ""))
    check_environment_type(identity, conn.environment_type,
                           consequence="this plan was read from the wrong institution")


def _several_envs(fn: F) -> F:
    return click.option("--all-envs", is_flag=True,
                        help="Every environment in almasync.yaml, concurrently.")(fn)


def _envs(directory: Path, env_name: str | None, all_envs: bool,
          emulator: str | None) -> list[str]:
    """The environments a plan or drift runs against (none: ALMA_API_URL or --emulator)."""
    declared = list(load_settings(directory).environments) if all_envs else []
    envs = consortium.env_names(env_name, all_envs, declared)
    if len(envs) > 1 and emulator:
        raise UsageError("--emulator runs against one emulated institution; leave out "
                         "--all-envs or name one environment")
    return envs


@click.command()
@config_dir
@click.option("--env", "env_name", metavar="NAME",
              help="Also read the overlay folder environments/NAME/ (nothing is sent).")
def validate(directory: Path, env_name: str | None) -> int:
    """Check every config file offline; report every problem at once."""
    desired = load_config(directory, env_name)
    click.echo(f"Valid: {desired.count} resources in {len(desired.files)} files.")
    return ExitCode.OK


@click.command()
@config_dir
@target
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also save the plan as JSON, for `almasync apply PLAN.json`.")
@output_format("text", "json", "markdown")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there are changes, 0 when there are none.")
@click.option("--target", "targets", multiple=True, metavar="KIND[:KEY]",
              help="Only this kind (as the files name it: locations), or one "
                   "resource of it: locations:MAIN/STACKS (repeatable).")
@click.option("--changed-since", "since", metavar="REF",
              help="Read only what the files changed since this git ref can affect (a "
                   "pull request's base branch); the plan lists what it did not read.")
@_several_envs
def plan(directory: Path, env_name: str | None, emulator: str | None, out: Path | None,
         fmt: str, detailed_exitcode: bool, targets: tuple[str, ...], since: str | None,
         all_envs: bool) -> int:
    """Show what apply would change. Read-only: sends nothing but GET.

    With several environments (--env a,b or --all-envs) each is planned concurrently, with
    its own overlay, rate limit and safety rules, in one report; the exit code is the worst.
    """
    envs = _envs(directory, env_name, all_envs, emulator)
    if len(envs) > 1:
        if since is not None:
            raise UsageError("--changed-since plans one environment; name one with --env")
        return many.run(directory, envs, _make_plan, fmt=fmt, targets=targets, out=out,
                        detailed_exitcode=detailed_exitcode)
    env_name = envs[0] if envs else None
    scope: Scope | None = None
    if since is None:
        desired = load_config(directory, env_name)
    else:
        desired, scope = load_since(directory, since, env_name)
    post_apply = jobs.describe_post_apply(desired.settings.post_apply)
    with connect(desired.settings, env_name, emulator, read_only=True) as conn:
        result = _make_plan(conn, desired, targets=targets,
                            info={"config": str(directory), "env": env_name}, scope=scope)
    result = dataclasses.replace(result, post_apply=tuple(post_apply),
                                 settings=recorded.record(desired.settings, env_name))
    if fmt == "json":
        click.echo(render.plan_json(result), nl=False)
    elif fmt == "markdown":
        click.echo(render.plan_markdown(result))
    else:
        click.echo(render.plan_text(result, colour=use_colour()), color=use_colour())
        echo_post_apply_plan(post_apply)
    if out:
        write_atomic(out, render.plan_json(result))
        note(f"Plan saved to {out}.")
    # The call budget: what this plan cost and what `apply` would (same accounting as
    # the apply's own --max-calls and daily-quota checks).
    note(budget.line(conn.client.calls, budget.for_apply(result, conn.client.calls),
                     conn.client.bucket.rate, conn.client.remaining))
    guard_environment(conn, result)
    if blocked(result, desired.settings, env_name, force=False):
        return ExitCode.BLOCKED
    return ExitCode.CHANGES if detailed_exitcode and result.differs else ExitCode.OK


@click.command()
@config_dir
@target
@output_format("text", "json", "markdown", "junit")
@click.option("--include-unmanaged", is_flag=True,
              help="Also report live resources that no file declares.")
@click.option("--junit", "junit_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as JUnit XML to this file (for CI dashboards).")
@_several_envs
def drift(directory: Path, env_name: str | None, emulator: str | None, fmt: str,
          include_unmanaged: bool, junit_out: Path | None, all_envs: bool) -> int:
    """Report what differs between the files and Alma (exit 2 when anything does).

    Several environments (--env a,b or --all-envs) are checked concurrently, in one report.
    """
    envs = _envs(directory, env_name, all_envs, emulator)
    if len(envs) > 1:
        return many.run(directory, envs, _make_plan, fmt=fmt, drift=True,
                        everything=include_unmanaged, junit_out=junit_out)
    env_name = envs[0] if envs else None
    desired = load_config(directory, env_name)
    with connect(desired.settings, env_name, emulator, read_only=True) as conn:
        result = _make_plan(conn, desired, everything=include_unmanaged)
    if not include_unmanaged:
        result = dataclasses.replace(result, unmanaged=())
    if fmt == "json":
        click.echo(render.plan_json(result), nl=False)
    elif fmt == "junit":
        click.echo(render.drift_junit(result), nl=False)
    elif fmt == "markdown":
        click.echo(render.plan_markdown(result, "almasync drift"))
    else:
        click.echo(render.drift_text(result, colour=use_colour()), color=use_colour())
    if junit_out:
        write_atomic(junit_out, render.drift_junit(result))
    drifted = bool(result.differs or result.unmanaged)
    return ExitCode.CHANGES if drifted else ExitCode.OK


@click.command()
@click.argument("source", required=False, default=".",
                type=click.Path(exists=True, path_type=Path))
@target
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--force", is_flag=True, help="Lift the safety caps for this run only.")
@click.option("--expect-digest", metavar="sha256:HEX",
              help="Apply only if the plan's digest is this one (the digest a reviewer "
                   "approved); otherwise exit 6 with nothing written.")
@click.option("--max-calls", type=click.IntRange(min=1), default=None, metavar="N",
              help="Refuse (exit 5, nothing written) when the apply would make more than N "
                   "API calls.")
@lock_timeout
@journal_dir
@_several_envs
def apply(source: Path, env_name: str | None, emulator: str | None, auto_approve: bool,
          force: bool, expect_digest: str | None, max_calls: int | None,
          lock_timeout: float | None, journal_dir: Path | None, all_envs: bool) -> int:
    """Make the changes a plan shows, after confirmation.

    SOURCE is a config directory (planned afresh) or a plan saved with `plan --out`, which
    is refused (exit 6) if anything it touches changed in Alma since it was made. The live
    state of everything changed is saved first, in a journal under .almasync/journals/
    (beside the config, or beside a saved plan; or in --journal-dir) that records each
    write as it happens, for `rollback`. One apply or rollback at a time runs against an
    institution on this machine; another waits (see --lock-timeout). Before the first
    write the apply's calls are estimated: more than --max-calls N refuses (exit 5), and so
    does (exit 4) more than the daily quota Alma says is left.

    With several environments (--env a,b or --all-envs) of a config directory, each is
    planned, shown and, once confirmed for all, applied concurrently (see the README);
    --max-calls then holds for each environment.
    """
    if many_apply.several(source, env_name, all_envs, expect_digest):
        return many_apply.run(source, _envs(source, env_name, all_envs, emulator), _make_plan,
                              auto_approve=auto_approve, force=force, max_calls=max_calls,
                              lock_timeout=lock_timeout, journal_dir=journal_dir)
    run = ApplyRun(auto_approve, force, again=f"almasync apply {source}",
                   journal_dir=journal_dir)
    if source.is_file():
        opened = open_saved(source, env_name)
        echo_settings(opened)
        settings, env_name = opened.settings, opened.env_name
        config_dir = Path(opened.plan.target.get("config", "."))
        # What is left of a saved plan is stale once part of it is applied: plan afresh.
        run = dataclasses.replace(run, again=f"almasync apply {config_dir}")
        with connect(settings, env_name, emulator, read_only=False) as conn, \
                conn.client.memo():
            identity = engine.identify(conn.client)
            saved = _bound(conn, opened, identity)
            if _outside_prune(saved, settings):
                return ExitCode.BLOCKED
            with holding(identity.code, "apply", lock_timeout):
                _check_digest(saved, expect_digest)
                # A saved plan's apply reads each resource it touches once.
                _check_budget(conn, saved, conn.client.calls + len(saved.changes), max_calls)
                return run(conn, saved, settings, env_name, source.parent, saved=True)
    desired = load_config(source, env_name)
    # One memory of reads for the whole run (AlmaClient.memo): what the plan read is the
    # snapshot the writes start from, unless a prompt let time pass (then it is read again).
    with connect(desired.settings, env_name, emulator, read_only=False) as conn, \
            conn.client.memo():
        identity = engine.identify(conn.client)
        # Held while planning too: a plan read while another run writes would be stale.
        with holding(identity.code, "apply", lock_timeout):
            result = _make_plan(conn, desired, info={"config": str(source), "env": env_name},
                                identity=identity)
            _check_digest(result, expect_digest)
            _check_budget(conn, result, conn.client.calls, max_calls)
            return run(conn, result, desired.settings, env_name, source)


def _check_budget(conn: Connection, plan: Plan, reads: int, max_calls: int | None) -> None:
    """``--max-calls`` and the daily quota, before anything is shown or written."""
    budget.check_plan(plan, reads, max_calls, conn.client.remaining, spent=conn.client.calls)


def _bound(conn: Connection, opened: SavedPlan, identity: engine.Identity) -> Plan:
    """The saved plan, refused (exit 5, nothing written) against any institution but its
    own; its header then names where the writes really go."""
    check_institution(opened.plan.target.get("institution"), identity,
                      f"the plan {opened.path}")
    return dataclasses.replace(opened.plan,
                               target={**opened.plan.target, **where_info(conn, identity)})


def _outside_prune(plan: Plan, settings: Settings) -> bool:
    sentences = recorded.outside_prune(plan, settings)
    for sentence in sentences:
        click.echo(f"Blocked by a safety rule: {sentence}", err=True)
    if sentences:
        click.echo("Nothing was applied.", err=True)
    return bool(sentences)


def _check_digest(result: Plan, expected: str | None) -> None:
    """Refuse a plan other than the reviewed one: the changes differ from what was approved
    (Alma or the files changed since the review), so nothing is written."""
    if expected is None or result.digest == expected.strip():
        return
    raise StalePlanError(f"the plan's digest is {result.digest}, not the reviewed "
                         f"{expected.strip()}: Alma or the files changed since the review. "
                         "Nothing was applied; plan again and review the new plan.")


@click.command()
@click.argument("journal_file", metavar="JOURNAL",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@target
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--force", is_flag=True, help="Lift the safety caps for this run only, and "
              "undo resources changed since the apply too.")
@lock_timeout
@journal_dir
def rollback(journal_file: Path, env_name: str | None, emulator: str | None,
             auto_approve: bool, force: bool, lock_timeout: float | None,
             journal_dir: Path | None) -> int:
    """Undo what an apply did, from its journal.

    Writes the journal leaves in doubt are settled by reading Alma; only writes that took
    effect are undone, and a resource changed since the apply is left alone (exit 7)
    unless --force (which also lifts the safety caps). The undo runs like any plan: same
    safety rules, same confirmation, its own journal (beside this one, or in
    --journal-dir). A journal of another institution is refused (exit 5)."""
    journal = Journal.load(journal_file)
    target = journal.plan().target
    home = Path(target.get("config", "."))
    settings = load_settings(home) if home.is_dir() else Settings()
    with connect(settings, env_name or target.get("env"), emulator,
                 read_only=False) as conn, conn.client.memo():
        identity = engine.identify(conn.client)
        # Before anything is read for the undo: a journal of another institution says
        # nothing about this one.
        check_institution(target.get("institution"), identity, f"the journal {journal_file}")
        journal.body["target"] = {**target, **where_info(conn, identity)}
        run = ApplyRun(auto_approve, force, post_apply=False, command="rollback",
                       again=f"almasync rollback {journal_file}",
                       journal_dir=journal_dir or journal_file.parent)
        with holding(identity.code, "rollback", lock_timeout):
            return run(conn, Plan(()), settings, env_name, home, journal=journal)
