"""What every kind module provides.

A kind module knows its config shape, its natural key, its endpoints, which fields Alma owns,
and how to turn payloads into the normalised form and back. The engine only talks to this
interface. A new kind is one module registered in ``kinds/__init__``, plus the emulator, docs,
examples, doctor and test files ``docs/adding-a-kind.md`` lists.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn

from pydantic import BaseModel, ConfigDict

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import AlmasyncError, Problem
from almasync.kinds.references import References
from almasync.model import Fields, Key, Kind, Resource, format_key


def not_a_mapping(node: Any, path: NodePath, doc: YamlDoc, of: str) -> Problem | None:
    """The problem to report when a kind's subtree is not the mapping it must be, e.g.
    ``locations: expected a mapping of library codes to locations``."""
    if isinstance(node, dict):
        return None
    return Problem(doc.mark(path, value=True), f"{path[-1]}: expected a mapping of {of}")


def by_library(node: Any, path: NodePath, doc: YamlDoc, what: str, code_of: str
               ) -> Iterator[Declared | Problem]:
    """Declarations nested as ``LIBRARY: {CODE: fields}`` (locations, circulation desks),
    keyed by (library, code); ``what`` and ``code_of`` name them in messages."""
    problem = not_a_mapping(node, path, doc, f"library codes to {what}")
    if problem:
        yield problem
        return
    top = str(path[-1])
    for library, inner in node.items():
        lib_path = (*path, library)
        if not isinstance(inner, dict):
            yield Problem(doc.mark(lib_path, value=True), f"{top}.{library}: expected a "
                          f"mapping of {code_of} codes to their fields")
            continue
        for code, raw in inner.items():
            yield Declared((str(library), str(code)), raw, (*lib_path, code),
                           f"{top}.{library}.{code}")


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


@dataclass(frozen=True)
class Capabilities:
    """What Alma lets almasync do with a kind, said once.

    ``prune`` needs ``delete``; a ``read_only`` kind is read (plan checks, drift, export,
    doctor) but never written.
    """

    create: bool = True
    update: bool = True
    delete: bool = True
    read_only: bool = False

    @property
    def prune(self) -> bool:
        """Whether ``prune:`` means anything for the kind: only what can be deleted can be
        pruned."""
        return self.delete and not self.read_only

    def allows(self, action: str) -> bool:
        """Whether the kind can be written with ``action`` (create, update or delete)."""
        return not self.read_only and bool(getattr(self, action))

    @classmethod
    def fixed(cls, *, update: bool = True) -> Capabilities:
        """A kind whose resources Alma ships and nobody creates or deletes (letters,
        tables): updates only, if at all."""
        return cls(create=False, update=update, delete=False)


class KindHandler(ABC):
    kind: ClassVar[Kind]
    model: ClassVar[type[FieldsModel]]
    #: Fields whose values never appear in any output (credentials).
    sensitive_fields: ClassVar[frozenset[str]] = frozenset()
    #: What Alma lets almasync do with this kind.
    capabilities: ClassVar[Capabilities] = Capabilities()

    @property
    def read_only(self) -> bool:
        """Whether Alma's API can only read this kind (libraries, departments...): the plan
        then shows a difference as one to make in Alma, never as a write, and ``validate``
        refuses write options (prune, safety caps) for it. See ``kinds/readonly/``."""
        return self.capabilities.read_only

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

    def live_view(self, desired: Fields, live: Fields | None) -> Fields:
        """The live state of what ``desired`` declares, in the same canonical form and
        shape (a plan's ``before`` of an update): by default the live values of the declared
        fields."""
        live = live or {}
        return {name: live.get(name) for name in desired}

    def comparable(self, desired: Fields, live: Fields | None) -> tuple[Fields, Fields]:
        """The two sides the differ compares, both canonical values (never shortened or
        labelled for display: the renderers do that): by default the declared fields
        against :meth:`live_view`. A kind may key entries by their identity here so that a
        difference reads ``rows[GRAD].enabled``."""
        return dict(desired), self.live_view(desired, live)

    def restoring(self, written: Fields, saved: Fields) -> dict[str, Any]:
        """The fields of an update that sets back what an update of ``written`` changed,
        given the resource's live state ``saved`` before it (rollback): by default the saved
        values of the fields written."""
        return {name: saved[name] for name in written if name in saved}

    def revert(self, client: AlmaClient, key: Key, written: Fields, restored: Fields) -> None:
        """Rollback's write: put ``restored`` (from :meth:`restoring`) back over what an
        update of ``written`` changed. By default an ordinary update."""
        self.update(client, key, restored)

    def unready(self, fields: Fields) -> list[str]:
        """Why ``fields`` cannot be written right now (e.g. a secret's environment variable
        is unset). Apply checks every change before its first write."""
        return []

    def dependencies(self, key: Key, fields: Fields) -> Iterator[tuple[Kind, Key]]:
        """Resources of other kinds (or this one) that ``fields`` refer to. A change is
        skipped when a change it depends on failed; deletes wait for what refers to them."""
        return iter(())

    def write_target(self, key: Key, fields: Fields) -> Hashable:
        """What in Alma a write of ``key`` with ``fields`` changes, or reads that its
        siblings' writes change: apply never runs two writes of one kind with the same
        target at once. By default the resource itself; a kind whose writes read and
        replace something shared (a whole table), or whose resources are found through a
        list every write of the kind changes (sets, letters...), says so."""
        return key

    def prunable(self, key: Key, rule: bool | frozenset[str]) -> bool:
        """Whether the prune rule owns ``key``: ``true`` owns every resource, a list the
        resources in its scopes (the key's first part: a location's library). Never for a
        kind Alma cannot delete."""
        if not self.capabilities.prune:
            return False
        return rule is True or (isinstance(rule, frozenset) and key[0] in rule)

    # -- Alma side -----------------------------------------------------------------------

    @abstractmethod
    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        """Live resources: every declared one that exists, plus those in prune scope."""

    def read_one(self, client: AlmaClient, key: Key,
                 fields: frozenset[str] = frozenset()) -> Fields | None:
        """The live state of the resource ``key`` (every field of the model, and ``fields``),
        or None when Alma does not have it. The default asks :meth:`read_live` for that one
        key; a kind whose single-object GET answers "not found" unambiguously may read it
        directly."""
        wanted = frozenset(self.model.model_fields) | fields
        return self.read_live(client, LiveQuery({key: wanted}), References(client)).get(key)

    # A kind overrides the writes its capabilities allow; the others refuse, all in the same words.

    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        self.refuse("create", key)

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        """Change the declared ``fields``; everything else stays as it is live."""
        self.refuse("update", key)

    def delete(self, client: AlmaClient, key: Key) -> None:
        self.refuse("delete", key)

    def refuse(self, action: str, key: Key) -> NoReturn:
        """Stop a write the kind's capabilities do not allow, before any call."""
        raise AlmasyncError(f"{self.kind.config_key} {format_key(key)}: Alma has no way to "
                            f"{action} {self.kind.config_key.replace('_', ' ')} through the "
                            "API")
