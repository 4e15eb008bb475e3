"""``almasync.yaml``: environments, prune scope, safety rules."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
                                     description="requests per second (default 20)")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError("must be the name of an environment variable, not a key")
        return value


class Safety(_Strict):
    max_deletes: int | None = Field(default=None, ge=0)
    max_delete_percent: float | None = Field(default=None, ge=0, le=100)


class PostApplyJob(_Strict):
    """A job to run after a successful apply (``post_apply:`` in almasync.yaml)."""

    job_id: str | None = Field(default=None, description="e.g. M26714670000011")
    profile_id: str | None = Field(default=None, description="run the scheduled job of "
                                   "this import or integration profile")
    params: dict[str, str] = Field(default_factory=dict)
    set: str | None = Field(default=None, description="set name, passed as set_id")
    wait: bool = True
    timeout: float = Field(default=3600, gt=0, description="seconds to wait for the end")


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
