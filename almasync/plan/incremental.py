"""``plan --changed-since REF``: plan only what the files changed since a git ref can affect.

The config tree is loaded twice, as the commit ``REF`` has it and as it is now (the same
``--env`` overlay and ``${VAR}`` values on both sides), and compared kind by kind:

* a declaration added, or whose declared fields differ, is planned as usual;
* a declaration removed where the current prune rule owns it is a delete candidate: only
  that resource is read (nothing is deleted when Alma no longer has it);
* a declaration removed where nothing prunes only stops being managed: nothing is read;
* a kind whose prune rule now owns more than at ``REF`` is planned in full, with the lists
  prune reads;
* a changed ``post_apply`` has its profiles checked; other settings need no reads (the
  safety rules judge the plan as always).

Everything else declared is left unread, and the plan says so. Resources that changed in
Alma alone are not seen: that is what a full ``plan`` and ``drift`` are for.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from almasync.config.loader import DesiredState, Reader, load_config
from almasync.config.settings import Settings
from almasync.config.yamlread import YamlDoc, read_yaml
from almasync.engine import LiveState
from almasync.errors import ConfigError, Mark, Problem
from almasync.gitref import Checkout
from almasync.kinds import ORDER
from almasync.model import Fields, Key, Kind, Resource
from almasync.plan.plan import Plan


@dataclass(frozen=True)
class Scope:
    """What an incremental plan reads, per kind."""

    ref: str
    #: Declarations added or changed since ``ref``.
    changed: Mapping[Kind, frozenset[Key]] = field(default_factory=dict)
    #: Declarations removed since ``ref`` that the prune rule owns -> the fields they had.
    removed: Mapping[Kind, Mapping[Key, frozenset[str]]] = field(default_factory=dict)
    #: Kinds planned in full: their prune rule owns more than it did at ``ref``.
    whole: frozenset[Kind] = frozenset()
    #: ``post_apply`` changed: its references are checked.
    settings_changed: bool = False
    #: Declarations unchanged since ``ref``: not read.
    unread: Mapping[Kind, tuple[Key, ...]] = field(default_factory=dict)

    def _keep(self, kind: Kind, desired: DesiredState) -> dict[Key, Resource]:
        if kind in self.whole:
            return dict(desired.of(kind))
        wanted = self.changed.get(kind, frozenset())
        return {key: r for key, r in desired.of(kind).items() if key in wanted}

    def planning(self, desired: DesiredState) -> DesiredState:
        """The desired state the plan diffs: the changed declarations (every declaration of
        a kind planned in full), under the current settings."""
        resources = {kind: kept for kind in desired.resources
                     if (kept := self._keep(kind, desired))}
        return dataclasses.replace(desired, resources=resources)

    def reading(self, desired: DesiredState) -> DesiredState:
        """The desired state that drives the reads: as :meth:`planning`, with the prune
        rules of the kinds not planned in full left out, so that no prune list is read."""
        planned = self.planning(desired)
        prune = {name: rule for name, rule in desired.settings.prune.items()
                 if any(h.kind.config_key == name and h.kind in self.whole for h in ORDER)}
        settings = desired.settings.model_copy(update={"prune": prune})
        return dataclasses.replace(planned, settings=settings)

    def also(self) -> dict[Kind, Mapping[Key, frozenset[str]]]:
        """Resources to read though no current file declares them (delete candidates)."""
        return {kind: keys for kind, keys in self.removed.items() if kind not in self.whole}

    def restrict(self, live: LiveState) -> LiveState:
        """What was read, cut to the resources in scope: a kind may list more than it was
        asked for (a library's locations), and what is unchanged stays out of the plan."""
        out: dict[Kind, Mapping[Key, Fields]] = {}
        for kind, found in live.items():
            if kind in self.whole:
                out[kind] = found
                continue
            keys = self.changed.get(kind, frozenset()) | set(self.removed.get(kind, {}))
            out[kind] = {key: fields for key, fields in found.items() if key in keys}
        return out

    def finish(self, plan: Plan) -> Plan:
        """The plan with what was not read: counted as live for the safety rules' percent
        caps (they were declared at ``ref`` and still are) and listed in the plan."""
        counts = dict(plan.live_counts)
        for kind, keys in self.unread.items():
            if kind in counts:
                counts[kind] += len(keys)
        return dataclasses.replace(plan, live_counts=counts, changed_since=self.ref,
                                   not_read=dict(self.unread))


def load_since(directory: Path, ref: str,
               env: str | None) -> tuple[DesiredState, Scope]:
    """The tree as it is, and the scope of its changes since ``ref``. A file that git
    reports unchanged is parsed once: the tree at ``ref`` reuses what was read of it."""
    checkout = Checkout.open(directory, ref)
    parsed = _Parsed(directory)
    desired = load_config(directory, env, reader=parsed.read)
    changed = checkout.changed_files()
    if not changed:
        return desired, compare(ref, desired, desired)
    prefix = "" if checkout.folder == "." else checkout.folder + "/"
    edited = {name[len(prefix):] for name in changed if name.startswith(prefix)}
    with tempfile.TemporaryDirectory(prefix="almasync-ref-") as tmp:
        folder = checkout.extract(Path(tmp))
        if folder is None:
            return desired, compare(ref, DesiredState(Path(tmp), Settings()), desired)
        try:
            before = load_config(folder, env, reader=parsed.reusing(folder, edited))
        except ConfigError as exc:
            raise ConfigError([
                Problem(None, f"--changed-since {ref}: the config as of {ref} does not "
                        "load, so there is nothing to compare with; plan without "
                        "--changed-since"),
                *(_at_ref(p, Path(tmp), ref) for p in exc.problems)]) from None
    return desired, compare(ref, before, desired)


@dataclass
class _Parsed:
    """The files of the current tree as parsed, by path relative to the tree."""

    root: Path
    docs: dict[str, YamlDoc] = field(default_factory=dict)

    def read(self, path: Path, name: str, root: Path) -> YamlDoc:
        doc = read_yaml(path, name, root)
        self.docs[path.relative_to(self.root).as_posix()] = doc
        return doc

    def reusing(self, folder: Path, edited: set[str]) -> Reader:
        """A reader of the tree at ``ref`` in ``folder``: a file git reports unchanged is
        the document already parsed, placed in ``folder`` (files it names, such as a
        letter's template, are read there)."""
        def read(path: Path, name: str, root: Path) -> YamlDoc:
            rel = path.relative_to(folder).as_posix()
            doc = self.docs.get(rel)
            if doc is None or rel in edited:
                return read_yaml(path, name, root)
            return dataclasses.replace(doc, name=name, root=root)
        return read


def compare(ref: str, before: DesiredState, now: DesiredState) -> Scope:
    """The scope of an incremental plan from the two trees."""
    changed: dict[Kind, frozenset[Key]] = {}
    removed: dict[Kind, Mapping[Key, frozenset[str]]] = {}
    unread: dict[Kind, tuple[Key, ...]] = {}
    whole: set[Kind] = set()
    for handler in ORDER:
        kind, old, new = handler.kind, before.of(handler.kind), now.of(handler.kind)
        rule = now.settings.prune_rule(kind)
        if handler.capabilities.prune and _widened(before.settings.prune_rule(kind), rule):
            whole.add(kind)
            continue
        edited = frozenset(key for key, r in new.items()
                           if key not in old or old[key].fields != r.fields)
        gone = {key: frozenset(r.fields) for key, r in old.items()
                if key not in new and handler.prunable(key, rule)}
        rest = tuple(sorted(key for key in new if key not in edited))
        if edited:
            changed[kind] = edited
        if gone:
            removed[kind] = gone
        if rest:
            unread[kind] = rest
    return Scope(ref, changed, removed, frozenset(whole),
                 before.settings.post_apply != now.settings.post_apply, unread)


def _widened(old: bool | frozenset[str], new: bool | frozenset[str]) -> bool:
    """Whether the prune rule ``new`` owns something ``old`` did not."""
    if new is False or old is True:
        return False
    if new is True:
        return True
    return bool(new - (old or frozenset()))


def _at_ref(problem: Problem, tmp: Path, ref: str) -> Problem:
    """A problem of the tree at ``ref``, located as ``REF:path/in/repo:line:col``."""
    mark = problem.mark
    if mark is None:
        return problem
    try:
        where = Path(mark.file).relative_to(tmp).as_posix()
    except ValueError:
        return problem
    return Problem(Mark(f"{ref}:{where}", mark.line, mark.col), problem.message)
