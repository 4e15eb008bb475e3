"""Config tree -> desired state, with every problem reported at once."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from almasync.config.settings import SETTINGS_FILE, Settings
from almasync.config.validation import did_you_mean, validate_model
from almasync.config.yamlread import NodePath, YamlDoc, YamlSyntaxError, read_yaml
from almasync.errors import ConfigError, Mark, Problem
from almasync.gcpause import collection_paused
from almasync.kinds import BY_CONFIG_KEY, HANDLERS
from almasync.kinds.base import Declared
from almasync.kinds.letter_config import double_labels
from almasync.model import Key, Kind, Resource


@dataclass(frozen=True)
class DesiredState:
    """What the config tree declares, validated."""

    root: Path
    settings: Settings
    resources: Mapping[Kind, Mapping[Key, Resource]] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def of(self, kind: Kind) -> Mapping[Key, Resource]:
        return self.resources.get(kind, {})

    @property
    def count(self) -> int:
        return sum(len(r) for r in self.resources.values())


#: Per-environment overlay folders: ``environments/<name>/`` is read only with ``--env name``.
OVERLAYS = "environments"


def config_files(root: Path, *, top: Path | None = None) -> Iterator[Path]:
    """Every resource file under ``root``, sorted; hidden folders, settings and (in the
    common tree) the overlay folders skipped."""
    top = top or root
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if root == top and rel.parts[0] == OVERLAYS:
            continue
        if path.suffix in (".yaml", ".yml") and str(rel) not in (SETTINGS_FILE, "almasync.yml"):
            yield path


#: How a resource file is parsed: ``reader(path, name, root)`` (``read_yaml`` by default).
Reader = Callable[[Path, str, Path], YamlDoc]


def load_config(root: Path, env: str | None = None, *,
                reader: Reader = read_yaml) -> DesiredState:
    """Read, validate and cross-check the tree; raises :class:`ConfigError` listing every
    problem found (syntax, schema, duplicates, cross-resource checks).

    With ``env``, the overlay folder ``environments/<env>/`` is read after the common files:
    an overlay's declaration of a resource replaces the common declaration field by field
    (a resource only the overlay declares is added). ``${VAR}`` in a text field is replaced
    by the variable's value; an unset variable is a located problem.
    """
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory (give the folder that holds the config)")
    with collection_paused():
        return _load(root, env, reader)


def _load(root: Path, env: str | None, reader: Reader) -> DesiredState:
    collector = _Collector()
    settings = _load_settings(root, collector.problems)
    files = []
    for path in config_files(root):
        files.append(str(path))
        try:
            collector.add_file(reader(path, str(path), root))
        except YamlSyntaxError as exc:
            collector.problems.append(exc.problem)
    if settings is not None and (root / OVERLAYS).is_dir():
        for folder in sorted((root / OVERLAYS).iterdir()):
            if folder.is_dir() and folder.name not in settings.environments:
                collector.problems.append(Problem(Mark(str(folder), 1, 1), (
                    f"overlay folder for environment {folder.name!r}, which almasync.yaml "
                    "does not declare; known: " + (", ".join(settings.environments)
                                                    or "none"))))
    overlay = root / OVERLAYS / env if env else None
    if overlay is not None and overlay.is_dir():
        collector.overlaying = True
        for path in config_files(overlay, top=root):
            files.append(str(path))
            try:
                collector.add_file(reader(path, str(path), root))
            except YamlSyntaxError as exc:
                collector.problems.append(exc.problem)
    if not files and not (settings and settings.prune):
        # A misspelt or empty folder must not pass as "nothing declared"; a tree of
        # settings alone that prunes says so on purpose (everything in scope goes).
        collector.problems.append(Problem(None, f"{root}: no resource files (*.yaml) in this "
                                          "folder; give the folder that holds the config"))
    collector.validate()
    for kind, resources in collector.found.items():
        collector.problems.extend(HANDLERS[kind].check(resources))
    collector.problems.extend(double_labels(collector.found))
    if collector.problems:
        raise ConfigError(collector.problems)
    return DesiredState(root, settings or Settings(), collector.found, tuple(files))


def load_settings(root: Path) -> Settings:
    """Only ``almasync.yaml`` of ``root`` (defaults when absent)."""
    problems: list[Problem] = []
    settings = _load_settings(root, problems)
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def _load_settings(root: Path, problems: list[Problem]) -> Settings | None:
    path = root / SETTINGS_FILE
    if not path.is_file():
        return Settings()
    try:
        doc = read_yaml(path, str(path), root)
    except YamlSyntaxError as exc:
        problems.append(exc.problem)
        return None
    settings, errors = validate_model(Settings, doc.data or {}, doc, (), "almasync")
    problems.extend(errors)
    problems.extend(read_only_options(settings, doc) if settings else [])
    for name in settings.prune if settings else ():
        handler = BY_CONFIG_KEY.get(name)
        if handler is not None and not handler.capabilities.prune and not handler.read_only:
            problems.append(Problem(doc.mark(("prune", name)), f"almasync.prune.{name}: "
                                    f"Alma cannot delete {name}, so prune does not apply; "
                                    "remove the entry"))
    return settings


def read_only_options(settings: Settings, doc: YamlDoc) -> list[Problem]:
    """Write options (prune, safety caps, protected keys) named for a read-only kind."""
    found: list[tuple[str, ...]] = [("prune", name) for name in settings.prune]
    found += [("safety", "kinds", name) for name in settings.safety.kinds]
    found += [("safety", "protected", name) for name in settings.safety.protected]
    for env, extra in settings.safety.environments.items():
        found += [("safety", "environments", env, "kinds", name) for name in extra.kinds]
        found += [("safety", "environments", env, "protected", name)
                  for name in extra.protected]
    return [Problem(doc.mark(path), f"almasync.{'.'.join(path)}: {path[-1]} are read-only "
                    "(Alma's API cannot change them), so write options do not apply; "
                    "remove the entry")
            for path in found
            if (handler := BY_CONFIG_KEY.get(path[-1])) is not None and handler.read_only]


@dataclass
class _Pending:
    """One declaration waiting for validation, with the document its marks come from."""

    doc: YamlDoc
    item: Declared
    overlaid: bool = False


@dataclass
class _Collector:
    """Declarations found so far (common files, then an environment's overlay), validated
    together once every file has been read."""

    found: dict[Kind, dict[Key, Resource]] = field(default_factory=dict)
    pending: dict[tuple[Kind, Key], _Pending] = field(default_factory=dict)
    overlay_first: dict[tuple[Kind, Key], Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    overlaying: bool = False

    def add_file(self, doc: YamlDoc) -> None:
        if doc.data is None:
            return
        if not isinstance(doc.data, dict):
            self.problems.append(Problem(Mark(doc.name, 1, 1), "expected a mapping whose "
                                         "keys are resource kinds (" + ", ".join(BY_CONFIG_KEY)
                                         + ")"))
            return
        for top, node in doc.data.items():
            handler = BY_CONFIG_KEY.get(str(top))
            if handler is None:
                hint = did_you_mean(top, BY_CONFIG_KEY) or ("; known kinds: "
                                                             + ", ".join(BY_CONFIG_KEY))
                self.problems.append(Problem(doc.mark((top,)), f"unknown kind {top!r}{hint}"))
                continue
            if node is None:
                continue  # an empty section declares nothing
            for item in handler.declared(node, (top,), doc):
                if isinstance(item, Problem):
                    self.problems.append(item)
                else:
                    self.add(doc, handler.kind, item)

    def add(self, doc: YamlDoc, kind: Kind, item: Declared) -> None:
        mark = doc.mark(item.path)
        if not isinstance(item.raw, dict):
            self.problems.append(Problem(doc.mark(item.path, value=True),
                                         f"{item.label}: expected a mapping of fields"))
            return
        slot = (kind, item.key)
        if self.overlaying:
            first = self.overlay_first.setdefault(slot, mark)
            if first != mark:
                self.problems.append(Problem(mark, f"{item.label}: declared twice in the "
                                             f"overlay; first declared at {first}"))
                return
            common = self.pending.get(slot)
            self.pending[slot] = (_Pending(doc, item, True) if common is None
                                  else _overlay(common, doc, item))
            return
        common = self.pending.get(slot)
        if common is not None:
            self.problems.append(Problem(mark, f"{item.label}: declared twice; first "
                                         f"declared at {common.doc.mark(common.item.path)}"))
            return
        self.pending[slot] = _Pending(doc, item)

    def validate(self) -> None:
        for (kind, key), pending in self.pending.items():
            handler = HANDLERS[kind]
            doc, item = pending.doc, pending.item
            raw, problems = (interpolate(item.raw, doc, item.path, item.label,
                                         skip=_secret_fields(kind))
                             if doc.variables else (item.raw, []))
            self.problems.extend(problems)
            if problems:
                continue
            model, errors = validate_model(handler.model, raw, doc, item.path, item.label)
            self.problems.extend(errors)
            if model is not None:
                marks = doc.field_marks(item.path, raw)
                self.found.setdefault(kind, {})[key] = Resource(
                    kind, key, handler.fields_of(model), doc.mark(item.path), marks)


def _overlay(common: _Pending, doc: YamlDoc, item: Declared) -> _Pending:
    """The common declaration with the overlay's fields in place of its own; each field
    keeps the marks of the file it came from."""
    raw = {**common.item.raw, **item.raw}
    merged = common.doc
    for name in item.raw:
        merged = merged.grafted((*common.item.path, name), doc, (*item.path, name))
    return _Pending(merged, Declared(common.item.key, raw, common.item.path,
                                     common.item.label), True)


def _secret_fields(kind: Kind) -> frozenset[str]:
    """Fields left to their kind's own ``${VAR}`` rules: integration-profile parameters hold
    credentials as references that are resolved only at apply time, never in a plan."""
    return frozenset({"parameters"}) if kind is Kind.INTEGRATION_PROFILE else frozenset()


_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def interpolate(raw: dict[str, Any], doc: YamlDoc, path: NodePath, label: str, *,
                skip: frozenset[str] = frozenset()) -> tuple[dict[str, Any], list[Problem]]:
    """``raw`` with ``${VAR}`` in every text value replaced by the variable's value (``$${``
    stands for a literal ``${``); an unset variable is a problem at the value's place."""
    problems: list[Problem] = []

    def value(node: Any, where: NodePath) -> Any:
        if isinstance(node, str) and "${" in node:
            def swap(match: re.Match[str]) -> str:
                if match.group(1) is None:
                    return "${"
                found = os.environ.get(match.group(1))
                if found is None:
                    dotted = ".".join(str(p) for p in (label, *where[len(path):]))
                    problems.append(Problem(doc.mark(where, value=True),
                                            f"{dotted}: ${{{match.group(1)}}} is not set; "
                                            "set the variable or write the value"))
                    return match.group(0)
                return found
            return _VARIABLE.sub(swap, node)
        if isinstance(node, dict):
            return {k: value(v, (*where, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [value(v, (*where, i)) for i, v in enumerate(node)]
        return node

    out = {k: (v if k in skip else value(v, (*path, k))) for k, v in raw.items()}
    return out, problems
