"""JSON Schema of the config files, generated from the per-kind models (for editors)."""

from __future__ import annotations

from typing import Any

from almasync.config.settings import Settings
from almasync.kinds import ORDER

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"
#: Where the committed copies of ``schemas/`` are published, for editors' modelines.
PUBLISHED = "https://raw.githubusercontent.com/almasync/almasync/main/schemas/"
RESOURCES_SCHEMA = "almasync-resources.schema.json"
SETTINGS_SCHEMA = "almasync-settings.schema.json"


def modeline(settings: bool = False) -> str:
    """The first line of a config file: tells VS Code (and other editors using the YAML
    language server) which schema validates and completes it."""
    name = SETTINGS_SCHEMA if settings else RESOURCES_SCHEMA
    return f"# yaml-language-server: $schema={PUBLISHED}{name}\n"


def resource_schema() -> dict[str, Any]:
    """Schema of a resource file: top-level keys are kinds."""
    properties: dict[str, Any] = {}
    defs: dict[str, Any] = {}
    for handler in ORDER:
        fields = handler.model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(fields.pop("$defs", {}))
        name = handler.model.__name__
        defs[name] = fields
        properties[handler.kind.config_key] = handler.subtree_schema({"$ref": f"#/$defs/{name}"})
    return {"$schema": SCHEMA_URL, "title": "almasync resource file", "type": "object",
            "additionalProperties": False, "properties": properties, "$defs": defs}


def settings_schema() -> dict[str, Any]:
    """Schema of ``almasync.yaml``; write options name only kinds almasync may write
    (prune only kinds Alma can delete), so an editor refuses them for read-only kinds."""
    schema = Settings.model_json_schema(ref_template="#/$defs/{model}")
    writable = sorted(h.kind.config_key for h in ORDER if not h.read_only)
    prunable = sorted(h.kind.config_key for h in ORDER if h.prune_supported)
    schema["properties"]["prune"]["propertyNames"] = {"enum": prunable}
    safety = schema["$defs"]["Safety"]["properties"]
    for name in ("kinds", "protected"):
        safety[name]["propertyNames"] = {"enum": writable}
    return {"$schema": SCHEMA_URL, "title": "almasync.yaml", **schema}


SCHEMAS = {
    RESOURCES_SCHEMA: resource_schema,
    SETTINGS_SCHEMA: settings_schema,
}
