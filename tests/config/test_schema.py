"""The committed JSON Schema in schemas/ is what `almasync schema` generates now."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from almasync.cli import cli
from almasync.config.schema import SCHEMAS, resource_schema
from almasync.kinds import ORDER

COMMITTED = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_are_current() -> None:
    for name, build in SCHEMAS.items():
        committed = json.loads((COMMITTED / name).read_text())
        assert committed == build(), f"schemas/{name} is stale: run `almasync schema`"


def test_every_kind_is_in_the_resource_schema() -> None:
    properties = resource_schema()["properties"]
    assert set(properties) == {h.kind.config_key for h in ORDER}
    assert resource_schema()["additionalProperties"] is False


def test_schema_command_writes_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SCHEMAS)
