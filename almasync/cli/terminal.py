"""What the terminal gets: colour only where it is wanted, and the -v / -q switches that
every command accepts before or after its name."""

from __future__ import annotations

import logging
import os
import sys
from typing import IO

import click

_QUIET = "almasync.quiet"


def use_colour(stream: IO[str] | None = None) -> bool:
    """Colour on a terminal only; ``NO_COLOR`` (https://no-color.org) turns it off and
    ``FORCE_COLOR`` on, whatever the stream is. FORCE_COLOR wins when both are set, as a
    CI system's setting is more specific than a user's general preference."""
    force = os.environ.get("FORCE_COLOR", "")
    if force and force.lower() not in ("0", "false", "no"):
        return True
    if os.environ.get("NO_COLOR", ""):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def quiet() -> bool:
    """True under ``-q``: print results only, no progress or notes."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.find_root().meta.get(_QUIET))


def note(message: str) -> None:
    """A note for the person at the terminal (stderr), left out under ``-q``."""
    if not quiet():
        click.echo(message, err=True)


_VERBOSE = "almasync.verbose"


def _verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_root().meta[_VERBOSE] = True
        logging_setup(verbose=True)


def _quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_root().meta[_QUIET] = True


def verbosity_options() -> list[click.Option]:
    return [
        click.Option(["-v", "--verbose"], is_flag=True, expose_value=False,
                     callback=_verbose, help="Log HTTP calls and details to stderr."),
        click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_quiet,
                     help="Print results only: no progress, no notes."),
    ]


def add_everywhere(command: click.Command, examples: dict[str, str], path: str = "") -> None:
    """Give ``command`` and every subcommand -v/-q and the example of its help page."""
    names = {opt for param in command.params for opt in getattr(param, "opts", [])}
    if "-v" not in names:
        command.params.extend(verbosity_options())
    example = examples.get(path.strip())
    if example and not command.epilog:
        command.epilog = "\b\nExample:\n" + "\n".join(f"  {line}" for line in
                                                    example.splitlines())
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            add_everywhere(sub, examples, f"{path} {name}")


def logging_setup(verbose: bool | None = None) -> None:
    """Log to stderr: everything with -v (wherever it was given), warnings otherwise."""
    if verbose is None:
        ctx = click.get_current_context(silent=True)
        verbose = bool(ctx and ctx.find_root().meta.get(_VERBOSE))
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "almasync", False)]:
        root.removeHandler(handler)
    # Bound to the stderr of this run (a test runner may have replaced sys.stderr).
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.almasync = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # urllib3 warns of each retry with raw reprs; almasync says it in its own words.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if verbose else logging.ERROR)


