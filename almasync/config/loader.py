"""Config tree -> desired state, with every problem reported at once."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from almasync.config.settings import SETTINGS_FILE, Settings
from almasync.config.validation import did_you_mean, validate_model
from almasync.config.yamlread import YamlDoc, YamlSyntaxError, read_yaml
from almasync.errors import ConfigError, Mark, Problem
from almasync.kinds import BY_CONFIG_KEY, HANDLERS
from almasync.kinds.base import Declared
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


def config_files(root: Path) -> Iterator[Path]:
    """Every resource file under ``root``, sorted; hidden folders and settings skipped."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.suffix in (".yaml", ".yml") and str(rel) not in (SETTINGS_FILE, "almasync.yml"):
            yield path


def load_config(root: Path) -> DesiredState:
    """Read, validate and cross-check the tree; raises :class:`ConfigError` listing every
    problem found (syntax, schema, duplicates, cross-resource checks)."""
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory (give the folder that holds the config)")
    collector = _Collector()
    settings = _load_settings(root, collector.problems)
    files = []
    for path in config_files(root):
        files.append(str(path))
        try:
            collector.add_file(read_yaml(path, str(path), root))
        except YamlSyntaxError as exc:
            collector.problems.append(exc.problem)
    if not files and not (settings and settings.prune):
        # A misspelt or empty folder must not pass as "nothing declared"; a tree of
        # settings alone that prunes says so on purpose (everything in scope goes).
        collector.problems.append(Problem(None, f"{root}: no resource files (*.yaml) in this "
                                          "folder; give the folder that holds the config"))
    for kind, resources in collector.found.items():
        collector.problems.extend(HANDLERS[kind].check(resources))
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
    for name in settings.prune if settings else ():
        handler = BY_CONFIG_KEY.get(name)
        if handler is not None and not handler.prune_supported:
            problems.append(Problem(doc.mark(("prune", name)), f"almasync.prune.{name}: "
                                    f"Alma cannot delete {name}, so prune does not apply; "
                                    "remove the entry"))
    return settings


@dataclass
class _Collector:
    """Resources found so far, and where each key was first declared."""

    found: dict[Kind, dict[Key, Resource]] = field(default_factory=dict)
    first: dict[tuple[Kind, Key], Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

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
        handler = HANDLERS[kind]
        mark = doc.mark(item.path)
        first = self.first.setdefault((kind, item.key), mark)
        if first != mark:
            self.problems.append(Problem(mark, f"{item.label}: declared twice; first "
                                         f"declared at {first}"))
            return
        if not isinstance(item.raw, dict):
            self.problems.append(Problem(doc.mark(item.path, value=True),
                                         f"{item.label}: expected a mapping of fields"))
            return
        model, errors = validate_model(handler.model, item.raw, doc, item.path, item.label)
        self.problems.extend(errors)
        if model is not None:
            marks = {name: doc.mark((*item.path, name)) for name in item.raw}
            self.found.setdefault(kind, {})[item.key] = Resource(
                kind, item.key, handler.fields_of(model), mark, marks)
