"""The plan: an ordered list of changes, its summary, and its JSON form."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from almasync.errors import ConfigError
from almasync.model import Key, Kind, format_key, parse_key
from almasync.plan.changes import ABSENT, Action, Change, FieldDiff

FORMAT_VERSION = 2


@dataclass(frozen=True)
class Plan:
    """Ordered changes plus what drift reports about resources no file declares."""

    changes: tuple[Change, ...]
    unmanaged: tuple[tuple[Kind, Key], ...] = ()
    live_counts: Mapping[Kind, int] = field(default_factory=dict)
    target: Mapping[str, str] = field(default_factory=dict)
    #: What the ``post_apply`` jobs will do after a successful apply, one line each.
    post_apply: tuple[str, ...] = ()
    #: Differences in read-only configuration: only Alma's UI can make them, so they are
    #: shown and counted (``--detailed-exitcode``, drift) but never applied.
    alma_only: tuple[Change, ...] = ()
    #: The settings in force when the plan was made (:mod:`almasync.plan.recorded`), so a
    #: saved plan applies the same way wherever it runs. Never a key.
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: ``plan --changed-since REF``: the ref, and the declarations left unread because they
    #: are unchanged since it (:mod:`almasync.plan.incremental`).
    changed_since: str | None = None
    not_read: Mapping[Kind, tuple[Key, ...]] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(change.action.value for change in self.changes)
        return {action.value: counts.get(action.value, 0) for action in Action}

    @property
    def empty(self) -> bool:
        """No writes to make (read-only differences are not writes)."""
        return not self.changes

    @property
    def differs(self) -> bool:
        """Anything differs between the files and Alma: a write, or a read-only difference
        to make in Alma (what ``--detailed-exitcode`` and ``drift`` exit 2 for)."""
        return bool(self.changes or self.alma_only)

    @property
    def digest(self) -> str:
        """``sha256:`` of the changes in their saved form: two plans with the same digest
        make the same writes, so a review comment can name exactly what was approved."""
        return _sha256([_change_dict(change) for change in self.changes])

    def of(self, action: Action) -> list[Change]:
        return [change for change in self.changes if change.action is action]

    def to_dict(self) -> dict[str, Any]:
        """The plan file / ``--format json`` body: deterministic, no secrets, no timestamps.
        ``digest`` is :attr:`digest` (the changes, as a review names them); ``file_digest``
        seals everything else in the file, the settings and the institution included."""
        body = {
            "format_version": FORMAT_VERSION,
            "target": dict(sorted(self.target.items())),
            "changes": [_change_dict(change) for change in self.changes],
            "summary": self.summary,
            "live_counts": {kind.value: n for kind, n in sorted(
                self.live_counts.items(), key=lambda item: item[0].value)},
            "unmanaged": [{"kind": kind.value, "key": format_key(key), "key_parts": list(key)}
                          for kind, key in self.unmanaged],
            "post_apply": list(self.post_apply),
            "alma_only": [{**_change_dict(change), "message": alma_only_message(change)}
                          for change in self.alma_only],
            "settings": dict(self.settings),
            "digest": self.digest,
        }
        if self.changed_since is not None:
            body["changed_since"] = {
                "ref": self.changed_since,
                "not_read": {kind.value: [format_key(key) for key in keys]
                             for kind, keys in sorted(self.not_read.items(),
                                                      key=lambda item: item[0].value)}}
        return {**body, "file_digest": file_digest(body)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """Read a saved plan. A file of another format version, or one whose content does
        not match its digests (edited after ``plan`` wrote it), is refused (exit 3)."""
        if data.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"plan file format_version {data.get('format_version')!r} is "
                              f"not {FORMAT_VERSION}; make the plan again with this version")
        body = {k: v for k, v in data.items() if k != "file_digest"}
        if data.get("file_digest") != file_digest(body):
            raise ConfigError(f"the plan file's file_digest ({data.get('file_digest') or 'none'})"
                              " does not match its content: it was changed after `plan` wrote "
                              "it; make the plan again")
        try:
            changes = changes_from(data["changes"])
            counts = {Kind(k): int(v) for k, v in data.get("live_counts", {}).items()}
            jobs = tuple(str(line) for line in data.get("post_apply", []))
            since = data.get("changed_since")
            not_read = {Kind(k): tuple(parse_key(key) for key in keys)
                        for k, keys in (since or {}).get("not_read", {}).items()}
            ref = str(since["ref"]) if since else None
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise ConfigError(f"plan file is damaged: {exc!r}") from exc
        plan = cls(changes, (), counts, dict(data.get("target", {})), jobs,
                   settings=dict(data.get("settings") or {}),
                   changed_since=ref, not_read=not_read)
        if data.get("digest") != plan.digest:
            raise ConfigError(f"the plan file's digest ({data.get('digest') or 'none'}) does "
                              f"not match its changes ({plan.digest}): they were changed after "
                              "`plan` wrote them; make the plan again")
        return plan


def file_digest(body: Mapping[str, Any]) -> str:
    """``sha256:`` of a plan file's body without its ``file_digest``."""
    return _sha256(body)


def _sha256(value: Any) -> str:
    """``sha256:`` of the canonical JSON of ``value`` (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def changes_from(items: Any) -> tuple[Change, ...]:
    """Changes from their JSON form (a plan's ``changes``); KeyError/ValueError if damaged."""
    return tuple(_change_from(item) for item in items)


def alma_only_message(change: Change) -> str:
    """What to do about a read-only difference."""
    if change.action is Action.CREATE:
        return ("does not exist in Alma and cannot be created through the API; create it "
                "in Alma")
    return "cannot be changed through the API; change it in Alma"


def _jsonable(value: Any) -> Any:
    return None if value is ABSENT else value


def _change_dict(change: Change) -> dict[str, Any]:
    return {
        "action": change.action.value,
        "kind": change.kind.value,
        "key": format_key(change.key),
        "key_parts": list(change.key),
        "before": change.before,
        "after": change.after,
        "diff": [{"path": d.path, "before": _jsonable(d.before), "after": _jsonable(d.after),
                  "absent": [side for side, v in (("before", d.before), ("after", d.after))
                             if v is ABSENT]}
                 for d in change.diffs],
        "fingerprint": change.fingerprint,
        **({"revert": change.revert} if change.revert is not None else {}),
    }


def _change_from(item: Mapping[str, Any]) -> Change:
    diffs = tuple(
        FieldDiff(d["path"], ABSENT if "before" in d.get("absent", []) else d["before"],
                  ABSENT if "after" in d.get("absent", []) else d["after"])
        for d in item.get("diff", []))
    return Change(Action(item["action"]), Kind(item["kind"]), tuple(item["key_parts"]),
                  item.get("before"), item.get("after"), diffs, item.get("fingerprint"),
                  revert=item.get("revert"))
