"""export and schema: commands that write config trees and schema files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from almasync import engine
from almasync.cli import progress
from almasync.cli.connect import connect
from almasync.cli.files import write_atomic
from almasync.cli.options import target
from almasync.cli.terminal import note
from almasync.config.loader import DesiredState, load_settings
from almasync.config.schema import SCHEMAS, modeline
from almasync.config.settings import SETTINGS_FILE, Settings
from almasync.config.yamlwrite import dump_yaml
from almasync.errors import ExitCode, UsageError
from almasync.kinds import BY_CONFIG_KEY, HANDLERS, ORDER
from almasync.model import Resource

_KIND_NAMES = [h.kind.config_key for h in ORDER]
#: A kind is named as in the files (``locations``); the singular of the plan JSON's
#: ``kind`` (``location``) is accepted too.
_KIND_SPELLINGS = {**{h.kind.value: h.kind.config_key for h in ORDER},
                   **{name: name for name in _KIND_NAMES}}


class _KindName(click.Choice):  # type: ignore[type-arg]
    """``--kinds``: a kind as the files name it, or as the plan JSON does."""

    def __init__(self) -> None:
        super().__init__(_KIND_NAMES)

    def convert(self, value: str, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        return str(super().convert(_KIND_SPELLINGS.get(value, value), param, ctx))


_SKELETON = """\
# Settings for this config tree (see almasync's README, "almasync.yaml").
# Name the Alma environments to use with --env; the key stays in the variable named by
# api_key_env, never in this file.
{environments}
# What almasync owns completely (a resource no file declares is deleted); default: nothing.
# prune:
#   locations: [MAIN]
safety:
  max_deletes: 10
  max_delete_percent: 30
"""
_EXAMPLE_ENVIRONMENTS = """\
# environments:
#   production:
#     api_url: https://api-eu.hosted.exlibrisgroup.com
#     api_key_env: ALMA_PROD_KEY
#     environment_type: PRODUCTION"""


def _skeleton(settings: Settings, env_name: str | None) -> str:
    """``almasync.yaml`` for an exported tree: the environment exported from, if named."""
    environments = _EXAMPLE_ENVIRONMENTS
    if env_name and env_name in settings.environments:
        env = settings.environments[env_name].model_dump(mode="json", exclude_none=True,
                                                         exclude_defaults=True)
        environments = dump_yaml({"environments": {env_name: env}}).rstrip("\n")
    return modeline(settings=True) + _SKELETON.format(environments=environments)


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("exported"), show_default=True, help="Folder to write into.")
@click.option("--kinds", "kind_names", multiple=True, type=_KindName(),
              help="Only these kinds (repeatable; default: all).")
@click.option("--overwrite", is_flag=True, help="Replace files that already exist.")
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True,
              help="Folder whose almasync.yaml declares the --env environments.")
@target
def export(out_dir: Path, kind_names: tuple[str, ...], overwrite: bool, config_dir: Path,
           env_name: str | None, emulator: str | None) -> int:
    """Write the live configuration as a config tree (one file per kind)."""
    settings = load_settings(config_dir) if env_name else Settings()
    kinds = [BY_CONFIG_KEY[name].kind for name in kind_names] or [h.kind for h in ORDER]
    yaml_files = {kind: out_dir / HANDLERS[kind].export_name for kind in kinds}
    clashes = [str(p) for p in yaml_files.values() if p.exists()]
    if clashes and not overwrite:
        raise UsageError(f"{', '.join(clashes)} already exist; pass --overwrite to replace")
    empty = DesiredState(out_dir, settings)
    with (connect(settings, env_name, emulator, read_only=True) as conn,
          progress.reading() as on_kind):
        live = engine.read_live(conn.client, empty, everything=True, detail=True,
                                only=kinds, on_kind=on_kind)
    # Everything is read before anything is written, so a failed read leaves no half
    # export; each file is written whole (temporary file, then rename).
    outputs: dict[Path, str] = {}
    for kind in kinds:
        handler = HANDLERS[kind]
        # What Alma ships unchanged is left out; drift does not call it unmanaged either.
        resources = {key: Resource(kind, key, fields) for key, fields in live[kind].items()
                     if not handler.is_default(key, fields)}
        outputs[yaml_files[kind]] = modeline() + dump_yaml(
            {kind.config_key: handler.export(resources)})
        for relative, text in handler.export_files(resources).items():
            outputs[out_dir / relative] = text
        skipped = len(live[kind]) - len(resources)
        left_out = f" ({skipped} left out as Alma's defaults)" if skipped else ""
        note(f"{yaml_files[kind]}: {len(resources)} {kind.config_key}{left_out}")
    clashes = [str(p) for p in outputs if p.exists() and p not in yaml_files.values()]
    if clashes and not overwrite:
        raise UsageError(f"{', '.join(clashes[:5])} already exist; pass --overwrite to "
                         "replace")
    # The folder is a repository ready to commit: settings to fill in, and the journals of
    # applies kept out of git. Neither is overwritten.
    if not (out_dir / SETTINGS_FILE).exists():
        outputs[out_dir / SETTINGS_FILE] = _skeleton(settings, env_name)
    ignore = out_dir / ".gitignore"
    ignored = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
    if ".almasync/" not in ignored.split():
        outputs[ignore] = ignored + ("" if not ignored or ignored.endswith("\n") else "\n") \
            + "# almasync's apply journals and state\n.almasync/\n"
    for path, text in outputs.items():
        write_atomic(path, text)
    click.echo(f"Wrote {len(outputs)} files under {out_dir}.")
    return ExitCode.OK


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("schemas"), show_default=True)
def schema(out_dir: Path) -> int:
    """Write the JSON Schema of the config files (for editors)."""
    for name, build in SCHEMAS.items():
        path = out_dir / name
        write_atomic(path, json.dumps(build(), indent=2, sort_keys=True) + "\n")
        click.echo(f"wrote {path}")
    return ExitCode.OK
