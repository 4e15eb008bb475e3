"""``almasync jobs``: list jobs, run one, follow an instance. Thin wrappers over
:mod:`almasync.jobs`; this module only parses options and prints.

stdout carries the data (the job list, the final report, or the bare instance id of a job
submitted without ``--wait``); stderr carries live progress. :func:`echo_job_event` and
:func:`echo_outcome` are also what ``apply`` uses for its ``post_apply`` jobs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import click

from almasync import jobs as engine
from almasync.alma.client import AlmaClient
from almasync.cli.connect import Connection, connect
from almasync.cli.options import output_format, target
from almasync.config.loader import load_settings
from almasync.config.settings import PostApplyJob, Settings
from almasync.errors import UsageError
from almasync.jobs import (
    JobEvent,
    JobOutcome,
    JobSummary,
    Skipped,
    SlotWait,
    Starting,
    Submitted,
    Update,
    Verdict,
)

F = TypeVar("F", bound=Callable[..., Any])


def _settings_dir(fn: F) -> F:
    return click.option("--config", "config_dir", default=".", show_default=True,
                        type=click.Path(file_okay=False, path_type=Path),
                        help="Folder whose almasync.yaml declares the --env environments.")(fn)


def _pacing(fn: F) -> F:
    return click.option("--poll-interval", type=click.FloatRange(min=0, min_open=True),
                        default=2.0, show_default=True, metavar="SECONDS",
                        help="First wait between status checks; doubles up to 30 s.")(fn)


def _wait_options(fn: F) -> F:
    fn = click.option("--timeout", type=click.FloatRange(min=0), metavar="SECONDS",
                      help=f"Stop waiting after this long (default {engine.DEFAULT_TIMEOUT:g};"
                           " implies --wait); exit 10 if the job has not ended.")(fn)
    return click.option("--wait", is_flag=True,
                        help="Follow the instance to its end; the exit code tells how it "
                             "ended.")(fn)


def _open(config_dir: Path, env_name: str | None, emulator: str | None, *,
          read_only: bool) -> AbstractContextManager[Connection]:
    settings = load_settings(config_dir) if env_name and not emulator else Settings()
    return connect(settings, env_name, emulator, read_only=read_only)


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


@click.group()
def jobs() -> None:
    """List Alma jobs, run one, and follow its instance to the end.

    \b
    Exit codes of run --wait and status:
      0  completed successfully (or submitted, without --wait)
      7  completed with warnings or errors (COMPLETED_WARNING, COMPLETED_FAILED)
      8  failed or aborted (FAILED, USER_ABORTED, SYSTEM_ABORTED, SKIPPED)
      9  needs manual handling (MANUAL_HANDLING_REQUIRED)
     10  not finished when almasync stopped waiting
      3  unknown job, set, profile or instance; Alma refused the job; nothing ran
      4  Alma unreachable, key refused, or an execution threshold (402222/402223)
     64  command-line usage error
    """


# -- list -------------------------------------------------------------------------------


def _job_table(found: list[JobSummary]) -> str:
    if not found:
        return "No jobs."
    width = max(len(job.id) for job in found)
    lines = [f"{'ID':{width}}  {'TYPE':9}  {'CATEGORY':16}  NAME"]
    for job in found:
        profile = f"  [profile {job.profile_id}]" if job.profile_id else ""
        lines.append(f"{job.id:{width}}  {job.type:9}  {job.category:16}  {job.name}{profile}")
    return "\n".join(lines)


@jobs.command("list")
@click.option("--type", "job_type", type=click.Choice(engine.JOB_TYPES, case_sensitive=False),
              help="Only jobs of this type.")
@output_format("text", "json")
@target
@_settings_dir
def list_command(job_type: str | None, fmt: str, env_name: str | None, emulator: str | None,
                 config_dir: Path) -> int:
    """List the jobs Alma can run (GET /conf/jobs; read-only)."""
    with _open(config_dir, env_name, emulator, read_only=True) as conn:
        found = engine.list_jobs(conn.client, job_type)
    if fmt == "json":
        _dump({"format_version": 1, "jobs": [job.to_dict() for job in found]})
    else:
        click.echo(_job_table(found))
    return 0


# -- progress and reports ---------------------------------------------------------------


def _update_line(event: Update) -> list[str]:
    inst = event.instance
    lines = []
    if event.status_changed:
        label = f" ({inst.status_label})" if inst.status_label != inst.status else ""
        lines.append(f"  {inst.status}{label} {inst.percent}%")
    elif not event.new_alerts:
        lines.append(f"  {inst.percent}%")
    lines += [f"  alert: {alert}" for alert in event.new_alerts]
    return lines


def _event_lines(event: JobEvent) -> list[str]:
    if isinstance(event, SlotWait):
        return [f"Alma's threshold: {event.reason}; job {event.job_id} not started yet, "
                f"trying again in {event.delay:.3g} s"]
    if isinstance(event, Submitted):
        sub = event.submission
        return [f"Submitted job {sub.job_id} ({sub.job_name}): instance {sub.instance_id}"]
    if isinstance(event, Starting):
        return [f"post_apply {event.index}/{event.total}: {event.label}"]
    if isinstance(event, Skipped):
        return [f"post_apply skipped: {event.label} ({event.reason})"]
    return _update_line(event)


def echo_job_event(event: JobEvent) -> None:
    """Print one progress event on stderr (the ``on_event`` of the CLI)."""
    for line in _event_lines(event):
        click.echo(line, err=True)


_RESULTS = {
    Verdict.SUCCEEDED: "succeeded",
    Verdict.WITH_ERRORS: "completed with warnings or errors; see the counters and alerts, "
                         "and the job's report in Alma",
    Verdict.FAILED: "did not complete",
    Verdict.NEEDS_PERSON: "needs manual handling: someone has to act on it in Alma's Monitor "
                          "Jobs page",
    Verdict.SKIPPED: "skipped",
}


def _result_line(outcome: JobOutcome) -> str:
    follow = f"almasync jobs status {outcome.instance_id} --wait"
    if outcome.verdict is Verdict.NOT_FINISHED:
        return f"Result: not finished; the job goes on in Alma. Follow it with `{follow}`."
    if outcome.verdict is Verdict.SUBMITTED:
        return f"Result: submitted. Follow it with `{follow}`."
    if outcome.verdict is Verdict.ERROR:
        return f"Result: error: {outcome.error}"
    text = _RESULTS[outcome.verdict]
    if outcome.verdict is Verdict.NEEDS_PERSON:
        text += f"; then follow it with `{follow}`"
    return f"Result: {text}."


def outcome_text(outcome: JobOutcome) -> str:
    """The text report of one outcome: instance, status, counters, alerts, result."""
    inst = outcome.instance
    if inst is None:
        head = [outcome.label if outcome.submission is None else
                f"job {outcome.submission.job_id} ({outcome.submission.job_name}), "
                f"instance {outcome.submission.instance_id}"]
    else:
        head = [f"job {inst.job_id} ({inst.job_name}), instance {inst.id}",
                f"status: {inst.status} ({inst.status_label}), {inst.percent}%"]
        head += [f"  {counter.label}: {counter.value}" for counter in inst.counters]
        head += [f"alert: {alert}" for alert in inst.alerts]
    return "\n".join([*head, _result_line(outcome)])


def echo_outcome(outcome: JobOutcome, fmt: str = "text") -> None:
    """Print an outcome's report on stdout (``fmt``: text or json)."""
    if fmt == "json":
        _dump(outcome.to_dict())
    else:
        click.echo(outcome_text(outcome))


# -- post_apply, for apply ---------------------------------------------------------------


def echo_post_apply_plan(lines: Sequence[str]) -> None:
    """Print the plan's post_apply section (nothing when there are no jobs)."""
    if not lines:
        return
    click.echo("\nAfter a successful apply, these jobs run (post_apply):")
    for line in lines:
        click.echo(f"  {line}")


def run_post_apply_jobs(client: AlmaClient, post_apply: Sequence[PostApplyJob]) -> int:
    """Run the post_apply jobs with live progress on stderr and a report per job on
    stdout; returns the exit code (0 when every job succeeded or was not waited for)."""
    outcomes = engine.run_post_apply(client, post_apply, echo_job_event)
    for outcome in outcomes:
        echo_outcome(outcome)
    return engine.post_apply_exit(outcomes)


# -- run --------------------------------------------------------------------------------


def _params(params_file: Path | None, given: tuple[str, ...]) -> dict[str, str]:
    params = engine.load_params_file(params_file) if params_file else {}
    params.update(engine.parse_params(given))
    return params


def _request(job_id: str | None, profile_id: str | None, params: dict[str, str],
             set_name: str | None, wait: bool, timeout: float | None,
             wait_for_slot: bool, slot_timeout: float | None) -> engine.RunRequest:
    slots = wait_for_slot or slot_timeout is not None
    request = engine.RunRequest(
        job_id=job_id, profile_id=profile_id, params=params, set_name=set_name,
        wait=wait or timeout is not None,
        timeout=engine.DEFAULT_TIMEOUT if timeout is None else timeout,
        slot_timeout=(slot_timeout if slot_timeout is not None else engine.DEFAULT_TIMEOUT)
        if slots else None)
    found = request.problems()
    if found:
        raise UsageError("; ".join(found).replace("a job id", "a JOB_ID")
                         .replace("a profile id", "--profile-id"))
    return request


def _submit(conn: Connection, request: engine.RunRequest, poll: float, fmt: str) -> int:
    outcome = engine.run(conn.client, request, pacing=engine.Pacing(first=poll),
                         on_event=echo_job_event)
    if fmt == "text" and outcome.verdict is Verdict.SUBMITTED:
        click.echo(outcome.instance_id)
        click.echo(_result_line(outcome), err=True)
    else:
        echo_outcome(outcome, fmt)
    return outcome.exit_code


@jobs.command("run")
@click.argument("job_id", required=False)
@click.option("--profile-id", metavar="ID",
              help="Run the scheduled job of this import or integration profile.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A job parameter (repeatable; overrides --params-file).")
@click.option("--params-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML or JSON mapping NAME: VALUE of job parameters.")
@click.option("--set", "set_name", metavar="NAME",
              help="Pass the set with exactly this name as the set_id parameter.")
@_wait_options
@click.option("--wait-for-slot", is_flag=True,
              help="When Alma's thresholds refuse the start, wait and try again.")
@click.option("--slot-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help=f"Give up waiting for a slot after this long (default "
                   f"{engine.DEFAULT_TIMEOUT:g}; implies --wait-for-slot).")
@_pacing
@output_format("text", "json")
@target
@_settings_dir
def run_command(job_id: str | None, profile_id: str | None, params: tuple[str, ...],
                params_file: Path | None, set_name: str | None, wait: bool,
                timeout: float | None, wait_for_slot: bool, slot_timeout: float | None,
                poll_interval: float, fmt: str, env_name: str | None, emulator: str | None,
                config_dir: Path) -> int:
    """Submit JOB_ID (or the job of --profile-id) and, with --wait, follow it to the end.

    Without --wait, prints the new instance id. Exit codes: see `almasync jobs --help`
    and docs/jobs.md.
    """
    request = _request(job_id, profile_id, _params(params_file, params), set_name, wait,
                       timeout, wait_for_slot, slot_timeout)
    with _open(config_dir, env_name, emulator, read_only=False) as conn:
        return _submit(conn, request, poll_interval, fmt)


# -- status -----------------------------------------------------------------------------


@jobs.command("status")
@click.argument("ids", nargs=-1, required=True, metavar="[JOB_ID] INSTANCE_ID")
@_wait_options
@_pacing
@output_format("text", "json")
@target
@_settings_dir
def status_command(ids: tuple[str, ...], wait: bool, timeout: float | None,
                   poll_interval: float, fmt: str, env_name: str | None,
                   emulator: str | None, config_dir: Path) -> int:
    """Show a job instance (by its id alone, or JOB_ID INSTANCE_ID); --wait follows it.

    Exits 0 when it succeeded, 7 finished with errors, 8 failed or aborted, 9 needs manual
    handling, 10 not finished (yet).
    """
    if len(ids) > 2:
        raise UsageError("jobs status takes INSTANCE_ID or JOB_ID INSTANCE_ID")
    job_id, instance_id = (ids[0], ids[1]) if len(ids) == 2 else (engine.ALL_JOBS, ids[0])
    limit = 0.0 if not (wait or timeout is not None) else (
        engine.DEFAULT_TIMEOUT if timeout is None else timeout)
    with _open(config_dir, env_name, emulator, read_only=True) as conn:
        outcome = engine.follow(conn.client, instance_id, job_id=job_id, timeout=limit,
                                pacing=engine.Pacing(first=poll_interval),
                                on_event=echo_job_event if limit else _quiet,
                                label=f"instance {instance_id}")
    echo_outcome(outcome, fmt)
    return outcome.exit_code


def _quiet(event: JobEvent) -> None:
    """No live progress when only one look is taken."""
