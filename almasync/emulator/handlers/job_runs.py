"""Job instances: the lazily computed state machine and the instance sub-resources."""

from __future__ import annotations

import datetime as dt

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.render import JsonDict, paged, seg, vd
from almasync.emulator.store import Record

STEPS = ("QUEUED", "PENDING", "INITIALIZING", "RUNNING", "FINALIZING")
TERMINAL = frozenset(labels.JOB_STATUSES) - set(STEPS) - {"MANUAL_HANDLING_REQUIRED"}
IMPORT_CATEGORIES = frozenset({"MD_IMPORT"})
EVENT_CATEGORIES = frozenset({"SIS", "USERS"})

ALERTS = {
    "COMPLETED_SUCCESS": ("alert_general_success", "The job completed successfully."),
    "COMPLETED_NO_BULKS": (
        "alert_general_success",
        "The job completed; there was nothing to process.",
    ),
    "COMPLETED_WARNING": ("alert_general_warning", "The job completed with warnings."),
    "COMPLETED_FAILED": ("alert_general_error", "The job completed with errors."),
    "FAILED": ("alert_general_failure", "The job failed."),
}


def iso_time(epoch: float) -> str:
    """``2015-04-15T13:07:40.800Z``."""
    stamp = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def instance_state(inst: Record, now: float, step: float) -> tuple[str, int]:
    """(status, progress) of an instance at ``now``."""
    if inst.get("status"):
        status = str(inst["status"])
        return status, 0 if status == "FAILED" or status not in TERMINAL else 100
    elapsed = now - float(inst["submit_time"])
    index = len(STEPS) if step <= 0 else int(elapsed // step)
    if index >= len(STEPS):
        outcome = str(inst.get("outcome", "COMPLETED_SUCCESS"))
        return outcome, 0 if outcome == "FAILED" else 100
    status = STEPS[index]
    if status == "RUNNING":
        return status, min(99, int(100 * (elapsed - 3 * step) / step))
    return status, 100 if status == "FINALIZING" else 0


def _times(inst: Record, status: str, step: float) -> tuple[float | None, float | None, float]:
    """(start, end, status change) times; fixed seed instances use a five-minute run."""
    submit = float(inst["submit_time"])
    if inst.get("status"):
        return submit + 60, (submit + 300 if inst["status"] in TERMINAL else None), submit + 300
    step = max(step, 0.0)
    index = STEPS.index(status) if status in STEPS else len(STEPS)
    start = submit + 2 * step if index >= 2 else None
    end = submit + len(STEPS) * step if status in TERMINAL else None
    return start, end, submit + index * step


def _counters(inst: Record, status: str, progress: int) -> list[JsonDict]:
    total = int(inst.get("records", 120))
    failed = {"COMPLETED_FAILED": 3, "FAILED": total, "COMPLETED_WARNING": 0}.get(status, 0)
    warnings = 2 if status == "COMPLETED_WARNING" else 0
    done = total * progress // 100 if status not in TERMINAL else total - failed
    rows = [
        ("label.total.records", "Total records", total),
        ("label.records.processed", "Records processed", done),
        ("label.records.failed", "Records failed", failed),
        ("label.records.warnings", "Records with warnings", warnings),
    ]
    return [{"type": {"value": v, "desc": d}, "value": str(n)} for v, d, n in rows]


def instance_json(ctx: Ctx, job: Record, inst: Record, now: float) -> JsonDict:
    status, progress = instance_state(inst, now, ctx.job_step_seconds)
    start, end, changed = _times(inst, status, ctx.job_step_seconds)
    body: JsonDict = {
        "id": inst["id"],
        "external_id": inst.get("external_id", ""),
        "name": job.get("name", job["id"]),
        "submitted_by": vd(inst.get("submitted_by", "exl_api"), desc="API, Ex Libris"),
        "submit_time": iso_time(float(inst["submit_time"])),
    }
    if start is not None:
        body["start_time"] = iso_time(start)
    if end is not None:
        body["end_time"] = iso_time(end)
    body["progress"] = progress
    body["status"] = vd(status, labels.JOB_STATUSES)
    body["status_date"] = iso_time(changed)[:10] + "Z"
    if status in ALERTS:
        value, desc = ALERTS[status]
        body["alert"] = [{"value": value, "desc": desc}]
    body["counter"] = _counters(inst, status, progress)
    body["job_info"] = {
        "id": job["id"],
        "name": job.get("name", job["id"]),
        "description": job.get("description", ""),
        "type": vd(job["type"], labels.JOB_TYPES),
        "category": vd(job.get("category", ""), labels.JOB_CATEGORIES),
        "link": ctx.link(f"/conf/jobs/{seg(job['id'])}"),
    }
    body["link"] = ctx.link(f"/conf/jobs/{seg(job['id'])}/instances/{inst['id']}")
    return body


def _events(ctx: Ctx, job: Record, inst: Record) -> Reply:
    if job.get("category") not in EVENT_CATEGORIES:
        raise AlmaError(
            "60332", "This service will only work for the job category and type of USERS/SIS."
        )
    status, _ = instance_state(inst, ctx.clock(), ctx.job_step_seconds)
    rejected = 3 if status in ("COMPLETED_FAILED", "COMPLETED_WARNING") else 0
    items = [
        {
            "event_type": vd("USER_REJECTED", desc="User record rejected"),
            "description": f"Record {n + 1}: mandatory field primary_id is missing.",
            "user_primary_id": f"SIS{inst['id'][-4:]}{n + 1:03d}",
        }
        for n in range(rejected)
    ]
    return Reply(paged("event", items, ctx.args), root="events")


def _matches(ctx: Ctx, job: Record, inst: Record) -> Reply:
    population = ctx.arg("population")
    if population not in ("SINGLE_MATCHES", "MULTI_MATCHES"):
        raise AlmaError("40166410", f"Population value is invalid: {population!r}.")
    if job.get("category") not in IMPORT_CATEGORIES:
        raise AlmaError("402119", "General error: match details exist only for import jobs.")
    count = 2 if population == "SINGLE_MATCHES" else 1
    items = [
        {
            "incoming_record_id": f"{inst['id'][-6:]}-{n + 1}",
            "matched_record": [
                {"mms_id": f"99{1000 + n}{k}"} for k in range(1 if count == 2 else 2)
            ],
        }
        for n in range(count)
    ]
    return Reply(paged("match", items, ctx.args), root="matches")


def _download(ctx: Ctx, job: Record, inst: Record) -> Reply:
    if job.get("category") not in IMPORT_CATEGORIES:
        raise AlmaError("402119", "General error: only metadata import instances have a file.")
    fmt = ctx.arg("download_format", "XML").upper()
    if fmt not in ("XML", "BINARY"):
        raise AlmaError("40166410", f"Parameter value invalid: download_format={fmt}.")
    if fmt == "BINARY":
        record = b"00026nam a2200025 a 4500\x1e\x1d"
        return Reply(raw=record, content_type="application/octet-stream")
    marc = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<collection xmlns="http://www.loc.gov/MARC21/slim"><record>'
        "<leader>00000nam a2200000 a 4500</leader>"
        f'<controlfield tag="001">{inst["id"]}</controlfield>'
        "</record></collection>"
    )
    return Reply(raw=marc.encode("utf-8"), content_type="application/xml;charset=UTF-8")


def matches_and_events(ctx: Ctx, kind: str, job: Record, inst: Record) -> Reply:
    if kind == "events":
        return _events(ctx, job, inst)
    if kind == "matches":
        return _matches(ctx, job, inst)
    return _download(ctx, job, inst)
