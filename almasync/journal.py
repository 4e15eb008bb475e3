"""The write journal of an apply: what it meant to write, and what became of each write.

A journal is written (fsync, then an atomic rename) before the first write and again around
every write: the change is marked ``started`` before its request goes out and gets its
outcome after the answer. Whatever stops the process, even SIGKILL, the file on disk tells
which writes certainly happened (``applied``), which certainly did not (``pending``,
``failed``, ``skipped``, ``not_applied``) and which may have (``started``, ``unknown``);
``almasync rollback`` resolves the last two by reading Alma. See docs/journal.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from almasync.errors import ConfigError
from almasync.kinds import HANDLERS
from almasync.model import Fields, Key, Kind
from almasync.plan.changes import Change
from almasync.plan.plan import Plan, changes_from

FORMAT_VERSION = 2
SENSITIVE = "(sensitive)"


class State(Enum):
    PENDING = "pending"            # not reached yet
    STARTED = "started"            # the request went out; its outcome is not known yet
    APPLIED = "applied"            # Alma confirmed it (or a read-back found it done)
    FAILED = "failed"              # Alma refused it: nothing was written
    SKIPPED = "skipped"            # not attempted (a dependency did not apply, or the run
    #                                stopped before it)
    NOT_APPLIED = "not_applied"    # not written: stale, or the run was interrupted first
    UNKNOWN = "unknown"            # the answer was lost and could not be settled

    @property
    def certain(self) -> bool:
        return self not in (State.STARTED, State.UNKNOWN)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_durably(path: Path, text: str) -> None:
    """Write ``text`` beside ``path``, fsync it, rename it into place and fsync the folder,
    so that after a crash the file is either the old one or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform without directory handles
        return
    try:
        os.fsync(folder)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(folder)


#: The parts of a journal fixed when it starts (see :meth:`Journal.text`).
FIXED = ("plan", "resources")


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _slot(name: str) -> str:
    """A string no journal holds (JSON text never contains a raw NUL), standing for the
    serialised ``name`` while the rest is serialised."""
    return f"\0{name}\0"


class Journal:
    """One apply's journal file; every state change is on disk before the call returns."""

    def __init__(self, path: Path, body: dict[str, Any]) -> None:
        self.path = path
        self.body = body
        self._fixed: dict[str, str] = {}

    # -- writing --------------------------------------------------------------------------

    @classmethod
    def start(cls, plan: Plan, touched: Mapping[Kind, Mapping[Key, Fields]],
              directory: Path, *, command: str = "apply") -> Journal:
        """Write the journal of ``plan`` (every change ``pending``) with the full live state
        of what it touches. Sensitive fields are not kept (a rollback cannot restore a
        secret)."""
        body = plan.to_dict()
        resources = []
        for change in plan.changes:
            current = touched.get(change.kind, {}).get(change.key)
            hidden = HANDLERS[change.kind].sensitive_fields
            resources.append({
                "kind": change.kind.value, "key_parts": list(change.key),
                "live": None if current is None else
                {k: (SENSITIVE if k in hidden else v) for k, v in current.items()},
            })
        digest = hashlib.sha256(json.dumps(body["changes"], sort_keys=True).encode())
        journal = {
            "format_version": FORMAT_VERSION, "command": command,
            "target": dict(plan.target), "plan": body["changes"],
            "live_counts": body["live_counts"], "resources": resources,
            "states": [{"state": State.PENDING.value} for _ in plan.changes],
            "started_at": _now(), "finished_at": None, "stopped": None,
        }
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = directory / f"{stamp}-{digest.hexdigest()[:8]}.json"
        created = cls(path, journal)
        created.flush()
        return created

    def flush(self) -> None:
        self.write(self.text())

    def text(self) -> str:
        """The file as it stands in memory (marks made by :meth:`record` included).

        The plan and the saved resources never change once the journal is started, and
        are most of its size: they are serialised once and spliced into each flush, which
        otherwise would cost the whole journal's serialisation per mark."""
        if not self._fixed:
            self._fixed = {name: _dumps(self.body[name]).replace("\n", "\n  ")
                           for name in FIXED if name in self.body}
        shell = {**self.body, **{name: _slot(name) for name in self._fixed}}
        text = _dumps(shell)
        for name, value in self._fixed.items():
            text = text.replace(json.dumps(_slot(name)), value, 1)
        return text + "\n"

    def write(self, text: str) -> None:
        """Put ``text`` (from :meth:`text`) on disk durably."""
        write_durably(self.path, text)

    def mark(self, index: int, state: State, note: str | None = None,
             code: str | None = None) -> None:
        self.record(index, state, note, code)
        self.flush()

    def record(self, index: int, state: State, note: str | None = None,
               code: str | None = None) -> None:
        """Change one state in memory only: on disk with the next flush. A caller writing
        from several threads records under its lock and flushes one at a time, so one flush
        carries every mark recorded before it (see ``workflow._Writer``)."""
        entry: dict[str, Any] = {"state": state.value, "at": _now()}
        if note:
            entry["note"] = note
        if code:
            entry["code"] = code
        self.body["states"][index] = entry

    def finish(self, stopped: str | None = None) -> None:
        self.body["finished_at"] = _now()
        self.body["stopped"] = stopped
        self.flush()

    # -- reading --------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> Journal:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a journal ({exc})") from exc
        if not isinstance(body, dict) or body.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"{path}: not an almasync journal of format version "
                              f"{FORMAT_VERSION}")
        return cls(path, body)

    def plan(self) -> Plan:
        try:
            changes = changes_from(self.body["plan"])
            counts = {Kind(k): int(v) for k, v in self.body.get("live_counts", {}).items()}
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"{self.path}: the journal is damaged: {exc!r}") from exc
        return Plan(changes, (), counts, dict(self.body.get("target", {})))

    def entries(self) -> list[tuple[Change, State, Fields | None]]:
        """Each change with its state and the live state saved before the apply."""
        saved = {(r["kind"], tuple(r["key_parts"])): r["live"]
                 for r in self.body["resources"]}
        return [(change, State(self.body["states"][i]["state"]),
                 saved.get((change.kind.value, change.key)))
                for i, change in enumerate(self.plan().changes)]

    def state(self, index: int) -> State:
        return State(self.body["states"][index]["state"])
