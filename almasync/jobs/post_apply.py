"""``post_apply:`` jobs of almasync.yaml: described in the plan, run after a good apply.

The caller (``apply``) decides *whether* to run them: only after an apply in which every
change succeeded. This module decides *how*: in the order declared, each one started only
when the one before it succeeded (or was not waited for), so a failed import never feeds a
publishing job. Names (sets, profiles) are resolved at run time, after the apply, because
the apply may have created them.
"""

from __future__ import annotations

from collections.abc import Sequence

from almasync.alma.client import AlmaClient
from almasync.config.settings import PostApplyJob
from almasync.errors import AlmasyncError, ConfigError, Problem
from almasync.jobs.model import JobOutcome, Skipped, Starting, Verdict
from almasync.jobs.runner import (
    DEFAULT_PACING,
    EventSink,
    Pacing,
    RunRequest,
    ignore_event,
    run,
)


def post_apply_request(job: PostApplyJob, slot_timeout: float | None = None) -> RunRequest:
    """The engine request for one ``post_apply`` entry."""
    return RunRequest(job_id=job.job_id, profile_id=job.profile_id, params=dict(job.params),
                      set_name=job.set, wait=job.wait, timeout=job.timeout,
                      slot_timeout=slot_timeout)


def check_post_apply(jobs: Sequence[PostApplyJob]) -> None:
    """Raise :class:`ConfigError` naming every malformed entry (``post_apply[N]``, 1-based).

    Call it before applying anything, so a bad entry stops the run while nothing changed.
    """
    problems = [Problem(None, f"almasync.yaml: post_apply[{index}]: {text}")
                for index, job in enumerate(jobs, 1)
                for text in post_apply_request(job).problems()]
    if problems:
        raise ConfigError(problems)


def describe_one(job: PostApplyJob) -> str:
    """One plan line, e.g. ``run job M1 with set 'New titles', format=MARC21; wait up to
    3600 s``."""
    what = (f"run job {job.job_id}" if job.job_id
            else f"run the scheduled job of profile {job.profile_id}")
    given = [f"set {job.set!r}"] if job.set is not None else []
    given += [f"{name}={value}" for name, value in job.params.items()]
    with_ = f" with {', '.join(given)}" if given else ""
    wait = f"wait up to {job.timeout:g} s for it to end" if job.wait else "do not wait"
    return f"{what}{with_}; {wait}"


def describe_post_apply(jobs: Sequence[PostApplyJob]) -> list[str]:
    """The plan's lines for the ``post_apply`` jobs, in run order (empty when none).

    Raises :class:`ConfigError` for a malformed entry (see :func:`check_post_apply`).
    """
    check_post_apply(jobs)
    return [describe_one(job) for job in jobs]


def run_post_apply(client: AlmaClient, jobs: Sequence[PostApplyJob],
                   on_event: EventSink = ignore_event, *, pacing: Pacing = DEFAULT_PACING,
                   slot_timeout: float | None = None) -> list[JobOutcome]:
    """Run every ``post_apply`` job in order; one :class:`JobOutcome` per entry.

    Errors are caught per job and recorded (:attr:`Verdict.ERROR`); after a job that did not
    succeed, the rest are :attr:`Verdict.SKIPPED` (and announced as :class:`Skipped`).
    ``slot_timeout``: wait that long for a slot on Alma's thresholds (None: do not wait).
    Raises only :class:`ConfigError` for malformed entries, before any job starts.
    """
    check_post_apply(jobs)
    outcomes: list[JobOutcome] = []
    blocker: str | None = None
    for index, job in enumerate(jobs, 1):
        label = describe_one(job)
        if blocker is not None:
            on_event(Skipped(label, blocker))
            outcomes.append(JobOutcome(label, Verdict.SKIPPED))
            continue
        on_event(Starting(index, len(jobs), label))
        outcome = _run_one(client, job, label, pacing, on_event, slot_timeout)
        outcomes.append(outcome)
        if not outcome.ok:
            blocker = f"post_apply job {index} did not succeed ({outcome.verdict.value})"
    return outcomes


def _run_one(client: AlmaClient, job: PostApplyJob, label: str, pacing: Pacing,
             on_event: EventSink, slot_timeout: float | None) -> JobOutcome:
    try:
        outcome = run(client, post_apply_request(job, slot_timeout), pacing=pacing,
                      on_event=on_event)
    except AlmasyncError as exc:
        return JobOutcome(label, Verdict.ERROR, error=exc)
    return JobOutcome(label, outcome.verdict, outcome.instance, outcome.submission)


def post_apply_exit(outcomes: Sequence[JobOutcome]) -> int:
    """The exit code for a run of post_apply jobs: the first non-zero one, else 0."""
    return next((o.exit_code for o in outcomes if o.exit_code), 0)
