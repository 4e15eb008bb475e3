"""What every kind module provides.

A kind module knows its config shape, its natural key, its endpoints, which fields Alma owns,
and how to turn payloads into the normalised form and back. The engine only talks to this
interface; adding a kind means adding one module and registering it in ``kinds/__init__``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import Problem
from almasync.kinds.references import References
from almasync.model import Fields, Key, Kind, Resource


def not_a_mapping(node: Any, path: NodePath, doc: YamlDoc, of: str) -> Problem | None:
    """The problem to report when a kind's subtree is not the mapping it must be, e.g.
    ``locations: expected a mapping of library codes to locations``."""
    if isinstance(node, dict):
        return None
    return Problem(doc.mark(path, value=True), f"{path[-1]}: expected a mapping of {of}")


class FieldsModel(BaseModel):
    """Base of the per-kind config models: unknown fields are errors, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


@dataclass(frozen=True)
class Declared:
    """One resource found in a config file, before validation."""

    key: Key
    raw: Any
    path: NodePath
    label: str


@dataclass(frozen=True)
class LiveQuery:
    """What to read from Alma for one kind.

    ``wanted`` maps each declared key to the field names the file declares; ``prune`` is the
    kind's prune rule; ``everything`` asks for every live resource (drift, export), and
    ``detail`` for all of each one's fields (export), even where a list gives brief entries.
    ``declared`` holds the declared resources themselves (with their marks) when the run
    has a config tree, so a kind can report what it learns from Alma at the right line.
    """

    wanted: Mapping[Key, frozenset[str]]
    prune: bool | frozenset[str] = False
    everything: bool = False
    detail: bool = False
    declared: Mapping[Key, Resource] = field(default_factory=dict)


class KindHandler(ABC):
    kind: ClassVar[Kind]
    model: ClassVar[type[FieldsModel]]
    #: Fields whose values never appear in any output (credentials).
    sensitive_fields: ClassVar[frozenset[str]] = frozenset()
    #: Whether ``prune:`` means anything for this kind (Alma cannot delete some kinds).
    prune_supported: ClassVar[bool] = True
    #: Whether Alma's API can only read this kind (libraries, departments...): the plan
    #: then shows a difference as one to make in Alma, never as a write, and ``validate``
    #: refuses write options (prune, safety caps) for it. See ``kinds/readonly/``.
    read_only: ClassVar[bool] = False

    @property
    def export_name(self) -> str:
        """Where ``export`` writes this kind, relative to the exported tree."""
        name = f"{self.kind.config_key}.yaml"
        return f"readonly/{name}" if self.read_only else name

    # -- config side ---------------------------------------------------------------------

    @abstractmethod
    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        """Walk this kind's subtree of one file and yield its resources (or shape problems)."""

    def fields_of(self, model: FieldsModel) -> dict[str, Any]:
        """The declared fields of a validated model, in normalised form."""
        return model.model_dump(mode="json", exclude_unset=True)

    def check(self, resources: Mapping[Key, Resource]) -> list[Problem]:
        """Offline checks across this kind's resources (e.g. one default row)."""
        return []

    def check_references(self, resources: Mapping[Key, Resource],
                         refs: References) -> list[Problem]:
        """Checks against Alma's read-only reference data (libraries, code tables...)."""
        return []

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        """JSON Schema of this kind's subtree, given the schema of one resource's fields.
        The default is a mapping of keys to resources."""
        return {"type": "object", "additionalProperties": fields}

    def export_files(self, resources: Mapping[Key, Resource]) -> Mapping[str, str]:
        """Files the exported subtree refers to (path relative to the YAML file -> text),
        e.g. letters' XSL templates. Most kinds have none."""
        return {}

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        """The config subtree declaring ``resources`` (inverse of :meth:`declared`)."""
        raise NotImplementedError

    def is_default(self, key: Key, live: Fields) -> bool:
        """Whether a live resource is as Alma ships it (e.g. an uncustomised letter). Export
        leaves such resources out, and ``drift --include-unmanaged`` does not list them when
        no file declares them: the one rule keeps the two in agreement."""
        return False

    # -- comparison ----------------------------------------------------------------------

    def comparable(self, desired: Fields, live: Fields | None) -> tuple[Fields, Fields]:
        """The two sides to compare: by default the live fields the file declares."""
        live = live or {}
        return dict(desired), {name: live.get(name) for name in desired}

    def restoring(self, written: Fields, saved: Fields) -> dict[str, Any]:
        """The fields of an update that sets back what an update of ``written`` changed,
        given the resource's live state ``saved`` before it (rollback): by default the saved
        values of the fields written."""
        return {name: saved[name] for name in written if name in saved}

    def unready(self, fields: Fields) -> list[str]:
        """Why ``fields`` cannot be written right now (e.g. a secret's environment variable
        is unset). Apply checks every change before its first write."""
        return []

    def dependencies(self, key: Key, fields: Fields) -> Iterator[tuple[Kind, Key]]:
        """Resources of other kinds (or this one) that ``fields`` refer to. A change is
        skipped when a change it depends on failed; deletes wait for what refers to them."""
        return iter(())

    def scope_of(self, key: Key) -> str:
        """The prune scope a key falls in (library code for locations)."""
        return key[0]

    def prunable(self, key: Key, rule: bool | frozenset[str]) -> bool:
        return rule is True or (isinstance(rule, frozenset) and self.scope_of(key) in rule)

    # -- Alma side -----------------------------------------------------------------------

    @abstractmethod
    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        """Live resources: every declared one that exists, plus those in prune scope."""

    @abstractmethod
    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None: ...

    @abstractmethod
    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        """Change the declared ``fields``; everything else stays as it is live."""

    @abstractmethod
    def delete(self, client: AlmaClient, key: Key) -> None: ...
