"""Several institutions in one run: each environment planned on its own thread, with its own
client, rate limiter and safety rules, and one combined outcome.

Alma's rate limit is per institution, so N institutions planned together take about as long
as the slowest one, not the sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from almasync.errors import AlmasyncError, ExitCode, UsageError

T = TypeVar("T")

#: How bad each exit code is, for "the worst of them": success, then changes, then the
#: refusals (blocked, stale, failed changes), then the errors that stopped a run.
_SEVERITY = [ExitCode.OK, ExitCode.CHANGES, ExitCode.BLOCKED, ExitCode.STALE_PLAN,
             ExitCode.APPLY_FAILED, ExitCode.INVALID_CONFIG, ExitCode.UNAVAILABLE,
             ExitCode.ERROR]
#: At most this many institutions are worked on at once.
MAX_PARALLEL = 64


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """One environment's result, or the error that stopped it."""

    env: str
    value: T | None
    code: int
    error: str | None = None


def worst(codes: Sequence[int]) -> int:
    """The exit code of a combined run: the most severe of its environments' codes."""
    def rank(code: int) -> int:
        return next((i for i, known in enumerate(_SEVERITY) if known == code),
                    len(_SEVERITY))
    return max(codes, key=rank, default=ExitCode.OK)


def run_each(envs: Sequence[str], work: Callable[[str], tuple[T, int]]) -> list[Outcome[T]]:
    """``work(env)`` for every environment concurrently; outcomes in the order given. An
    environment whose work raises an almasync error fails alone, with that error's code."""
    def one(env: str) -> Outcome[T]:
        try:
            value, code = work(env)
        except AlmasyncError as exc:
            return Outcome(env, None, int(exc.exit_code), str(exc))
        return Outcome(env, value, code)

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, max(1, len(envs))),
                            thread_name_prefix="almasync-env") as pool:
        return list(pool.map(one, envs))


def env_names(given: str | None, all_envs: bool, declared: Sequence[str]) -> list[str]:
    """``--env a,b`` or ``--all-envs`` as a list of names (empty: no environment)."""
    if all_envs and given:
        raise UsageError("give --env or --all-envs, not both")
    if all_envs:
        if not declared:
            raise UsageError("--all-envs: almasync.yaml declares no environments")
        return list(declared)
    names = [name.strip() for name in (given or "").split(",") if name.strip()]
    if len(set(names)) != len(names):
        raise UsageError(f"--env {given!r} names an environment twice")
    return names
