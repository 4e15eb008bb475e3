"""The one error tree of almasync.

Every error a user can cause is a subclass of :class:`AlmasyncError` and carries the exit code
the CLI turns it into. Third-party exceptions are wrapped where they enter (``raise ... from``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes shared by every command (PRODUCT.md section 3); 8-10 are the outcomes of
    Alma jobs (``almasync jobs``, ``post_apply``)."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    INVALID_CONFIG = 3
    UNAVAILABLE = 4
    BLOCKED = 5
    STALE_PLAN = 6
    APPLY_FAILED = 7
    JOB_FAILED = 8
    NEEDS_PERSON = 9
    NOT_FINISHED = 10
    USAGE = 64
    INTERRUPTED = 130


@dataclass(frozen=True, order=True)
class Mark:
    """A place in a config file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class Problem:
    """One configuration problem, reported as ``file:line:col: message``."""

    mark: Mark | None
    message: str

    def __str__(self) -> str:
        return f"{self.mark}: {self.message}" if self.mark else self.message


def _problem_order(problem: Problem) -> tuple[bool, Mark]:
    return (problem.mark is not None, problem.mark or Mark("", 0, 0))


class AlmasyncError(Exception):
    """Base of every error almasync reports to a user."""

    exit_code: ExitCode = ExitCode.ERROR


class ConfigError(AlmasyncError):
    """The configuration is invalid; nothing was written to Alma."""

    exit_code = ExitCode.INVALID_CONFIG

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(AlmasyncError):
    """A command-line usage error."""

    exit_code = ExitCode.USAGE


class AlmaError(AlmasyncError):
    """Alma answered with an error body.

    ``code`` is Alma's errorCode (e.g. ``402119``), ``tracking_id`` its trackingId when given.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        tracking_id: str | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.alma_message = message
        self.tracking_id = tracking_id
        self.method = method
        self.path = path
        where = f"{method} {path}: " if method else ""
        tracking = f" (trackingId {tracking_id})" if tracking_id else ""
        super().__init__(f"{where}Alma error {code} (HTTP {status}): {message}{tracking}")


class AlmaUnavailable(AlmasyncError):
    """Alma could not be used: unreachable, key refused, or quota spent."""

    exit_code = ExitCode.UNAVAILABLE


class AlmaAuthError(AlmaError):
    """The API key was refused (403) or lacks the Configuration area (400 UNAUTHORIZED)."""

    exit_code = ExitCode.UNAVAILABLE


class AlmaServerError(AlmaError):
    """Alma kept answering a call it may be asked again with a server error (5xx), through
    every retry: Alma is not usable right now."""

    exit_code = ExitCode.UNAVAILABLE


class AlmaQuotaError(AlmaError):
    """The daily API quota is spent, or the per-second threshold kept refusing us."""

    exit_code = ExitCode.UNAVAILABLE


class ReadOnlyViolation(AlmasyncError):
    """A write was attempted through a read-only client (plan, drift, export)."""


class StalePlanError(AlmasyncError):
    """A saved plan no longer matches the live state it was made against."""

    exit_code = ExitCode.STALE_PLAN


class EnvironmentMismatch(AlmasyncError):
    """The institution behind the key is not the environment type the settings declare."""

    exit_code = ExitCode.BLOCKED


class InstitutionMismatch(AlmasyncError):
    """A saved plan or a journal belongs to another institution than the one reached."""

    exit_code = ExitCode.BLOCKED


class WriteRefused(AlmaUnavailable):
    """Alma refused the write-access probe: the key may read but not write."""


class LockTimeout(AlmasyncError):
    """Another run against the same institution held the lock past ``--lock-timeout``."""

    exit_code = ExitCode.BLOCKED


class OverBudget(AlmasyncError):
    """``apply --max-calls N``: the apply would make more calls than N; nothing written."""

    exit_code = ExitCode.BLOCKED


class QuotaTooLow(AlmaUnavailable):
    """Alma's remaining daily quota (``X-Exl-Api-Remaining``) is below what the apply would
    make; nothing written."""
