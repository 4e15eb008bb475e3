"""One apply or rollback at a time per institution, on this machine.

The lock is an ``flock`` on ``$XDG_STATE_HOME/almasync/locks/<institution>.lock`` (default
``~/.local/state``). The kernel releases it when its holder ends, however it ends, so a run
killed with SIGKILL never blocks the next one. While held, the file names the holder (pid,
start time, command); a holder that ends normally empties it. A file that still names a
process when the lock is free was left by a run that died: the next run takes it over and
says so.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from almasync.errors import LockTimeout

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock."""

    pid: int
    started: str
    command: str = ""

    @property
    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process: it exists
            return True
        return True

    def __str__(self) -> str:
        what = f"{self.command} " if self.command else ""
        return f"{what}(pid {self.pid}, started {self.started})"


def lock_dir() -> Path:
    """Where locks live: the user's state directory (XDG Base Directory)."""
    state = os.environ.get("XDG_STATE_HOME") or ""
    base = Path(state) if os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "almasync" / "locks"


def lock_path(institution: str) -> Path:
    return lock_dir() / f"{_UNSAFE.sub('_', institution) or '_'}.lock"


@contextmanager
def institution_lock(institution: str, *, command: str = "", timeout: float | None = None,
                     on_wait: Callable[[Holder | None], None] | None = None,
                     on_stale: Callable[[Holder], None] | None = None,
                     poll: float = 0.2) -> Iterator[Path]:
    """Hold the lock of ``institution`` for the ``with`` block.

    When another run holds it, ``on_wait`` is told who (once) and the lock is waited for;
    after ``timeout`` seconds (None: no limit, 0: do not wait) :class:`LockTimeout` is raised
    (exit 5). ``on_stale`` hears of a lock left by a process that no longer runs."""
    path = lock_path(institution)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, path, institution, timeout, on_wait, poll)
        left = _read_holder(fd)
        if left is not None and left.pid != os.getpid() and on_stale is not None:
            on_stale(left)
        me = Holder(os.getpid(), dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    command)
        _write(fd, json.dumps({"pid": me.pid, "started": me.started, "command": command}))
        try:
            yield path
        finally:
            _write(fd, "")
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, institution: str, timeout: float | None,
             on_wait: Callable[[Holder | None], None] | None, poll: float) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = _read_holder(fd)
        if deadline is not None and time.monotonic() >= deadline:
            who = f" by {holder}" if holder else ""
            raise LockTimeout(
                f"another almasync run against institution {institution} holds its lock{who} "
                f"({path}); gave up after {timeout:g} s (--lock-timeout); nothing was written")
        if not told and on_wait is not None:
            on_wait(holder)
            told = True
        time.sleep(poll if deadline is None else max(0.0, min(poll,
                                                               deadline - time.monotonic())))


def _read_holder(fd: int) -> Holder | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", errors="replace").strip()
    if not text:
        return None
    try:
        data = json.loads(text)
        return Holder(int(data["pid"]), str(data.get("started", "?")),
                      str(data.get("command", "")))
    except (ValueError, KeyError, TypeError):
        return None


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text.encode("utf-8"))
    os.fsync(fd)
