"""What a run costs in API calls: the estimate ``plan`` prints, ``apply --max-calls`` and the
daily-quota check use, and the Markdown plan's footer.

The accounting is what ``apply`` makes (see docs/calls.md): the reads of the plan it makes
first, all under one memory of GETs (``AlmaClient.memo``); the write-access probe
(``POST /conf/test``); per update the read of the current object (the plan's own when it
read the whole resource), the PUT, and one read-back of what was written, which is what
notices another writer overwriting it; per create the POST (its answer shows what Alma
stored, and nobody else can have written over a resource they did not know of); per delete
the DELETE.
"""

from __future__ import annotations

from dataclasses import dataclass

from almasync.errors import OverBudget, QuotaTooLow
from almasync.plan.plan import Plan

#: ``POST /conf/test`` before the first write.
PROBE = 1


def write_calls(plan: Plan) -> int:
    """The calls of an apply beyond the plan's own reads."""
    if plan.empty:
        return 0
    s = plan.summary
    return PROBE + 3 * s["update"] + s["create"] + s["delete"]


@dataclass(frozen=True)
class Estimate:
    """An apply's calls: ``reads`` to read what the plan touches, then ``writes``."""

    reads: int
    writes: int

    @property
    def calls(self) -> int:
        return self.reads + self.writes

    def seconds(self, rate: float | None) -> float | None:
        """Seconds at ``rate`` calls per second; None when the rate is not limited."""
        return self.calls / rate if rate else None


def for_apply(plan: Plan, reads: int) -> Estimate:
    return Estimate(reads, write_calls(plan))


def line(plan_calls: int, estimate: Estimate, rate: float | None,
         remaining: int | None) -> str:
    """The last line of ``plan``: its calls, the estimate for ``apply``, and the share of
    today's remaining quota when Alma said what remains."""
    seconds = estimate.seconds(rate)
    at = (f"about {seconds:.1f} s at {rate:g} calls/s" if seconds is not None
          else "rate not limited")
    text = f"Calls: plan made {plan_calls}; apply would make about {estimate.calls} ({at})"
    if remaining is not None:
        share = 100.0 * estimate.calls / remaining if remaining else float("inf")
        text += f", {share:.1f}% of the {remaining} calls Alma has left today"
    return text + "."


def check_plan(plan: Plan, reads: int, max_calls: int | None, remaining: int | None, *,
               spent: int) -> None:
    """Refuse the apply of ``plan``, after ``reads`` calls of reading, before anything is
    written: more calls in all than ``--max-calls`` (exit 5), or more calls still to make
    (the estimate less the ``spent`` ones) than the daily quota Alma says is left (exit 4).
    An empty plan writes nothing and is never refused."""
    if plan.empty:
        return
    estimate = for_apply(plan, reads)
    if max_calls is not None and estimate.calls > max_calls:
        raise OverBudget(f"this apply would make about {estimate.calls} calls, more than "
                         f"--max-calls {max_calls}; nothing was written")
    still = max(0, estimate.calls - spent)
    if remaining is not None and still > remaining:
        raise QuotaTooLow(f"this apply would still make about {still} calls but Alma "
                          f"reports {remaining} left today (X-Exl-Api-Remaining); nothing "
                          "was written")
