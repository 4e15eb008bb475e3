"""``apply PLAN.json``: read a saved plan and settle the settings it runs with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from almasync.cli.terminal import note
from almasync.config.loader import load_settings
from almasync.config.settings import SETTINGS_FILE, Settings
from almasync.errors import ConfigError, EnvironmentMismatch
from almasync.plan.plan import Plan
from almasync.plan.recorded import Merged, Recorded, stricter


@dataclass(frozen=True)
class SavedPlan:
    """A saved plan, the settings it applies with, and where those came from."""

    path: Path
    plan: Plan
    merged: Merged
    recorded: Recorded
    local: Path | None = None

    @property
    def settings(self) -> Settings:
        return self.merged.settings

    @property
    def env_name(self) -> str | None:
        return self.merged.env_name

    def describe(self) -> list[str]:
        """What settings are used, for stderr."""
        lines = [f"Settings: from the plan file {self.path} ({self.recorded.describe()})."]
        if self.local is not None and self.merged.stricter:
            lines.append(f"Stricter in {self.local}, and used: "
                         + "; ".join(self.merged.stricter) + ".")
        elif self.local is not None:
            lines.append(f"{self.local} is no stricter than the plan's settings.")
        return lines


def read_plan_file(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a plan file ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a plan file")
    try:
        return Plan.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def open_saved(path: Path, env_option: str | None) -> SavedPlan:
    """Read ``path`` and settle its settings: the plan's own, made stricter by an
    ``almasync.yaml`` found where it is applied (the config folder the plan names, when it
    exists from here, else the current directory). ``--env`` may only repeat the plan's
    environment; a plan made without one may take it from the local file."""
    plan = read_plan_file(path)
    recorded = Recorded.of(plan)
    if env_option and recorded.env_name and env_option != recorded.env_name:
        raise EnvironmentMismatch(
            f"{path} was made for environment {recorded.env_name}, not {env_option}; "
            f"nothing was applied. Make a plan with --env {env_option} to apply there.")
    local_dir = _local_settings(plan)
    if local_dir is None:
        return SavedPlan(path, plan, Merged(recorded.settings, recorded.env_name), recorded)
    local = load_settings(local_dir)
    merged = stricter(recorded, local)
    if env_option and not recorded.env_name:
        merged = Merged(merged.settings.model_copy(update={
            "environments": dict(local.environments)}), env_option, merged.stricter)
    return SavedPlan(path, plan, merged, recorded, local_dir / SETTINGS_FILE)


def _local_settings(plan: Plan) -> Path | None:
    for folder in (Path(plan.target.get("config", ".")), Path(".")):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    return None


def echo_settings(saved: SavedPlan) -> None:
    for line in saved.describe():
        note(line)
