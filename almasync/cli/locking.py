"""The institution lock as the CLI holds it: saying when it waits, and what it took over."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from almasync.lock import Holder, institution_lock


@contextmanager
def holding(institution: str, command: str, timeout: float | None) -> Iterator[Path]:
    """Hold the lock of ``institution`` around a whole apply or rollback (planning, writes,
    read-back); another run against it waits, and says so on stderr."""

    def waiting(holder: Holder | None) -> None:
        who = f" {holder}" if holder else ""
        limit = "" if timeout is None else f" (at most {timeout:g} s, --lock-timeout)"
        click.echo(f"Waiting for another almasync run{who} against institution {institution} "
                   f"to finish{limit}...", err=True)

    def stale(holder: Holder) -> None:
        click.echo(f"Note: the lock of institution {institution} was left by {holder}, which "
                   "ended without releasing it; taken over.", err=True)

    with institution_lock(institution, command=command, timeout=timeout, on_wait=waiting,
                          on_stale=stale) as path:
        yield path
