"""Safety rules: the plan decides whether it may run, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

from almasync.config.settings import Caps, Safety
from almasync.model import Key, Kind, parse_key
from almasync.plan.changes import Action
from almasync.plan.plan import Plan


@dataclass(frozen=True)
class Verdict:
    """What blocks a plan: ``caps`` can be lifted with ``--force``, ``protected`` cannot."""

    caps: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()

    def blocking(self, force: bool) -> tuple[str, ...]:
        return self.protected if force else self.protected + self.caps


def judge(plan: Plan, safety: Safety) -> Verdict:
    """Every rule the plan breaks, as sentences."""
    caps = _total(plan, safety)
    for kind in sorted({c.kind for c in plan.changes}, key=lambda k: k.value):
        own = safety.kinds.get(kind.config_key, Caps())
        # Absolute caps of the whole plan are checked once above; a kind's own absolute
        # caps apply to it alone. Percentages are per kind by nature: a kind's own wins.
        percent = Caps(max_delete_percent=safety.max_delete_percent,
                       max_update_percent=safety.max_update_percent)
        caps += _per_kind(plan, kind, percent.over(own))
    protected = tuple(
        f"{change.name} is protected (safety.protected.{change.kind.config_key}) and is "
        "never deleted"
        for change in plan.of(Action.DELETE)
        if _listed(change.key, safety.protected.get(change.kind.config_key, [])))
    return Verdict(tuple(caps), protected)


def _listed(key: Key, entries: list[str]) -> bool:
    """Whether ``key`` is among the protected ``entries``: written as :func:`format_key`
    writes keys, or as its parts joined by ``/`` unquoted (a protected entry is never lost
    to a quoting mistake)."""
    for entry in entries:
        try:
            if parse_key(entry) == key:
                return True
        except ValueError:
            pass
        if entry == "/".join(key):
            return True
    return False


def _total(plan: Plan, caps: Caps) -> list[str]:
    found = []
    for action, cap in ((Action.DELETE, caps.max_deletes), (Action.UPDATE, caps.max_updates)):
        count = len(plan.of(action))
        if cap is not None and count > cap:
            found.append(f"{count} {action.value}s exceed safety.max_{action.value}s ({cap})")
    return found


def _per_kind(plan: Plan, kind: Kind, caps: Caps) -> list[str]:
    found = []
    live = plan.live_counts.get(kind, 0)
    limits = ((Action.DELETE, caps.max_deletes, caps.max_delete_percent),
              (Action.UPDATE, caps.max_updates, caps.max_update_percent))
    for action, cap, percent_cap in limits:
        count = sum(1 for c in plan.of(action) if c.kind is kind)
        if not count:
            continue
        if cap is not None and count > cap:
            found.append(f"{count} {action.value}s of {kind.config_key} exceed "
                         f"safety.kinds.{kind.config_key}.max_{action.value}s ({cap})")
        percent = 100.0 * count / live if live else 100.0
        if percent_cap is not None and percent > percent_cap:
            found.append(f"{action.value} of {count} of {live} live {kind.config_key} "
                         f"({percent:.0f}%) exceeds safety.max_{action.value}_percent "
                         f"({percent_cap:g}%)")
    return found
