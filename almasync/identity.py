"""Which institution a key reaches, and whether it may write there.

A saved plan and a journal belong to the institution they were read from: its code, as
``GET /conf/general`` reports it. Every check here reads Alma and never writes to it (the
write-access probe is Alma's own ``POST /conf/test``, which changes nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from almasync.alma.client import AlmaClient, WriteOutcomeUnknown
from almasync.errors import (
    AlmaAuthError,
    AlmaError,
    AlmaUnavailable,
    EnvironmentMismatch,
    InstitutionMismatch,
    WriteRefused,
)
from almasync.kinds.wire import unwrap

#: How often the write-access probe is sent when its answer is lost.
PROBE_ATTEMPTS = 3
_TEST_CODE = re.compile(r"institutionCode:\s*(\S+)")


@dataclass(frozen=True)
class Identity:
    """The institution behind a client: its code, the environment type it reports, and the
    gateway host the calls go to."""

    code: str
    environment_type: str | None
    host: str

    def header(self, where: str | None = None) -> str:
        """``institution X at host (environment E, TYPE)``: where writes would really go."""
        details = ", ".join(part for part in (where, self.environment_type) if part)
        return f"institution {self.code} at {self.host}" + (f" ({details})" if details else "")


def identify(client: AlmaClient) -> Identity:
    """Read the institution code and environment type from ``/conf/general``.

    The code is the ``institution`` value there. Should an institution's answer lack it, the
    code ``GET /conf/test`` names (``GET - OK - institutionCode: X``) is used instead."""
    general = client.get("/conf/general") or {}
    code = str(unwrap(general.get("institution")) or "").strip() or _code_from_test(client)
    kind = unwrap(general.get("environment_type"))
    return Identity(code, str(kind).upper() if kind else None,
                    urlsplit(client.base_url).netloc)


def _code_from_test(client: AlmaClient) -> str:
    answer: Any = client.get("/conf/test")
    text = answer.get("test", "") if isinstance(answer, dict) else str(answer or "")
    found = _TEST_CODE.search(str(text))
    if not found:
        raise AlmaError(200, "HTTP", "Alma named no institution code in /conf/general or "
                        "/conf/test", None, "GET", "/conf/general")
    return found.group(1)


def check_institution(recorded: str | None, actual: Identity, what: str) -> None:
    """Refuse (exit 5, nothing written) when ``what`` (a saved plan, a journal) was made
    against another institution than the one behind this key."""
    if not recorded:
        raise InstitutionMismatch(
            f"{what} names no institution, so it cannot be told apart from one made against "
            f"another institution; nothing was written. Make it again with this version.")
    if recorded != actual.code:
        raise InstitutionMismatch(
            f"{what} was made against institution {recorded}, but this key reaches "
            f"{actual.header()}; nothing was written")


def check_environment_type(actual: Identity, expected: str | None, *,
                           consequence: str = "nothing was applied") -> None:
    """Stop (exit 5) when the institution is not the environment type the settings declare."""
    if expected and (actual.environment_type or "") != expected.upper():
        raise EnvironmentMismatch(
            f"the settings declare environment_type {expected} but institution "
            f"{actual.code} reports {actual.environment_type or 'nothing'}; {consequence}")


class _NoAnswer(Exception):
    """The probe got no usable answer: lost, or a server error (5xx)."""


def check_write_access(client: AlmaClient) -> None:
    """Ask Alma whether this key may write (``POST /conf/test``) before the first write.

    A key Alma refuses (a read-only key answers 400 ``UNAUTHORIZED``) stops the run with exit
    4 before anything is written. Any 2xx answer is permission, whatever its body. The probe
    changes nothing, so a lost answer or a server error (5xx) is asked again; when every
    attempt fails so, the run stops (exit 4) with nothing written."""
    for _ in range(PROBE_ATTEMPTS - 1):
        try:
            return _probe(client)
        except _NoAnswer:
            continue
    try:
        _probe(client)
    except _NoAnswer as exc:
        raise AlmaUnavailable(f"could not learn whether this key may write: POST /conf/test "
                              f"failed {PROBE_ATTEMPTS} times ({exc}); nothing was "
                              "written") from None


def _probe(client: AlmaClient) -> None:
    try:
        client.post("/conf/test", None)
    except WriteOutcomeUnknown as exc:
        raise _NoAnswer(str(exc)) from None
    except AlmaAuthError as exc:
        raise WriteRefused(
            f"this API key may not write to Alma's Configuration area (POST /conf/test: "
            f"Alma error {exc.code}, HTTP {exc.status}); nothing was written. Use a key with "
            "Configuration read/write for this environment.") from None
    except AlmaError as exc:
        if exc.status >= 500:
            raise _NoAnswer(str(exc)) from None
        if not 200 <= exc.status < 300:  # a 2xx body that is not JSON (the XML <test>)
            raise
