"""Resolve where to connect (env vars, an almasync.yaml environment, or the emulator)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from almasync.alma.client import DEFAULT_RATE, AlmaClient
from almasync.config.settings import Settings
from almasync.errors import ConfigError, UsageError

RATE_ENV = "ALMASYNC_RATE_LIMIT"


@dataclass(frozen=True)
class Connection:
    client: AlmaClient
    label: str
    environment_type: str | None = None


def _rate(configured: float | None) -> float | None:
    text = os.environ.get(RATE_ENV)
    if text:
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{RATE_ENV}={text!r} is not a number") from None
        return value if value > 0 else None
    return configured or DEFAULT_RATE


@contextmanager
def connect(settings: Settings, env_name: str | None, emulator: str | None,
            *, read_only: bool) -> Iterator[Connection]:
    """Yield a client for the chosen target; an ``--emulator`` is started and stopped here."""
    if emulator:
        from almasync.emulator import Emulator, SeedError

        try:
            emu = Emulator(seed=emulator)
        except SeedError as exc:
            raise UsageError(f"--emulator {emulator!r}: {exc} (give demo, empty or a seed "
                             "file)") from exc
        with emu, AlmaClient(
                emu.base_url, emu.api_key, read_only=read_only,
                rate_limit=_rate(None)) as client:
            yield Connection(client, f"emulator {emulator} at {emu.base_url}")
        return
    if env_name:
        if env_name not in settings.environments:
            known = ", ".join(sorted(settings.environments)) or "none are declared"
            raise ConfigError(f"--env {env_name!r}: no such environment in almasync.yaml "
                              f"({known})")
        env = settings.environments[env_name]
        key = os.environ.get(env.api_key_env, "")
        if not key:
            raise ConfigError(f"environment {env_name!r} reads its API key from "
                              f"${env.api_key_env}, which is not set")
        with AlmaClient(env.api_url, key, read_only=read_only,
                        rate_limit=_rate(env.rate_limit)) as client:
            yield Connection(client, f"environment {env_name} ({client.base_url})",
                             env.environment_type)
        return
    url = os.environ.get("ALMA_API_URL", "")
    key = os.environ.get("ALMA_API_KEY", "")
    if not url:
        raise ConfigError("no Alma to talk to: set ALMA_API_URL and ALMA_API_KEY, pick an "
                          "environment with --env, or try --emulator demo")
    if not key:
        raise ConfigError("ALMA_API_URL is set but ALMA_API_KEY is not")
    with AlmaClient(url, key, read_only=read_only, rate_limit=_rate(None)) as client:
        yield Connection(client, client.base_url)
