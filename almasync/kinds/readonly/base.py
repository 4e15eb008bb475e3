"""What every read-only kind shares: one mapping of keys to fields, read from one list.

A read-only kind declares ``read_only = True``; everything else follows from it: the plan
puts its differences among the changes only Alma can make (never among the writes),
``validate`` and the settings schema refuse ``prune`` and the other write options for it,
the resource schema marks its subtree ``readOnly``, and ``export`` writes it under
``readonly/``. Its ``create``, ``update`` and ``delete`` refuse, so no path can write it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from almasync.alma.client import AlmaClient
from almasync.config.yamlread import NodePath, YamlDoc
from almasync.errors import AlmasyncError, Problem
from almasync.kinds.base import Declared, KindHandler, LiveQuery, not_a_mapping
from almasync.kinds.references import References
from almasync.kinds.wire import as_bool, unwrap
from almasync.model import Fields, Key, Resource

#: The sentence the plan shows for a difference in read-only configuration.
CHANGE_IN_ALMA = "cannot be changed through the API; change it in Alma"
CREATE_IN_ALMA = "does not exist in Alma and cannot be created through the API; create it in Alma"


class ReadOnlyHandler(KindHandler):
    """A kind Alma's API can only read. Subclasses name the list endpoint and the fields."""

    read_only: ClassVar[bool] = True
    prune_supported: ClassVar[bool] = False
    list_path: ClassVar[str]
    list_key: ClassVar[str]
    #: Whether the list takes ``limit``/``offset`` (Alma's default page is 10 entries).
    paged: ClassVar[bool] = False
    key_field: ClassVar[str] = "code"
    #: Fields that hold booleans (Alma may spell them as strings).
    booleans: ClassVar[frozenset[str]] = frozenset()
    #: What a key stands for, for shape messages ("department codes").
    keys_are: ClassVar[str] = "codes"

    # -- config side ---------------------------------------------------------------------

    def declared(self, node: Any, path: NodePath, doc: YamlDoc) -> Iterator[Declared | Problem]:
        name = self.kind.config_key
        problem = not_a_mapping(node, path, doc, f"{self.keys_are} to their fields")
        if problem:
            yield problem
            return
        for code, raw in node.items():
            yield Declared((str(code),), raw, (*path, code), f"{name}.{code}")

    def export(self, resources: Mapping[Key, Resource]) -> Any:
        return {key[-1]: self.exported_fields(resources[key].fields)
                for key in sorted(resources)}

    def exported_fields(self, fields: Fields) -> dict[str, Any]:
        """Every field with a value, in the model's order (empty values say nothing)."""
        return {name: fields[name] for name in self.model.model_fields
                if fields.get(name) not in (None, "", [])}

    def subtree_schema(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "readOnly": True,
                "description": f"{self.keys_are} -> fields. " + READ_ONLY_NOTE,
                "additionalProperties": fields}

    # -- Alma side -----------------------------------------------------------------------

    def entries(self, client: AlmaClient, query: LiveQuery,
                refs: References) -> Sequence[Mapping[str, Any]]:
        """Alma's entries of this kind (the list endpoint by default)."""
        return client.get_list(self.list_path, self.list_key, paged=self.paged)

    def key_of(self, entry: Mapping[str, Any]) -> Key:
        return (str(unwrap(entry[self.key_field])),)

    def normalise(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Alma's JSON -> the declared form: the model's fields, plain values."""
        out: dict[str, Any] = {}
        for name in self.model.model_fields:
            if name in entry:
                value = entry[name]
                out[name] = as_bool(value) if name in self.booleans else unwrap(value)
        return out

    def read_live(self, client: AlmaClient, query: LiveQuery,
                  refs: References) -> dict[Key, Fields]:
        live: dict[Key, Fields] = {self.key_of(e): self.normalise(e)
                                   for e in self.entries(client, query, refs)}
        if query.everything:
            return live
        return {key: fields for key, fields in live.items() if key in query.wanted}

    def create(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        raise ReadOnlyKindError(self, key)

    def update(self, client: AlmaClient, key: Key, fields: Fields) -> None:
        raise ReadOnlyKindError(self, key)

    def delete(self, client: AlmaClient, key: Key) -> None:
        raise ReadOnlyKindError(self, key)


READ_ONLY_NOTE = ("Read-only: Alma's API cannot change these. almasync exports them and "
                  "drift compares them; plan shows a declared value that differs as "
                  f"'{CHANGE_IN_ALMA}', and apply never writes it.")


class ReadOnlyKindError(AlmasyncError):
    """A write was asked of a read-only kind (the plan never makes one)."""

    def __init__(self, handler: KindHandler, key: Key) -> None:
        super().__init__(f"{handler.kind.value} {'/'.join(key)}: {CHANGE_IN_ALMA}")


def values(node: Any, inner: str, field: str | None = None) -> list[str]:
    """A repeated part -> its plain values. Alma nests repeated parts under a singular key
    (``served_libraries: {library: [...]}``) and may flatten them (a bare list, or one
    entry instead of a list), so each form is read: ``field`` picks a key of each entry."""
    if isinstance(node, Mapping):
        node = node.get(inner, [])
    if isinstance(node, Mapping):
        node = [node]
    out = []
    for item in node or []:
        value = item.get(field) if field and isinstance(item, Mapping) else unwrap(item)
        if value not in (None, ""):
            out.append(str(value))
    return out


def unknown_libraries(label: str, resource: Resource, names: tuple[str, ...],
                      libraries: Mapping[str, Any], also: frozenset[str] = frozenset()
                      ) -> list[Problem]:
    """A located problem for each library code in ``names`` fields that Alma lacks."""
    problems = []
    for name in names:
        given = resource.fields.get(name)
        for code in given if isinstance(given, list) else [given] if given else []:
            if code not in libraries and code not in also:
                problems.append(Problem(resource.marks.get(name, resource.mark),
                                        f"{label}.{name}: library {code!r} does not exist in "
                                        f"Alma (libraries: {', '.join(sorted(libraries))})"))
    return problems
