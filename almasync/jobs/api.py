"""The Jobs API calls (``/conf/jobs``), one function each, with Alma's errors translated.

Every function takes the client; none keeps state. Only :func:`submit_once` writes, and it
sends exactly one POST: it is not idempotent, so nothing here ever repeats it.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from almasync.alma.client import AlmaClient, WriteOutcomeUnknown
from almasync.errors import AlmaError
from almasync.jobs.errors import (
    UNKNOWN_INSTANCE_CODE,
    UNKNOWN_JOB_CODES,
    InstanceNotFound,
    JobInputError,
    NoInstanceLink,
    SubmitOutcomeUnknown,
    UnknownJob,
    classify_submit_error,
)
from almasync.jobs.model import Instance, JobSummary, JsonDict, Submission, value_of
from almasync.jobs.params import params_body

JOB_TYPES = ("MANUAL", "SCHEDULED", "OTHER")
ALL_JOBS = "ALL"


def _seg(text: str) -> str:
    """One path segment: an id from the command line must not reach another path."""
    return quote(text, safe="")


def list_jobs(client: AlmaClient, job_type: str | None = None,
              profile_id: str | None = None) -> list[JobSummary]:
    """Every job (``GET /conf/jobs``, all pages), sorted by id; ``job_type`` is one of
    :data:`JOB_TYPES`."""
    params: dict[str, str] = {}
    if job_type:
        params["type"] = job_type.upper()
    if profile_id:
        params["profile_id"] = profile_id
    found = client.get_list("/conf/jobs", "job", params, paged=True)
    return sorted((JobSummary.from_json(entry) for entry in found), key=lambda j: j.id)


class NoProfileJob(JobInputError):
    def __init__(self, profile_id: str) -> None:
        super().__init__(f"--profile-id {profile_id!r}: no scheduled job belongs to this "
                         "import or integration profile (GET /conf/jobs?type=SCHEDULED"
                         f"&profile_id={profile_id} found none); check the profile id in "
                         "Alma, or run the job by its id")


class SeveralProfileJobs(JobInputError):
    def __init__(self, profile_id: str, ids: list[str]) -> None:
        super().__init__(f"--profile-id {profile_id!r}: {len(ids)} scheduled jobs belong to "
                         f"this profile ({', '.join(ids)}); run the one you mean by its id")


def find_profile_job(client: AlmaClient, profile_id: str) -> JobSummary:
    """The one scheduled job of an import or integration profile.

    Raises :class:`NoProfileJob` or :class:`SeveralProfileJobs`. A job whose
    ``related_profile`` names another profile is ignored, in case Alma ignores the filter.
    """
    found = [job for job in list_jobs(client, "SCHEDULED", profile_id)
             if job.profile_id in ("", profile_id)]
    if not found:
        raise NoProfileJob(profile_id)
    if len(found) > 1:
        raise SeveralProfileJobs(profile_id, [job.id for job in found])
    return found[0]


def get_instance(client: AlmaClient, instance_id: str, job_id: str = ALL_JOBS) -> Instance:
    """``GET /conf/jobs/{job_id}/instances/{instance_id}``; ``ALL`` finds any job's instance.

    Raises :class:`InstanceNotFound` (402218) or :class:`UnknownJob` (402215/402216).
    """
    path = f"/conf/jobs/{_seg(job_id)}/instances/{_seg(instance_id)}"
    try:
        body = client.get(path)
    except AlmaError as exc:
        if exc.code == UNKNOWN_INSTANCE_CODE:
            raise InstanceNotFound(job_id, instance_id, exc) from exc
        if exc.code in UNKNOWN_JOB_CODES:
            raise UnknownJob(job_id, exc, submitting=False) from exc
        raise
    return Instance.from_json(body or {}, job_id if job_id != ALL_JOBS else "")


def instance_id_from(body: JsonDict) -> str | None:
    """The instance id in a submit answer: the last segment of ``additional_info.link``."""
    info = body.get("additional_info")
    link = info.get("link") if isinstance(info, dict) else None
    if not isinstance(link, str) or not link:
        return None
    segment = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def submit_once(client: AlmaClient, job_id: str, params: Mapping[str, str]) -> Submission:
    """Send one ``POST /conf/jobs/{job_id}?op=run`` and return the instance it started.

    Raises :class:`ThresholdReached` (Alma started nothing; safe to retry),
    :class:`UnknownJob` / :class:`JobRefused` (nothing started), :class:`SubmitOutcomeUnknown`
    (the connection broke mid-call: the job may have started; never retry), or the
    client's other errors.
    """
    try:
        body = client.post(f"/conf/jobs/{_seg(job_id)}", params_body(params), {"op": "run"})
    except WriteOutcomeUnknown as exc:
        raise SubmitOutcomeUnknown(job_id, exc) from exc
    except AlmaError as exc:
        error = classify_submit_error(job_id, exc)
        if error is exc:
            raise
        raise error from exc
    body = body or {}
    instance_id = instance_id_from(body)
    if instance_id is None:
        raise NoInstanceLink(job_id)
    return Submission(job_id, value_of(body.get("name")) or job_id, instance_id)
