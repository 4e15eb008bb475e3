"""The command line: thin click commands over the engine, and the exit-code boundary."""

from __future__ import annotations

import importlib
import sys
from typing import Any, ClassVar, NoReturn

import click

from almasync import __version__
from almasync.cli.boundary import run_guarded
from almasync.cli.doctor_cmd import doctor
from almasync.cli.examples import EXAMPLES
from almasync.cli.jobs_cmds import jobs
from almasync.cli.plan_cmds import apply, drift, plan, rollback, validate
from almasync.cli.terminal import add_everywhere, logging_setup
from almasync.cli.tree_cmds import export, schema
from almasync.cli.utility_cmds import check, download, fees, hours, report_command


class AlmasyncGroup(click.Group):
    """A group whose ``main`` maps every outcome to almasync's exit codes (usage errors
    are 64, so that 2 can mean "changes present").

    Commands named in ``lazy`` are imported only when they are run or listed: the
    emulator's web server costs every other command a tenth of a second to import.
    """

    lazy: ClassVar[dict[str, str]] = {"emulator": "almasync.cli.emulator_cmd:emulator_command"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, name = self.lazy[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), name)
            add_everywhere(command, EXAMPLES, cmd_name)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> NoReturn:
        code = run_guarded(lambda: super(AlmasyncGroup, self).main(
            args, prog_name or "almasync", complete_var, standalone_mode=False, **extra))
        sys.exit(code)


@click.group(cls=AlmasyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="almasync")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="How long one call may wait for Alma's answer (default: "
                   "$ALMASYNC_TIMEOUT, else 30).")
@click.pass_context
def cli(ctx: click.Context, timeout: float | None) -> None:
    """Keep an Ex Libris Alma institution's configuration in git.

    -v (log HTTP calls) and -q (results only) work before or after the command.
    """
    ctx.obj = {"timeout": timeout}
    logging_setup()


for command in (validate, plan, drift, apply, rollback, export, schema, jobs, doctor, check,
                hours, fees, report_command):
    cli.add_command(command)
jobs.add_command(download)

add_everywhere(cli, EXAMPLES)
main = cli
