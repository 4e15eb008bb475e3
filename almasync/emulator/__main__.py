"""``python -m almasync.emulator``: the same command as ``almasync emulator``."""

from almasync.cli.emulator_cmd import emulator_command

if __name__ == "__main__":
    emulator_command(prog_name="python -m almasync.emulator")
