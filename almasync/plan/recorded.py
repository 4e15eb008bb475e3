"""The settings a saved plan records, and how they meet an ``almasync.yaml`` where it is
applied.

A saved plan carries what was in force when it was made: the environment (its name, type,
gateway URL and the *name* of the variable that holds its key, never the key), the safety
rules for that environment, the prune scope and the ``post_apply`` jobs. ``apply PLAN.json``
uses them wherever it runs. Where an ``almasync.yaml`` is found as well, every rule takes the
stricter of the two (:func:`stricter`), and what was used is said in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from almasync.config.settings import Caps, Environment, PostApplyJob, Safety, Settings
from almasync.errors import ConfigError, EnvironmentMismatch
from almasync.kinds import HANDLERS
from almasync.model import Kind
from almasync.plan.changes import Action
from almasync.plan.plan import Plan

_CAPS = tuple(Caps.model_fields)


def record(settings: Settings, env_name: str | None) -> dict[str, Any]:
    """The ``settings`` block of a plan made with ``settings`` and ``--env env_name``."""
    env = settings.environments.get(env_name) if env_name else None
    safety = settings.safety.for_environment(env_name)
    return {
        "environment": None if env is None else
        {"name": env_name, **env.model_dump(exclude_none=True)},
        "safety": safety.model_dump(exclude={"environments"}, exclude_none=True,
                                    exclude_defaults=True),
        "prune": dict(sorted(settings.prune.items())),
        "post_apply": [job.model_dump(exclude_defaults=True) for job in settings.post_apply],
    }


@dataclass(frozen=True)
class Recorded:
    """A plan's recorded settings, as :class:`Settings` again, with its environment name."""

    settings: Settings
    env_name: str | None = None

    @classmethod
    def of(cls, plan: Plan) -> Recorded:
        data = plan.settings
        if not data:
            raise ConfigError("the plan file records no settings; make the plan again with "
                              "this version")
        env = data.get("environment")
        try:
            environments = {} if not env else {
                str(env["name"]): Environment(**{k: v for k, v in env.items() if k != "name"})}
            settings = Settings(environments=environments, prune=data.get("prune", {}),
                                safety=Safety(**data.get("safety", {})),
                                post_apply=[PostApplyJob(**job)
                                            for job in data.get("post_apply", [])])
        except (ValidationError, KeyError, TypeError) as exc:
            raise ConfigError(f"the plan file's settings are damaged: {exc}") from None
        return cls(settings, str(env["name"]) if env else None)

    def describe(self) -> str:
        env = self.settings.environments.get(self.env_name or "")
        where = (f"environment {self.env_name}"
                 + (f", {env.environment_type}" if env and env.environment_type else "")
                 if env else "no environment")
        jobs = len(self.settings.post_apply)
        return (f"{where}; safety rules, prune scope and {jobs} post_apply "
                f"job{'s' if jobs != 1 else ''} as recorded")


@dataclass(frozen=True)
class Merged:
    """The settings an apply of a saved plan uses, and each rule where the local
    ``almasync.yaml`` was stricter than the plan (as ``name: local (plan: recorded)``)."""

    settings: Settings
    env_name: str | None
    stricter: tuple[str, ...] = field(default=())


def stricter(recorded: Recorded, local: Settings) -> Merged:
    """Combine a plan's settings with a local ``almasync.yaml``: the stricter cap, the union
    of protected keys, the narrower prune scope, and the environment type both declare.
    ``post_apply`` jobs are the plan's (they were reviewed with it)."""
    notes: list[str] = []
    plan_safety = recorded.settings.safety
    local_safety = local.safety.for_environment(recorded.env_name)
    caps = _min_caps(plan_safety, local_safety, "safety.", notes)
    kinds = {name: _min_caps(plan_safety.kinds.get(name, Caps()),
                             local_safety.kinds.get(name, Caps()),
                             f"safety.kinds.{name}.", notes)
             for name in sorted({*plan_safety.kinds, *local_safety.kinds})}
    protected = {name: sorted({*plan_safety.protected.get(name, []),
                               *local_safety.protected.get(name, [])})
                 for name in sorted({*plan_safety.protected, *local_safety.protected})}
    for name, keys in protected.items():
        extra = sorted(set(keys) - set(plan_safety.protected.get(name, [])))
        if extra:
            notes.append(f"safety.protected.{name} adds {', '.join(extra)}")
    safety = Safety(**caps.model_dump(), kinds=kinds, protected=protected)
    prune = _narrower_prune(recorded.settings.prune, local.prune, notes)
    environments = dict(recorded.settings.environments)
    _environment_type(recorded, local, environments, notes)
    settings = Settings(environments=environments, prune=prune, safety=safety,
                        post_apply=list(recorded.settings.post_apply))
    return Merged(settings, recorded.env_name, tuple(notes))


def _min_caps(plan: Caps, local: Caps, prefix: str, notes: list[str]) -> Caps:
    chosen: dict[str, Any] = {}
    for name in _CAPS:
        ours, theirs = getattr(plan, name), getattr(local, name)
        if theirs is not None and (ours is None or theirs < ours):
            notes.append(f"{prefix}{name}: {theirs:g} (plan: "
                         f"{'none' if ours is None else format(ours, 'g')})")
            chosen[name] = theirs
        else:
            chosen[name] = ours
    return Caps(**chosen)


def _narrower_prune(plan: Mapping[str, bool | list[str]], local: Mapping[str, bool | list[str]],
                    notes: list[str]) -> dict[str, bool | list[str]]:
    """Per kind: nothing beats a scope, a scope beats everything, two scopes intersect. A
    kind a local file does not prune is not pruned (when a local file is present)."""
    merged: dict[str, bool | list[str]] = {}
    for name in sorted({*plan, *local}):
        ours, theirs = plan.get(name, False), local.get(name, False)
        if ours is True:
            rule = theirs
        elif theirs is True or ours is False:
            rule = ours
        else:
            rule = sorted(set(ours) & set(theirs or []))
        if rule != ours:
            notes.append(f"prune.{name}: {_prune_text(rule)} (plan: {_prune_text(ours)})")
        if rule:
            merged[name] = rule
    return merged


def _prune_text(rule: bool | list[str]) -> str:
    return ("true" if rule else "nothing") if isinstance(rule, bool) else f"[{', '.join(rule)}]"


def _environment_type(recorded: Recorded, local: Settings, environments: dict[str, Environment],
                      notes: list[str]) -> None:
    name = recorded.env_name
    if not name or name not in local.environments:
        return
    ours = environments[name].environment_type if name in environments else None
    theirs = local.environments[name].environment_type
    if theirs and ours and theirs != ours:
        raise EnvironmentMismatch(
            f"the plan was made for environment {name} of type {ours}, but the "
            f"almasync.yaml here declares it {theirs}; nothing was applied")
    if theirs and not ours and name in environments:
        environments[name] = environments[name].model_copy(
            update={"environment_type": theirs})
        notes.append(f"environments.{name}.environment_type: {theirs} (plan: none)")


def outside_prune(plan: Plan, settings: Settings) -> list[str]:
    """The deletes of ``plan`` that the prune scope of ``settings`` does not allow, as
    sentences (a stricter local scope blocks them, exit 5)."""
    found = []
    for change in plan.of(Action.DELETE):
        rule = settings.prune_rule(change.kind)
        if not HANDLERS[change.kind].prunable(change.key, rule):
            found.append(f"{change.name} is outside the prune scope in force "
                         f"(prune.{Kind(change.kind).config_key}) and is not deleted")
    return found
