"""Values of the job engine: statuses, phases, instances, outcomes and progress events.

Everything here is immutable and free of I/O. Alma's JSON enters through
:meth:`Instance.from_json` and :meth:`JobSummary.from_json`, which tolerate the variations
Alma shows (``{"value", "desc"}`` pairs or bare strings, progress as int, float or string).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any

from almasync.alma.payload import as_list
from almasync.errors import AlmasyncError, ExitCode

JsonDict = dict[str, Any]


class JobExit(IntEnum):
    """The exit codes a job's outcome maps to (a subset of :class:`ExitCode`)."""

    OK = ExitCode.OK
    FINISHED_WITH_ERRORS = ExitCode.APPLY_FAILED
    JOB_FAILED = ExitCode.JOB_FAILED
    NEEDS_PERSON = ExitCode.NEEDS_PERSON
    NOT_FINISHED = ExitCode.NOT_FINISHED


class Phase(Enum):
    """What an instance's status means for someone waiting on it."""

    ACTIVE = "active"
    SUCCEEDED = "succeeded"
    WITH_ERRORS = "finished with errors"
    FAILED = "failed"
    NEEDS_PERSON = "needs manual handling"


# Alma's code table systemJobStatus (FACTS.md section 6).
PHASES: dict[str, Phase] = {
    "QUEUED": Phase.ACTIVE,
    "PENDING": Phase.ACTIVE,
    "INITIALIZING": Phase.ACTIVE,
    "RUNNING": Phase.ACTIVE,
    "FINALIZING": Phase.ACTIVE,
    "COMPLETED_SUCCESS": Phase.SUCCEEDED,
    "COMPLETED_NO_BULKS": Phase.SUCCEEDED,
    "COMPLETED_WARNING": Phase.WITH_ERRORS,
    "COMPLETED_FAILED": Phase.WITH_ERRORS,
    "FAILED": Phase.FAILED,
    "USER_ABORTED": Phase.FAILED,
    "SYSTEM_ABORTED": Phase.FAILED,
    "SKIPPED": Phase.FAILED,
    "MANUAL_HANDLING_REQUIRED": Phase.NEEDS_PERSON,
}

PHASE_EXIT: dict[Phase, JobExit] = {
    Phase.ACTIVE: JobExit.NOT_FINISHED,
    Phase.SUCCEEDED: JobExit.OK,
    Phase.WITH_ERRORS: JobExit.FINISHED_WITH_ERRORS,
    Phase.FAILED: JobExit.JOB_FAILED,
    Phase.NEEDS_PERSON: JobExit.NEEDS_PERSON,
}


def phase_of(status: str, ended: bool) -> Phase:
    """The phase of an Alma status; a status Alma adds later counts as active until the
    instance has an ``end_time``, and as failed after (never as success)."""
    known = PHASES.get(status)
    if known is not None:
        return known
    return Phase.FAILED if ended else Phase.ACTIVE


def value_of(field_value: Any) -> str:
    """``{"value": x, "desc": ...}`` or a bare ``x``, as text."""
    if isinstance(field_value, dict):
        field_value = field_value.get("value")
    return "" if field_value is None else str(field_value)


def desc_of(field_value: Any) -> str:
    """The ``desc`` of a value/desc pair, else its value."""
    if isinstance(field_value, dict) and field_value.get("desc"):
        return str(field_value["desc"])
    return value_of(field_value)


def _progress(raw: Any) -> float:
    try:
        return max(0.0, min(100.0, float(value_of(raw) or 0)))
    except ValueError:
        return 0.0


def _entries(raw: Any) -> list[Any]:
    return [entry for entry in as_list(raw) if isinstance(entry, dict)]


@dataclass(frozen=True)
class Counter:
    """One of an instance's counters, e.g. ``Records processed: 48``."""

    label: str
    value: str


@dataclass(frozen=True)
class Instance:
    """A job instance (one run) as Alma last reported it."""

    id: str
    job_id: str
    job_name: str
    status: str
    status_label: str
    progress: float
    counters: tuple[Counter, ...] = ()
    alerts: tuple[str, ...] = ()
    submit_time: str | None = None
    start_time: str | None = None
    end_time: str | None = None

    @classmethod
    def from_json(cls, body: JsonDict, job_id: str = "") -> Instance:
        """Read Alma's job instance JSON (FACTS.md section 6)."""
        info = body.get("job_info") or {}
        counters = tuple(Counter(desc_of(c.get("type")), value_of(c.get("value")))
                         for c in _entries(body.get("counter")) if isinstance(c, dict))
        alerts = tuple(desc_of(a) for a in _entries(body.get("alert")) if desc_of(a))
        return cls(
            id=value_of(body.get("id")),
            job_id=value_of(info.get("id")) or job_id,
            job_name=value_of(info.get("name")) or value_of(body.get("name")),
            status=value_of(body.get("status")),
            status_label=desc_of(body.get("status")),
            progress=_progress(body.get("progress")),
            counters=counters,
            alerts=alerts,
            submit_time=body.get("submit_time") or None,
            start_time=body.get("start_time") or None,
            end_time=body.get("end_time") or None,
        )

    @property
    def phase(self) -> Phase:
        return phase_of(self.status, self.end_time is not None)

    @property
    def percent(self) -> int:
        return int(self.progress)

    def to_dict(self) -> JsonDict:
        """Plain data for ``--format json`` (keys are sorted by the renderer)."""
        return {
            "instance_id": self.id, "job_id": self.job_id, "job_name": self.job_name,
            "status": self.status, "status_label": self.status_label,
            "phase": self.phase.value, "progress": self.progress,
            "counters": {c.label: c.value for c in self.counters},
            "alerts": list(self.alerts), "submit_time": self.submit_time,
            "start_time": self.start_time, "end_time": self.end_time,
        }


@dataclass(frozen=True)
class JobSummary:
    """One entry of ``GET /conf/jobs``."""

    id: str
    name: str
    type: str
    category: str
    description: str = ""
    content: str = ""
    schedule: str = ""
    profile_id: str = ""

    @classmethod
    def from_json(cls, body: JsonDict) -> JobSummary:
        return cls(
            id=value_of(body.get("id")), name=value_of(body.get("name")),
            type=value_of(body.get("type")), category=value_of(body.get("category")),
            description=value_of(body.get("description")),
            content=value_of(body.get("content")), schedule=value_of(body.get("schedule")),
            profile_id=value_of(body.get("related_profile")),
        )

    def to_dict(self) -> JsonDict:
        return {"id": self.id, "name": self.name, "type": self.type,
                "category": self.category, "description": self.description,
                "content": self.content, "schedule": self.schedule,
                "profile_id": self.profile_id or None}


@dataclass(frozen=True)
class Submission:
    """A job Alma accepted: the instance it started."""

    job_id: str
    job_name: str
    instance_id: str


class Verdict(Enum):
    """How one requested run ended, as far as almasync followed it."""

    SUBMITTED = "submitted"          # accepted; not followed (no --wait)
    SUCCEEDED = "succeeded"
    WITH_ERRORS = "finished with errors"
    FAILED = "failed"
    NEEDS_PERSON = "needs manual handling"
    NOT_FINISHED = "not finished"    # still active when almasync stopped looking
    ERROR = "error"                  # an error stopped it (see JobOutcome.error)
    SKIPPED = "skipped"              # post_apply: an earlier job did not succeed


_PHASE_VERDICT = {
    Phase.ACTIVE: Verdict.NOT_FINISHED,
    Phase.SUCCEEDED: Verdict.SUCCEEDED,
    Phase.WITH_ERRORS: Verdict.WITH_ERRORS,
    Phase.FAILED: Verdict.FAILED,
    Phase.NEEDS_PERSON: Verdict.NEEDS_PERSON,
}


@dataclass(frozen=True)
class JobOutcome:
    """The result of running (and perhaps following) one job.

    ``submission`` is set once Alma accepted the job; ``instance`` is the last state seen
    (None when it was not looked at); ``error`` is set only for :attr:`Verdict.ERROR`.
    :attr:`exit_code` is what ``almasync jobs`` exits with.
    """

    label: str
    verdict: Verdict
    instance: Instance | None = None
    submission: Submission | None = None
    error: AlmasyncError | None = field(default=None, compare=False)

    @classmethod
    def seen(cls, label: str, instance: Instance) -> JobOutcome:
        """The outcome for an instance that almasync followed to ``instance``'s state."""
        return cls(label, _PHASE_VERDICT[instance.phase], instance)

    @property
    def ok(self) -> bool:
        return self.verdict in (Verdict.SUBMITTED, Verdict.SUCCEEDED, Verdict.SKIPPED)

    @property
    def instance_id(self) -> str | None:
        if self.instance is not None:
            return self.instance.id
        return self.submission.instance_id if self.submission else None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return int(self.error.exit_code)
        if self.instance is None or self.verdict in (Verdict.SUBMITTED, Verdict.SKIPPED):
            return int(JobExit.OK)
        if self.verdict is Verdict.NOT_FINISHED:
            return int(JobExit.NOT_FINISHED)
        return int(PHASE_EXIT[self.instance.phase])

    def to_dict(self) -> JsonDict:
        """Plain data for ``--format json``."""
        job_id = (self.instance.job_id if self.instance else "") or (
            self.submission.job_id if self.submission else None)
        return {
            "label": self.label, "verdict": self.verdict.value, "exit_code": self.exit_code,
            "job_id": job_id or None, "instance_id": self.instance_id,
            "instance": self.instance.to_dict() if self.instance else None,
            "error": str(self.error) if self.error else None,
        }


# -- progress events, passed to the caller's ``on_event`` -------------------------------


@dataclass(frozen=True)
class SlotWait:
    """Alma refused to start the job for a threshold; the engine retries after ``delay``."""

    job_id: str
    reason: str
    delay: float


@dataclass(frozen=True)
class Submitted:
    submission: Submission


@dataclass(frozen=True)
class Update:
    """A poll showed something new: the status (``status_changed``), the percent, or alerts
    (``new_alerts``)."""

    instance: Instance
    status_changed: bool
    new_alerts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Starting:
    """post_apply: job ``index`` of ``total`` starts."""

    index: int
    total: int
    label: str


@dataclass(frozen=True)
class Skipped:
    """post_apply: a job was not run because an earlier one did not succeed."""

    label: str
    reason: str


JobEvent = SlotWait | Submitted | Update | Starting | Skipped
