"""``almasync doctor``: read a sample, check every assumption, optionally record it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from almasync.doctor import captures
from almasync.doctor.assumptions import ASSUMPTIONS, Assumption, Status, Verdict
from almasync.doctor.client import Exchange, RecordingClient
from almasync.doctor.noop import Outcome, check_kind
from almasync.doctor.sample import Samples, capture, read_samples
from almasync.doctor.sanitise import Sanitiser
from almasync.errors import AlmaError
from almasync.kinds import ORDER
from almasync.kinds.references import References

NOOP = "fields replayed in a write"
NOOP_MEANING = ("a write by almasync would change what the file does not declare; do not "
                "apply this kind, and report it")


@dataclass(frozen=True)
class Row:
    kind: str
    assumption: str
    status: Status
    detail: str
    meaning: str
    unverified: bool = False


def check(samples: Samples, environment: str | None = None) -> list[Row]:
    """Every assumption's verdict on ``samples`` (pure: no call to Alma). ``environment``
    is the environment type almasync.yaml declares for the ``--env`` used, if any."""
    rows = [Row(a.kind, a.name, (v := _judged(a, samples)).status, v.detail, a.meaning,
                a.unverified) for a in ASSUMPTIONS]
    return [_declared_environment(row, samples, environment)
            if (row.kind, row.assumption) == ("general", "environment_type") else row
            for row in rows]


def _judged(assumption: Assumption, samples: Samples) -> Verdict:
    """The check's verdict; an answer the check cannot even read contradicts it."""
    try:
        return assumption.check(samples)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        return Verdict(Status.CONTRADICTED, f"an answer has a shape the check cannot read "
                       f"({type(exc).__name__}: {exc})")


def _declared_environment(row: Row, samples: Samples, environment: str | None) -> Row:
    """The institution must also be the environment type almasync.yaml declares."""
    general = samples.get("general")
    if environment is None or row.status is not Status.VERIFIED or general is None:
        return row
    body = general.objects[0][0].body
    actual = body.get("environment_type") if isinstance(body, dict) else None
    actual = actual.get("value") if isinstance(actual, dict) else actual
    if str(actual).upper() == environment.upper():
        return Row(row.kind, row.assumption, row.status,
                   f"{row.detail}, as almasync.yaml declares", row.meaning)
    return Row(row.kind, row.assumption, Status.CONTRADICTED,
               f"almasync.yaml declares {environment}, the institution reports {actual}",
               "apply refuses to write here (exit 5): the key or the URL is the wrong one")


def noop_rows(samples: Samples) -> list[Row]:
    """The no-op write over the sampled objects: the sample, trimmed as ``--record``
    writes it, is replayed on loopback, and each kind's update runs against the replay
    with a client that keeps its writes (see :mod:`almasync.doctor.noop`)."""
    from almasync.alma.retry import RetryPolicy
    from almasync.emulator.replay import NOT_RECORDED, Replay

    rows = []
    with Replay([exchange for _, exchange in capture(samples)]) as replay:
        client = RecordingClient(replay.base_url, replay.api_key, rate_limit=None,
                                 retry=RetryPolicy.never(), workers=1)
        refs = References(client)
        for handler in ORDER:
            kind = handler.kind.config_key
            if kind not in samples or handler.read_only:
                continue
            try:
                outcome = check_kind(client, handler, refs, values=False)
            except AlmaError as exc:
                if exc.code != NOT_RECORDED:
                    raise
                rows.append(Row(kind, NOOP, Status.NOT_SEEN, "the kind reads more than the "
                                f"sample holds ({exc.alma_message})", NOOP_MEANING))
                continue
            except Exception as exc:  # almasync's own code failed on this data
                rows.append(Row(kind, NOOP, Status.CONTRADICTED, "almasync could not read "
                                f"the sample back or build its write ({type(exc).__name__}: "
                                f"{exc})", NOOP_MEANING))
                continue
            verdict = _noop_verdict(outcome)
            rows.append(Row(kind, NOOP, verdict.status, verdict.detail, NOOP_MEANING))
    return rows


def _noop_verdict(outcome: Outcome) -> Verdict:
    if outcome.findings:
        first = outcome.findings[0]
        return Verdict(Status.CONTRADICTED, f"{'/'.join(first.key)}: {first.message}")
    if not outcome.checked:
        return Verdict(Status.NOT_SEEN, "no object to write back")
    writes = (f"{outcome.writes} writes, each the object as read" if outcome.writes
              else "no write needed")
    return Verdict(Status.VERIFIED, f"{outcome.checked} objects declared as read: {writes}")


def examine(client: RecordingClient, environment: str | None = None
            ) -> tuple[Samples, list[Row]]:
    """Read the sample and judge every assumption on it, the no-op write included."""
    samples = read_samples(client)
    rows = check(samples, environment)
    rows += noop_rows(samples)
    order = {h.kind.config_key: i for i, h in enumerate(ORDER)}
    rank = {"general": -3, "api": -2, "libraries": -1}
    rows.sort(key=lambda r: rank.get(r.kind, order.get(r.kind, 99)))
    return samples, rows


def record(samples: Samples, folder: Path, secrets: Sequence[str]) -> list[Path]:
    """Write the sample, sanitised, in the layout the test suite replays."""
    sanitiser = Sanitiser(tuple(secrets))
    clean = []
    for kind, exchange in capture(samples):
        params = {k: sanitiser.text(v) for k, v in exchange.params.items()}
        clean.append((kind, Exchange(exchange.method, sanitiser.text(exchange.path), params,
                                     sanitiser.clean(exchange.body), exchange.status,
                                     dict(exchange.headers))))
    return captures.write(folder, clean)


def exit_status(rows: Sequence[Row]) -> bool:
    """Whether anything was contradicted."""
    return any(row.status is Status.CONTRADICTED for row in rows)


def render_text(rows: Sequence[Row], label: str) -> str:
    width = [max(len(r.kind) for r in rows), max(len(r.assumption) for r in rows),
             len("contradicted")]
    lines = [f"almasync doctor: {label}", "",
             f"{'KIND':<{width[0]}}  {'ASSUMPTION':<{width[1]}}  {'STATUS':<{width[2]}}  "
             "WHAT IT MEANS"]
    for r in rows:
        note = f"{r.detail}. {r.meaning}" if r.status is Status.CONTRADICTED else r.detail
        lines.append(f"{r.kind:<{width[0]}}  {r.assumption:<{width[1]}}  "
                     f"{r.status.value:<{width[2]}}  {note}")
    counts = {s: sum(1 for r in rows if r.status is s) for s in Status}
    lines += ["", f"{len(rows)} assumptions: {counts[Status.VERIFIED]} verified, "
              f"{counts[Status.CONTRADICTED]} contradicted, {counts[Status.NOT_SEEN]} not seen."]
    return "\n".join(lines)


def render_json(rows: Sequence[Row], label: str) -> str:
    data = {"target": label, "contradicted": exit_status(rows),
            "assumptions": [{**asdict(r), "status": r.status.value} for r in rows]}
    return json.dumps(data, indent=2) + "\n"
