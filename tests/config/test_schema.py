"""The committed JSON Schema in schemas/ is what `almasync schema` generates now."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from almasync.cli import cli
from almasync.config.schema import SCHEMAS, resource_schema
from almasync.kinds import ORDER
from almasync.model import Kind

COMMITTED = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_are_current() -> None:
    for name, build in SCHEMAS.items():
        committed = json.loads((COMMITTED / name).read_text())
        assert committed == build(), f"schemas/{name} is stale: run `almasync schema`"


def test_every_kind_is_in_the_resource_schema() -> None:
    schema = resource_schema()
    # Kind is the list of kinds; the schema is built from the handlers: both must agree.
    assert set(schema["properties"]) == {kind.config_key for kind in Kind}
    assert schema["additionalProperties"] is False
    for handler in ORDER:
        assert handler.model.__name__ in schema["$defs"]
        refs = re.findall(r'"\$ref": "#/\$defs/(\w+)"',
                          json.dumps(schema["properties"][handler.kind.config_key]))
        assert refs and set(refs) <= set(schema["$defs"]), handler.kind


def test_schema_command_writes_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SCHEMAS)
