"""The one place that turns errors into messages and exit codes."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

import click

from almasync.errors import AlmasyncError, ConfigError, ExitCode
from almasync.workflow import StoppedAtOnce

log = logging.getLogger("almasync")


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_guarded(invoke: Callable[[], Any]) -> int:
    """Run a click invocation; map every outcome to an :class:`ExitCode` value. SIGTERM is
    handled like Ctrl-C (the apply workflow handles both its own way while it writes)."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if main else None
    try:
        return _outcome(invoke)
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


def _outcome(invoke: Callable[[], Any]) -> int:
    try:
        result = invoke()
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, StoppedAtOnce):  # click turns it into Abort
            return _stopped_at_once(exc.__cause__)
        if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C, or SIGTERM (below)
            click.echo("Interrupted; nothing more was done.", err=True)
            return int(ExitCode.INTERRUPTED)
        click.echo("Aborted; nothing more was done.", err=True)
        return int(ExitCode.ERROR)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found; nothing was written to "
                   "Alma.", err=True)
        return int(exc.exit_code)
    except AlmasyncError as exc:
        click.echo(f"Error: {exc}", err=True)
        return int(exc.exit_code)
    except StoppedAtOnce as exc:
        return _stopped_at_once(exc)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # the last resort: say what happened, never a traceback
        log.debug("unexpected error", exc_info=True)
        click.echo(f"Unexpected error: {type(exc).__name__}: {exc} (run with -v for "
                   "details)", err=True)
        return int(ExitCode.ERROR)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


def _stopped_at_once(exc: StoppedAtOnce) -> int:
    click.echo("Stopped at once by a second signal: a write may have been in flight.",
               err=True)
    if exc.journal is not None:
        click.echo(f"Journal of this run: {exc.journal} (`almasync rollback {exc.journal}` "
                   "reads Alma to settle what may have happened, then undoes what did)",
                   err=True)
    return int(ExitCode.INTERRUPTED)
