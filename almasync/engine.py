"""read live -> plan, stale checks and the environment guard. No printing, no click: the CLI
passes callbacks for progress. Applying a plan is in :mod:`almasync.apply`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from almasync.alma.client import AlmaClient
from almasync.config.loader import DesiredState
from almasync.config.validation import did_you_mean
from almasync.errors import ConfigError, Problem, UsageError
from almasync.identity import Identity as Identity  # engine.identify(client), re-exported
from almasync.identity import check_environment_type
from almasync.identity import identify as identify
from almasync.kinds import HANDLERS, ORDER, rank
from almasync.kinds.base import KindHandler, LiveQuery
from almasync.kinds.readonly.refs import live_reference_problems, reference_problems
from almasync.kinds.references import References
from almasync.model import Fields, Key, Kind, format_key, parse_key
from almasync.plan.changes import Action, Change, order_key
from almasync.plan.differ import diff_kind, fingerprint, unmanaged
from almasync.plan.plan import Plan

LiveState = Mapping[Kind, Mapping[Key, Fields]]


@dataclass(frozen=True)
class Target:
    """``--target KIND[:KEY]``: limit a plan to one kind, or one resource of it."""

    kind: Kind
    key: Key | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        name, _, key = text.partition(":")
        handler = next((h for h in ORDER if name in (h.kind.value, h.kind.config_key)), None)
        if handler is None:
            known = [h.kind.config_key for h in ORDER]
            raise UsageError(f"--target {text!r}: unknown kind {name!r}"
                             f"{did_you_mean(name, known)}; known kinds: {', '.join(known)}")
        try:
            return cls(handler.kind, parse_key(key) if key else None)
        except ValueError as exc:
            raise UsageError(f"--target: {exc}; a key part holding / or : goes in double "
                             'quotes, e.g. sets:"New acquisitions 2025/26"') from None

    def __str__(self) -> str:
        return self.kind.config_key + (f":{format_key(self.key)}" if self.key else "")

    def admits(self, kind: Kind, key: Key) -> bool:
        return kind is self.kind and (self.key is None or key == self.key)


def unmatched(targets: Iterable[Target], desired: DesiredState,
              live: LiveState) -> list[Target]:
    """The targets that name no resource declared in the files or read from Alma: a plan
    limited to them is empty because of the target, not because nothing differs."""
    return [t for t in targets
            if not any(t.admits(t.kind, key)
                       for key in (*desired.of(t.kind), *live.get(t.kind, {})))]


def kinds_to_read(desired: DesiredState, everything: bool,
                  only: Iterable[Kind] | None = None,
                  also: Mapping[Kind, object] | None = None) -> list[KindHandler]:
    """Handlers, in dependency order, for the kinds a run has to look at."""
    wanted = set(only) if only is not None else None
    return [h for h in ORDER
            if (wanted is None or h.kind in wanted)
            and (everything or desired.of(h.kind) or desired.settings.prune_rule(h.kind)
                 or (also or {}).get(h.kind))]


def read_live(client: AlmaClient, desired: DesiredState, *, everything: bool = False,
              detail: bool = False, only: Iterable[Kind] | None = None,
              on_kind: Callable[[Kind], None] | None = None,
              also: Mapping[Kind, Mapping[Key, frozenset[str]]] | None = None,
              check_settings: bool = True) -> LiveState:
    """Read what the plan needs from Alma. References are checked first: a declared
    resource that refers to something Alma lacks is a :class:`ConfigError` with its mark.

    ``also`` names resources to read though no file declares them (key -> fields), e.g. the
    delete candidates of ``plan --changed-since``; ``check_settings`` false skips the
    checks of ``almasync.yaml`` against Alma (its ``post_apply`` profiles)."""
    refs = References(client)
    also = also or {}
    handlers = kinds_to_read(desired, everything, only, also)
    checked = client.map(lambda h: h.check_references(desired.of(h.kind), refs), handlers)
    problems = [problem for found in checked for problem in found]
    problems += reference_problems(desired, {h.kind for h in handlers}, refs, check_settings)
    if problems:
        raise ConfigError(problems)

    def read(handler: KindHandler) -> tuple[Kind, Mapping[Key, Fields] | ConfigError]:
        if on_kind:
            on_kind(handler.kind)
        wanted = {**also.get(handler.kind, {}),
                  **{key: frozenset(r.fields) for key, r in desired.of(handler.kind).items()}}
        query = LiveQuery(wanted, desired.settings.prune_rule(handler.kind), everything, detail,
                          desired.of(handler.kind))
        try:
            return handler.kind, handler.read_live(client, query, refs)
        except ConfigError as found:  # reported with every other kind's, below
            return handler.kind, found

    # Kinds are independent reads: run them side by side (each also spreads its own reads
    # over the client's workers); the client's one rate limiter keeps the total in bounds.
    # What a kind finds wrong in Alma does not stop the others: one run reports it all.
    read_all = client.map(read, handlers)
    problems = [problem for _, found in read_all if isinstance(found, ConfigError)
                for problem in found.problems]
    if problems:
        raise ConfigError(problems)
    live = {kind: found for kind, found in read_all if not isinstance(found, ConfigError)}
    problems = live_reference_problems(desired, live, refs)
    if problems:
        raise ConfigError(problems)
    return live


def make_plan(desired: DesiredState, live: LiveState, *, targets: Iterable[Target] = (),
              target_info: Mapping[str, str] | None = None) -> Plan:
    """Diff every kind that was read, order the changes, keep the targeted ones."""
    targets = list(targets)
    changes: list[Change] = []
    alma_only: list[Change] = []  # read-only kinds: shown, never written
    strays: list[tuple[Kind, Key]] = []
    for kind, live_kind in live.items():
        handler = HANDLERS[kind]
        found = diff_kind(handler, desired.of(kind), live_kind,
                          desired.settings.prune_rule(kind))
        (alma_only if handler.read_only else changes).extend(found)
        deleted = {c.key for c in found if c.action is Action.DELETE}
        strays.extend((kind, key) for key in unmanaged(desired.of(kind), live_kind)
                      if key not in deleted and not handler.is_default(key, live_kind[key]))
    if targets:
        changes = [c for c in changes if any(t.admits(c.kind, c.key) for t in targets)]
        alma_only = [c for c in alma_only if any(t.admits(c.kind, c.key) for t in targets)]
    changes.sort(key=lambda c: order_key(c, rank(c.kind)))
    alma_only.sort(key=lambda c: order_key(c, rank(c.kind)))
    counts = {kind: len(resources) for kind, resources in live.items()}
    return Plan(tuple(changes), tuple(sorted(strays, key=lambda s: (rank(s[0]), s[1]))),
                counts, dict(target_info or {}), alma_only=tuple(alma_only))


def read_touched(client: AlmaClient, plan: Plan) -> dict[Kind, Mapping[Key, Fields]]:
    """Re-read, in full, every live resource the plan's changes touch."""
    refs = References(client)
    by_kind: dict[Kind, list[Change]] = {}
    for change in plan.changes:
        by_kind.setdefault(change.kind, []).append(change)

    def read(item: tuple[Kind, list[Change]]) -> tuple[Kind, Mapping[Key, Fields]]:
        kind, changes = item
        handler = HANDLERS[kind]
        every_field = frozenset(handler.model.model_fields)
        wanted = {c.key: every_field | frozenset(c.after or {}) for c in changes}
        return kind, handler.read_live(client, LiveQuery(wanted), refs)

    # Kinds side by side, as a plan reads them; the client's one rate limit holds for all.
    return dict(client.map(read, sorted(by_kind.items(), key=lambda item: rank(item[0]))))


def find_stale(plan: Plan, touched: Mapping[Kind, Mapping[Key, Fields]]) -> list[str]:
    """Describe each change whose resource changed since the plan was made: a create whose
    resource now exists, an update or delete whose live state differs from what the plan
    recorded. Empty means the plan may be applied as saved."""
    stale: list[str] = []
    for change in plan.changes:
        current = touched.get(change.kind, {}).get(change.key)
        if change.action is Action.CREATE:
            if current is not None:
                stale.append(f"{change.name} was created in Alma since the plan was made")
        elif current is None:
            stale.append(f"{change.name} no longer exists in Alma")
        elif recorded_view(change, current) != change.fingerprint:
            stale.append(f"{change.name} changed in Alma since the plan was made")
    return stale


def recorded_view(change: Change, current: Fields) -> str | None:
    """Fingerprint of ``current`` seen the way the plan recorded it (``change.before``)."""
    if change.action is Action.UPDATE:
        return fingerprint(HANDLERS[change.kind].comparable(change.after or {}, current)[1])
    return fingerprint({name: current.get(name) for name in change.before or {}})


def check_ready(plan: Plan) -> None:
    """Stop before any write when a change cannot be written: the kind cannot be written
    that way (a saved plan that creates a letter), or a secret's variable is unset."""
    problems = [Problem(change.mark, f"{change.name}: Alma has no way to "
                        f"{change.action.value} it through the API")
                for change in plan.changes
                if not HANDLERS[change.kind].capabilities.allows(change.action.value)]
    problems += [Problem(change.mark, f"{change.name}: {reason}; set it before applying")
                 for change in plan.changes if change.after is not None
                 for reason in HANDLERS[change.kind].unready(change.after)]
    if problems:
        raise ConfigError(problems)


def check_environment(client: AlmaClient, expected: str | None) -> None:
    """Stop before any write when the institution is not the declared environment type."""
    if expected:
        check_environment_type(identify(client), expected)

