"""Option decorators shared by commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def config_dir(fn: F) -> F:
    return click.argument("directory", required=False, default=".",
                          type=click.Path(file_okay=False, path_type=Path))(fn)


def target(fn: F) -> F:
    """--env and --emulator: where to connect."""
    fn = click.option("--emulator", metavar="SEED",
                      help="Start the built-in Alma emulator (demo, empty or a seed file) "
                           "and run against it.")(fn)
    return click.option("--env", "env_name", metavar="NAME",
                        help="Environment from almasync.yaml (default: ALMA_API_URL and "
                             "ALMA_API_KEY).")(fn)


def output_format(*choices: str) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        default = "text" if "text" in choices else choices[0]
        return click.option("--format", "fmt", type=click.Choice(choices), default=default,
                            show_default=True, help="Output format.")(fn)
    return decorate


def lock_timeout(fn: F) -> F:
    """--lock-timeout: how long apply and rollback wait for another run's lock."""
    return click.option("--lock-timeout", type=click.FloatRange(min=0), default=None,
                        metavar="SECONDS",
                        help="Wait at most this long for another apply or rollback against "
                             "the same institution (default: as long as it takes); then "
                             "exit 5.")(fn)


def journal_dir(fn: F) -> F:
    """--journal-dir: where apply and rollback keep the record of their writes."""
    return click.option("--journal-dir", type=click.Path(file_okay=False, path_type=Path),
                        default=None, metavar="DIR",
                        help="Keep the record of this run's writes in DIR (default: beside "
                             "the config folder, or beside the plan file).")(fn)
