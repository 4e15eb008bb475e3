"""Seeds: ``demo``, ``empty``, seed files (JSON or YAML) and already-built stores.

The seed format is documented in docs/emulator.md; ``build_store`` validates it with the same
rules the API applies to request bodies, so a seed cannot hold what Alma would refuse.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import os
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from almasync.emulator.seed_build import SeedError, build_store
from almasync.emulator.store import Store

SeedSource = str | os.PathLike[str] | Store | dict[str, Any]
SEED_DIR = Path(__file__).with_name("seeds")
BUILTIN = ("demo", "empty")

__all__ = ["BUILTIN", "SeedError", "SeedSource", "load_seed", "read_seed_file"]


def _plain(value: Any) -> Any:
    """YAML dates and datetimes become ISO strings; mappings and lists become plain ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def read_seed_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``.json``, ``.yaml`` or ``.yml`` seed file into plain data."""
    file = Path(path)
    if not file.is_file():
        raise SeedError(f"seed file not found: {file}")
    suffix = file.suffix.lower()
    try:
        text = file.read_text(encoding="utf-8")
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = YAML(typ="safe", pure=True).load(text)
        else:
            raise SeedError(f"{file}: a seed file must end in .json, .yaml or .yml")
    except (OSError, UnicodeDecodeError, ValueError, YAMLError) as exc:
        raise SeedError(f"{file}: cannot be read as a seed: {exc}") from None
    if not isinstance(data, dict):
        raise SeedError(f"{file}: a seed must be a mapping at the top level")
    plain: dict[str, Any] = _plain(data)
    return plain


@functools.cache
def _builtin(name: str) -> dict[str, Any]:
    return read_seed_file(SEED_DIR / f"{name}.yaml")


def builtin_seed(name: str) -> dict[str, Any]:
    """A fresh copy of a built-in seed's data (``demo`` or ``empty``)."""
    if name not in BUILTIN:
        raise SeedError(f"unknown built-in seed {name!r}; use one of {', '.join(BUILTIN)}")
    return copy.deepcopy(_builtin(name))


def load_seed(source: SeedSource) -> Store:
    """A Store from ``demo``/``empty``, a seed file path, seed data or a Store (returned as is)."""
    if isinstance(source, Store):
        return source
    if isinstance(source, dict):
        return build_store(copy.deepcopy(source))
    if isinstance(source, str) and source in BUILTIN:
        return build_store(builtin_seed(source))
    return build_store(read_seed_file(source))
