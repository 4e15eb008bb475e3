"""Resolve where to connect (env vars, an almasync.yaml environment, or the emulator)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from almasync.alma.client import DEFAULT_RATE, DEFAULT_TIMEOUT, TIMEOUT_ENV, AlmaClient
from almasync.config.settings import Settings
from almasync.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from almasync.emulator import Emulator

RATE_ENV = "ALMASYNC_RATE_LIMIT"


@dataclass(frozen=True)
class Connection:
    client: AlmaClient
    label: str
    environment_type: str | None = None
    #: How the target was chosen, for the plan header: ``environment E`` or ``emulator S``.
    where: str | None = None


def _rate(configured: float | None) -> float | None:
    text = os.environ.get(RATE_ENV)
    if text:
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{RATE_ENV}={text!r} is not a number") from None
        return value if value > 0 else None
    return configured or DEFAULT_RATE


def call_timeout() -> float:
    """Seconds one call may wait: ``--timeout`` (on the ``almasync`` group), else
    ``ALMASYNC_TIMEOUT``, else the default."""
    ctx = click.get_current_context(silent=True)
    given = (ctx.find_root().obj or {}).get("timeout") if ctx is not None else None
    if isinstance(given, float | int):
        return float(given)
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{TIMEOUT_ENV}={text!r} must be more than 0 seconds")
    return value


def _retry_notice() -> Callable[[str], None] | None:
    """On a terminal, each retry is announced on stderr, so a wait is never silent."""
    if not sys.stderr.isatty():
        return None
    return lambda line: click.echo(f"Waiting on Alma: {line}", err=True)


#: Below this many calls left today (X-Exl-Api-Remaining), every run says so on stderr.
LOW_QUOTA = 5000


@dataclass(frozen=True)
class _Target:
    url: str
    key: str
    rate: float | None
    label: str
    environment_type: str | None = None
    where: str | None = None


@contextmanager
def connect(settings: Settings, env_name: str | None, emulator: str | None,
            *, read_only: bool) -> Iterator[Connection]:
    """Yield a client for the chosen target; an ``--emulator`` is started and stopped here."""
    with ExitStack() as stack:
        if emulator:
            emu = stack.enter_context(_start_emulator(emulator))
            target = _Target(emu.base_url, emu.api_key, _rate(None),
                             f"emulator {emulator} at {emu.base_url}",
                             where=f"emulator {emulator}")
        elif env_name:
            target = _from_environment(settings, env_name)
        else:
            target = _from_variables()
        client = stack.enter_context(AlmaClient(target.url, target.key, read_only=read_only,
                                                rate_limit=target.rate,
                                                timeout=call_timeout(),
                                                notice=_retry_notice()))
        yield Connection(client, target.label, target.environment_type, target.where)
        # -v: the rate the run settled at, and how many calls Alma refused on the way.
        logging.getLogger("almasync.http").info("%s", client.bucket.describe())
        if client.remaining is not None and client.remaining < LOW_QUOTA:
            click.echo(f"Warning: Alma reports {client.remaining} API calls left today for "
                       "this institution.", err=True)


def _start_emulator(seed: str) -> Emulator:
    from almasync.emulator import Emulator, SeedError

    try:
        return Emulator(seed=seed)
    except SeedError as exc:
        raise UsageError(f"--emulator {seed!r}: {exc} (give demo, empty or a seed file)"
                         ) from exc


def _from_environment(settings: Settings, env_name: str) -> _Target:
    if env_name not in settings.environments:
        known = ", ".join(sorted(settings.environments)) or "none are declared"
        raise ConfigError(f"--env {env_name!r}: no such environment in almasync.yaml "
                          f"({known})")
    env = settings.environments[env_name]
    key = os.environ.get(env.api_key_env, "")
    if not key:
        raise ConfigError(f"environment {env_name!r} reads its API key from "
                          f"${env.api_key_env}, which is not set")
    return _Target(env.api_url, key, _rate(env.rate_limit),
                   f"environment {env_name} ({env.api_url})", env.environment_type,
                   f"environment {env_name}")


def _from_variables() -> _Target:
    url = os.environ.get("ALMA_API_URL", "")
    key = os.environ.get("ALMA_API_KEY", "")
    if not url:
        raise ConfigError("no Alma to talk to: set ALMA_API_URL and ALMA_API_KEY, pick an "
                          "environment with --env, or try --emulator demo")
    if not key:
        raise ConfigError("ALMA_API_URL is set but ALMA_API_KEY is not")
    return _Target(url, key, _rate(None), url)
