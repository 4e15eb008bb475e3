"""Progress on a terminal: a status line while reading Alma, a bar while applying.

Shown on stderr, and only when stderr is a terminal, so pipes, files and CI logs get the
plain lines alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from almasync.apply import Result
from almasync.cli.terminal import quiet
from almasync.model import Kind


def _console() -> Console | None:
    """A console on stderr when it is a terminal and -q was not given."""
    return Console(stderr=True) if sys.stderr.isatty() and not quiet() else None


@contextmanager
def reading(shown: bool = True) -> Iterator[Callable[[Kind], None]]:
    """Yield the ``on_kind`` callback of ``engine.read_live``: a spinner naming the kind
    being read, gone when reading ends (none when not ``shown``, as when several
    institutions are read at once)."""
    console = _console() if shown else None
    if console is None:
        yield lambda kind: None
        return
    with console.status("Reading from Alma...") as status:
        yield lambda kind: status.update(f"Reading {kind.config_key} from Alma...")


Lines = Callable[[Result], tuple[str, str | None]]


@contextmanager
def applying(total: int, lines: Lines) -> Iterator[Callable[[Result], None]]:
    """Yield the ``on_result`` callback of ``apply_plan``. Each result's line goes to stdout
    and its error line to stderr; when both are one terminal, they are printed above a bar
    of ``total`` changes instead (a bar and plain writes to the same screen would tear)."""
    console = _console() if sys.stdout.isatty() else None
    if console is None:
        def echo(result: Result) -> None:
            line, error = lines(result)
            click.echo(line)
            if error:
                click.echo(error, err=True)
        yield echo
        return
    columns = (TextColumn("Applying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("apply", total=total)

        def advance(result: Result) -> None:
            for text in lines(result):
                if text:
                    bar.console.print(text, markup=False, highlight=False)
            bar.advance(task)

        yield advance
