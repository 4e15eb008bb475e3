"""Safety rules: the plan decides whether it may run, before anything is written."""

from __future__ import annotations

from collections import Counter

from almasync.config.settings import Safety
from almasync.plan.changes import Action
from almasync.plan.plan import Plan


def violations(plan: Plan, safety: Safety) -> list[str]:
    """Every safety rule the plan breaks, as sentences; empty when it may run."""
    deletes = plan.of(Action.DELETE)
    found = []
    if safety.max_deletes is not None and len(deletes) > safety.max_deletes:
        found.append(f"{len(deletes)} deletes exceed safety.max_deletes ({safety.max_deletes})")
    if safety.max_delete_percent is not None:
        for kind, count in sorted(Counter(c.kind for c in deletes).items(),
                                  key=lambda item: item[0].value):
            live = plan.live_counts.get(kind, 0)
            percent = 100.0 * count / live if live else 100.0
            if percent > safety.max_delete_percent:
                found.append(f"deleting {count} of {live} live {kind.value} resources "
                             f"({percent:.0f}%) exceeds safety.max_delete_percent "
                             f"({safety.max_delete_percent:g}%)")
    return found
