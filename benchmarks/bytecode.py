"""Byte-compile the almasync package before a benchmark times its processes.

An installed package is compiled (``pip install`` does it); an editable install under
``PYTHONDONTWRITEBYTECODE`` would compile every module again in each process, about a third
of a second of CPU that no user pays. Compiling once up front measures what users run.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import almasync


def compile_package() -> None:
    compileall.compile_dir(Path(almasync.__file__).parent, quiet=1)
