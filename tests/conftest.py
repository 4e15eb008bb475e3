"""Shared fixtures: the emulator over real HTTP on loopback, and a CLI runner."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from almasync.cli import cli
from almasync.emulator import Emulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "config"

# Retries in tests happen at once: the emulator's faults are not healed by waiting. A test
# that needs a real pause (the per-second threshold) passes its own RetryPolicy.
os.environ.setdefault("ALMASYNC_RETRY_BACKOFF", "0")


@pytest.fixture(autouse=True)
def _state_home(tmp_path_factory: pytest.TempPathFactory,
                monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own state directory, so institution locks of tests running side
    by side (and of the user's own runs) never meet."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh demo institution on an ephemeral loopback port, no rate limit."""
    with Emulator(seed="demo", rate_limit=None, job_step_seconds=0.05) as emu:
        yield emu


@contextmanager
def running(*emulators: Emulator) -> Iterator[list[Emulator]]:
    """Start each emulator, and stop every one started, whatever happens."""
    with ExitStack() as stack:
        for emu in emulators:
            emu.start()
            stack.callback(emu.stop)
        yield list(emulators)


@pytest.fixture
def empty_emulator() -> Iterator[Emulator]:
    with Emulator(seed="empty", rate_limit=None) as emu:
        yield emu


@dataclass
class Almasync:
    """Runs the CLI in-process against one emulator, the way a user's shell would."""

    emu: Emulator
    runner: CliRunner
    key: str

    def __call__(self, *args: str, input: str | None = None,
                 env: dict[str, str] | None = None) -> Result:
        environ = {"ALMA_API_URL": self.emu.base_url, "ALMA_API_KEY": self.key,
                   "ALMASYNC_RATE_LIMIT": "0", **(env or {})}
        return self.runner.invoke(cli, list(args), input=input, env=environ,
                                  catch_exceptions=False)

    def plan_json(self, root: Path, *extra: str,
                  env: dict[str, str] | None = None) -> dict[str, Any]:
        """``plan --format json`` of ``root``, which must succeed; the parsed plan."""
        result = self("plan", str(root), "--format", "json", *extra, env=env)
        assert result.exit_code == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def writes(self) -> list[Any]:
        """Every call but GET, leaving out the write-access probe (``POST /conf/test``
        changes nothing)."""
        return [r for r in self.emu.requests
                if r.method != "GET" and r.path != "/almaws/v1/conf/test"]


@pytest.fixture
def almasync(emulator: Emulator) -> Almasync:
    return Almasync(emulator, CliRunner(), emulator.api_key)


@pytest.fixture
def config(tmp_path: Path) -> Any:
    """Write a config tree: ``config({"locations.yaml": "..."})`` -> its folder."""
    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "config"
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        root.mkdir(exist_ok=True)
        return root
    return write
