"""Run a job: resolve what to run, submit (waiting for a slot if asked), follow to the end.

Waiting is paced by a :class:`Pacing` (backoff, sleep and clock), so tests run fast without
touching the code under test. Progress goes to ``on_event``; nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from almasync.alma.client import AlmaClient
from almasync.errors import AlmasyncError, UsageError
from almasync.jobs.api import ALL_JOBS, find_profile_job, get_instance, submit_once
from almasync.jobs.errors import FollowInterrupted, JobInputError, ThresholdReached
from almasync.jobs.model import (
    Instance,
    JobEvent,
    JobOutcome,
    Phase,
    SlotWait,
    Submission,
    Submitted,
    Update,
    Verdict,
)
from almasync.jobs.params import SET_PARAM, resolve_set

DEFAULT_TIMEOUT = 3600.0
EventSink = Callable[[JobEvent], None]


def ignore_event(event: JobEvent) -> None:
    """The default ``on_event``: report nothing."""


@dataclass(frozen=True)
class Pacing:
    """How the engine waits between polls and between slot retries.

    Delays start at ``first`` seconds and multiply by ``factor`` up to ``cap`` (2 s doubling
    to 30 s by default). ``sleep`` and ``clock`` (monotonic seconds) are injectable.
    """

    first: float = 2.0
    cap: float = 30.0
    factor: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        if self.first <= 0 or self.factor < 1:
            raise ValueError("Pacing needs first > 0 and factor >= 1")

    def delays(self) -> Iterator[float]:
        """``first``, ``first * factor``, ... never above ``max(cap, first)``."""
        ceiling = max(self.cap, self.first)
        delay = self.first
        while True:
            yield delay
            delay = min(ceiling, delay * self.factor)


DEFAULT_PACING = Pacing()


@dataclass(frozen=True)
class RunRequest:
    """What to run and how long to wait.

    Exactly one of ``job_id`` and ``profile_id`` (the scheduled job of that import or
    integration profile). ``set_name`` becomes the ``set_id`` parameter. ``slot_timeout``
    None means "fail on a threshold refusal"; a number means "wait up to that long for a
    slot". ``timeout`` bounds the wait for the end when ``wait`` is set.
    """

    job_id: str | None = None
    profile_id: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    set_name: str | None = None
    wait: bool = False
    timeout: float = DEFAULT_TIMEOUT
    slot_timeout: float | None = None

    def problems(self) -> list[str]:
        """What is wrong with the request itself, before any call (empty when fine)."""
        found: list[str] = []
        if not self.job_id and not self.profile_id:
            found.append("name the job to run: a job id or a profile id")
        elif self.job_id and self.profile_id:
            found.append("give a job id or a profile id, not both")
        if self.set_name is not None and SET_PARAM in self.params:
            found.append(f"a set name and a {SET_PARAM} parameter both give the set; "
                         "keep one")
        if self.timeout < 0 or (self.slot_timeout is not None and self.slot_timeout < 0):
            found.append("timeouts cannot be negative")
        return found

    @property
    def label(self) -> str:
        if self.job_id:
            return f"job {self.job_id}"
        return f"the scheduled job of profile {self.profile_id}"


def submit(client: AlmaClient, job_id: str, params: Mapping[str, str], *,
           slot_timeout: float | None, pacing: Pacing, on_event: EventSink) -> Submission:
    """Submit once; on a threshold refusal (402222/402223, Alma started nothing) retry with
    backoff for up to ``slot_timeout`` seconds, announcing each wait as :class:`SlotWait`.

    Nothing else is ever retried: after a lost connection the job may have started.
    Raises :class:`ThresholdReached` when ``slot_timeout`` is None or has passed.
    """
    started = pacing.clock()
    delays = pacing.delays()
    while True:
        try:
            return submit_once(client, job_id, params)
        except ThresholdReached as exc:
            if slot_timeout is None:
                raise
            waited = pacing.clock() - started
            if waited >= slot_timeout:
                raise ThresholdReached(job_id, exc.alma, waited=waited) from exc
            delay = min(next(delays), slot_timeout - waited)
            on_event(SlotWait(job_id, exc.reason, delay))
            pacing.sleep(delay)


def _announce(last: Instance | None, now: Instance, on_event: EventSink) -> None:
    """Emit an :class:`Update` when the status, the percent or the alerts changed."""
    seen = set(last.alerts) if last else set()
    new_alerts = tuple(alert for alert in now.alerts if alert not in seen)
    status_changed = last is None or last.status != now.status
    if status_changed or new_alerts or (last is not None and last.percent != now.percent):
        on_event(Update(now, status_changed, new_alerts))


def follow(client: AlmaClient, instance_id: str, *, job_id: str = ALL_JOBS,
           timeout: float = DEFAULT_TIMEOUT, pacing: Pacing = DEFAULT_PACING,
           on_event: EventSink = ignore_event, label: str = "") -> JobOutcome:
    """Poll an instance with backoff until it leaves the active statuses or ``timeout``
    seconds pass (then :attr:`Verdict.NOT_FINISHED` with the last state seen).

    MANUAL_HANDLING_REQUIRED ends the wait: a person has to act in Alma. The first poll
    happens at once. An unknown instance or job raises :class:`InstanceNotFound` or
    :class:`UnknownJob`; any other failure to poll raises :class:`FollowInterrupted`, which
    names the instance so that it can be followed again.
    """
    deadline = pacing.clock() + timeout
    delays = pacing.delays()
    last: Instance | None = None
    while True:
        try:
            instance = get_instance(client, instance_id, job_id)
        except JobInputError:
            raise
        except AlmasyncError as exc:
            raise FollowInterrupted(instance_id, exc) from exc
        _announce(last, instance, on_event)
        last = instance
        if instance.phase is not Phase.ACTIVE:
            return JobOutcome.seen(label, instance)
        remaining = deadline - pacing.clock()
        if remaining <= 0:
            return JobOutcome(label, Verdict.NOT_FINISHED, instance)
        pacing.sleep(min(next(delays), remaining))


def resolve_job(client: AlmaClient, request: RunRequest) -> str:
    """The job id to submit: the request's, or its profile's scheduled job."""
    if request.job_id:
        return request.job_id
    assert request.profile_id, "RunRequest.problems() was not checked"
    return find_profile_job(client, request.profile_id).id


def resolve_params(client: AlmaClient, request: RunRequest) -> dict[str, str]:
    """The parameters to send; a set name is looked up and sent as ``set_id``."""
    params = dict(request.params)
    if request.set_name is not None:
        params[SET_PARAM] = resolve_set(client, request.set_name)
    return params


def run(client: AlmaClient, request: RunRequest, *, pacing: Pacing = DEFAULT_PACING,
        on_event: EventSink = ignore_event) -> JobOutcome:
    """Resolve, submit and (when ``request.wait``) follow one job.

    Raises :class:`UsageError` for a malformed request before any call; Alma refusals and
    lookups raise the errors of :mod:`almasync.jobs.errors`. Without ``wait`` the outcome
    is :attr:`Verdict.SUBMITTED` with no instance state (no further call is made).
    """
    found = request.problems()
    if found:
        raise UsageError("; ".join(found))
    job_id = resolve_job(client, request)
    params = resolve_params(client, request)
    submission = submit(client, job_id, params, slot_timeout=request.slot_timeout,
                        pacing=pacing, on_event=on_event)
    on_event(Submitted(submission))
    label = f"job {job_id}"
    if not request.wait:
        return JobOutcome(label, Verdict.SUBMITTED, submission=submission)
    outcome = follow(client, submission.instance_id, job_id=job_id, timeout=request.timeout,
                     pacing=pacing, on_event=on_event, label=label)
    return JobOutcome(outcome.label, outcome.verdict, outcome.instance, submission=submission)
