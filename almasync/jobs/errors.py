"""Errors a user can cause with jobs, each with its exit code.

"Nothing ran" problems (an unknown job, a job Alma will not accept, a missing set or
profile job, an unknown instance) exit 3, the code for invalid input. Alma's execution
thresholds exit 4 with the quota family. A lost connection during submission exits 4 and
says that the job may or may not have started.
"""

from __future__ import annotations

from almasync.errors import AlmaError, AlmasyncError, AlmaUnavailable, ExitCode

THRESHOLD_CODES = frozenset({"402222", "402223"})
#: Alma's two limits on starting jobs through the API. The spec lists both codes as
#: "execution threshold reached" without saying which code is which limit, so messages
#: name both limits and never pair a code with one of them.
LIMITS = ("Alma starts a job through the API only while at most 3 jobs started through "
          "the API are running and the job was started at most 5 times in the past hour; "
          "it does not say which of the two was reached")

UNKNOWN_JOB_CODES = frozenset({"402215", "402216"})
UNKNOWN_INSTANCE_CODE = "402218"

_UNKNOWN_JOB = {
    "402215": "is not a job id (job ids look like M26714670000011; `almasync jobs list` "
              "shows them)",
    "402216": "is not a job of this institution (`almasync jobs list` shows its jobs)",
}
_REFUSALS = {
    "402228": "needs a parameter that was not given (pass it with --param NAME=VALUE; the "
              "job's \"API Information\" in Alma's Monitor Jobs page lists them)",
    "402229": "needs a parameter whose value was given empty",
    "402231": "has more than one task, which Alma cannot run through the API",
    "402248": "is a scheduled job that Alma does not allow to be started through the API",
    "402249": "is a scheduled job of a category Alma does not allow to be started through "
              "the API",
    "60347": "overlaps with a run of it that is still in progress; wait for that run to end",
}


def _alma_detail(error: AlmaError) -> str:
    tracking = f", trackingId {error.tracking_id}" if error.tracking_id else ""
    return f"Alma {error.code}: {error.alma_message.rstrip('.')}{tracking}"


class JobInputError(AlmasyncError):
    """The request names something that does not exist or cannot run; nothing ran."""

    exit_code = ExitCode.INVALID_CONFIG


class UnknownJob(JobInputError):
    """Alma does not know the job id (402215 bad format, 402216 no such job)."""

    def __init__(self, job_id: str, error: AlmaError, *, submitting: bool) -> None:
        self.job_id = job_id
        self.alma = error
        reason = _UNKNOWN_JOB.get(error.code, "is not known to Alma")
        nothing = "; nothing was started" if submitting else ""
        super().__init__(f"job {job_id!r} {reason} ({_alma_detail(error)}){nothing}")


class JobRefused(JobInputError):
    """Alma refused to start a job for a reason retrying will not fix."""

    def __init__(self, job_id: str, error: AlmaError) -> None:
        self.job_id = job_id
        self.alma = error
        reason = _REFUSALS.get(error.code, "was refused")
        super().__init__(f"job {job_id!r} {reason} ({_alma_detail(error)}); nothing was "
                         "started")


class InstanceNotFound(JobInputError):
    """Alma does not know the instance (402218)."""

    def __init__(self, job_id: str, instance_id: str, error: AlmaError) -> None:
        self.alma = error
        of_job = "" if job_id == "ALL" else f" of job {job_id!r}"
        super().__init__(f"there is no job instance {instance_id!r}{of_job} "
                         f"({_alma_detail(error)})")


class ThresholdReached(AlmasyncError):
    """Alma's execution threshold (402222 or 402223) refused the start; nothing started.

    ``waited`` is how long almasync waited for a slot before giving up (None: it did not).
    """

    exit_code = ExitCode.UNAVAILABLE

    def __init__(self, job_id: str, error: AlmaError, waited: float | None = None) -> None:
        self.job_id = job_id
        self.alma = error
        self.waited = waited
        after = (f" Still refused after waiting {waited:.0f} s for a slot."
                 if waited is not None
                 else " Try again later, or let `almasync jobs run --wait-for-slot` wait "
                      "for a free slot.")
        super().__init__(f"Alma refused to start job {job_id}: execution threshold reached "
                         f"({_alma_detail(error)}). {LIMITS}. Nothing was started.{after}")

    @property
    def reason(self) -> str:
        """Short text for progress lines."""
        return f"execution threshold reached ({self.alma.code})"


class SubmitOutcomeUnknown(AlmaUnavailable):
    """The connection was lost while submitting; the job may or may not have started.

    almasync never resubmits then: a job run twice can do real harm.
    """

    def __init__(self, job_id: str, cause: Exception) -> None:
        self.job_id = job_id
        self.cause = cause
        super().__init__(f"the connection was lost while submitting job {job_id}, before Alma "
                         "answered: it may or may not have started the job, so almasync did "
                         f"not submit it again. Look for a new run of {job_id} in Alma's "
                         "Monitor Jobs page before running it again.")


class FollowInterrupted(AlmasyncError):
    """Following a started instance failed (Alma unreachable, quota spent, ...).

    The job keeps running in Alma; the exit code is that of the underlying error.
    """

    def __init__(self, instance_id: str, cause: AlmasyncError) -> None:
        self.instance_id = instance_id
        self.cause = cause
        self.exit_code = cause.exit_code
        super().__init__(f"stopped following job instance {instance_id}: {cause}. The job "
                         "itself goes on in Alma; follow it again with `almasync jobs status "
                         f"{instance_id} --wait`.")


class NoInstanceLink(AlmasyncError):
    """Alma accepted a job but its answer names no instance (additional_info.link)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"Alma accepted job {job_id} but did not say which instance it "
                         "started; follow it in Alma's Monitor Jobs page")


def classify_submit_error(job_id: str, error: AlmaError) -> AlmasyncError:
    """The job error for an Alma refusal of ``POST /conf/jobs/{id}?op=run``, or ``error``
    itself when the code is not one about the job."""
    if error.code in THRESHOLD_CODES:
        return ThresholdReached(job_id, error)
    if error.code in UNKNOWN_JOB_CODES:
        return UnknownJob(job_id, error, submitting=True)
    if error.code in _REFUSALS:
        return JobRefused(job_id, error)
    return error
