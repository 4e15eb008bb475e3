"""``almasync.yaml``: environments, prune scope, safety rules."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from almasync.model import Kind

SETTINGS_FILE = "almasync.yaml"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KIND_KEYS = {kind.config_key for kind in Kind}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Environment(_Strict):
    """Where one Alma institution is, and which environment variable holds its key."""

    api_url: str
    api_key_env: str = "ALMA_API_KEY"
    environment_type: Literal["SANDBOX", "PRODUCTION"] | None = None
    rate_limit: float | None = Field(default=None, gt=0,
                                     description="ceiling of calls per second (default 25)")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError("must be the name of an environment variable, not a key")
        return value


class Caps(_Strict):
    """Limits on how much one apply may change; absolute caps protect small kinds that a
    percentage misses, percentages protect big ones."""

    max_deletes: int | None = Field(default=None, ge=0)
    max_delete_percent: float | None = Field(default=None, ge=0, le=100)
    max_updates: int | None = Field(default=None, ge=0)
    max_update_percent: float | None = Field(default=None, ge=0, le=100)

    def over(self, other: Caps) -> Caps:
        """These caps, with every cap ``other`` sets taking precedence."""
        return self.model_copy(update=other.model_dump(exclude_none=True))


class Safety(Caps):
    """``safety:``: caps for the whole plan, per kind and per environment, and keys that
    are never deleted. ``--force`` lifts the caps, never the protection."""

    kinds: dict[str, Caps] = Field(default_factory=dict,
                                   description="caps for one kind (e.g. code_tables)")
    environments: dict[str, Safety] = Field(default_factory=dict,
                                            description="rules for one --env environment")
    protected: dict[str, list[str]] = Field(
        default_factory=dict, description="kind -> keys never deleted, e.g. MAIN/STACKS")

    @field_validator("kinds", "protected")
    @classmethod
    def _known_kind_keys(cls, value: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(value) - _KIND_KEYS)
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r}; known: {', '.join(sorted(_KIND_KEYS))}")
        return value

    def for_environment(self, name: str | None) -> Safety:
        """The rules in force for ``--env name`` (the environment's entries win)."""
        extra = self.environments.get(name or "")
        if extra is None:
            return self
        kinds = {**self.kinds, **extra.kinds}
        protected = {k: sorted(set(self.protected.get(k, [])) | set(extra.protected.get(k, [])))
                     for k in {*self.protected, *extra.protected}}
        caps = Caps.over(self, extra)
        return Safety(**caps.model_dump(include=set(Caps.model_fields)), kinds=kinds,
                      protected=protected)


class PostApplyJob(_Strict):
    """A job to run after a successful apply (``post_apply:`` in almasync.yaml)."""

    job_id: str | None = Field(default=None, description="e.g. M26714670000011")
    profile_id: str | None = Field(default=None, description="run the scheduled job of "
                                   "this import or integration profile")
    params: dict[str, str] = Field(default_factory=dict)
    set: str | None = Field(default=None, description="set name, passed as set_id")
    wait: bool = True
    timeout: float = Field(default=3600, gt=0, description="seconds to wait for the end")

    @field_validator("params", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        # Alma job parameters are text; `limit: 5` or `dry_run: true` in YAML mean the same.
        if isinstance(value, dict):
            return {k: (str(v).lower() if isinstance(v, bool) else str(v))
                    if isinstance(v, bool | int | float) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one_job(self) -> PostApplyJob:
        if (self.job_id is None) == (self.profile_id is None):
            raise ValueError("give exactly one of job_id and profile_id")
        if self.set is not None and "set_id" in self.params:
            raise ValueError("give the set either as `set` (a name) or as params.set_id")
        return self


class Settings(_Strict):
    environments: dict[str, Environment] = Field(default_factory=dict)
    prune: dict[str, bool | list[str]] = Field(default_factory=dict)
    safety: Safety = Field(default_factory=Safety)
    post_apply: list[PostApplyJob] = Field(default_factory=list)

    @field_validator("prune")
    @classmethod
    def _known_kinds(cls, value: dict[str, bool | list[str]]) -> dict[str, bool | list[str]]:
        unknown = sorted(set(value) - _KIND_KEYS)
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r}; known: {', '.join(sorted(_KIND_KEYS))}")
        return value

    def prune_rule(self, kind: Kind) -> bool | frozenset[str]:
        """True (everything), a set of scopes, or False (nothing) for ``kind``."""
        rule = self.prune.get(kind.config_key, False)
        return frozenset(rule) if isinstance(rule, list) else rule
