"""``python -m almasync``: the same as the ``almasync`` command."""

from almasync.cli import main

main()
