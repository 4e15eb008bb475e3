"""The three kinds of change and their total order."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from almasync.errors import Mark
from almasync.model import Fields, Key, Kind, format_key


class Action(Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "delete": "-"}[self.value]


@dataclass(frozen=True)
class FieldDiff:
    """One field (or row field) that differs; ``path`` is readable, e.g. ``rows[GRAD].enabled``.

    ``before`` / ``after`` of :data:`ABSENT` mean the field or row does not exist on that side.
    """

    path: str
    before: Any
    after: Any


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Change:
    """One create, update or delete of one resource.

    ``before`` is the live state of the declared fields (None for a create; the whole live
    resource for a delete), ``after`` the declared fields to write (None for a delete).
    ``fingerprint`` identifies the live state the change was planned against, so a saved
    plan can be checked for staleness.
    """

    action: Action
    kind: Kind
    key: Key
    before: Fields | None
    after: Fields | None
    diffs: tuple[FieldDiff, ...] = ()
    fingerprint: str | None = None
    mark: Mark | None = field(default=None, compare=False)
    #: For a rollback's update: the fields the undone change wrote. The write then puts
    #: ``after`` back over exactly what that change touched (see ``KindHandler.revert``).
    revert: Fields | None = None

    @property
    def name(self) -> str:
        return f"{self.kind.config_key} {format_key(self.key)}"


def order_key(change: Change, rank: int) -> tuple[int, int, Key]:
    """Total order: deletes first in reverse dependency order (what refers to something is
    deleted before it), then creates and updates in dependency order (what is referred to is
    written first); within a kind, by key."""
    if change.action is Action.DELETE:
        return (0, -rank, change.key)
    return (1, rank, change.key)
