"""The config tree as of a git ref, for ``plan --changed-since REF``.

Only git's own command line is used (``git`` must be on the PATH): the repository that holds
the config folder, the commit a ref names, the files changed since it (tracked and
untracked), and a copy of the folder as the commit has it. Nothing here writes to the
repository.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from almasync.errors import UsageError


@dataclass(frozen=True)
class Checkout:
    """A config folder inside a git repository, compared with ``ref``."""

    repo: Path
    folder: str  # the config folder relative to the repository, in git's form ("." at the top)
    ref: str
    commit: str

    @classmethod
    def open(cls, directory: Path, ref: str) -> Checkout:
        """Find the repository of ``directory`` and the commit ``ref`` names; a usage
        error (exit 64) when there is no repository, no git, or no such commit."""
        if not directory.is_dir():
            raise UsageError(f"--changed-since: {directory} is not a directory")
        where = directory.resolve()
        found = _git(where, "rev-parse", "--show-toplevel", check=False)
        if found.returncode != 0:
            raise UsageError(f"--changed-since {ref}: {directory} is not inside a git "
                             "repository; plan without --changed-since")
        repo = Path(found.stdout.strip()).resolve()
        try:
            rel = where.relative_to(repo)
        except ValueError:
            raise UsageError(f"--changed-since {ref}: {directory} is outside the git "
                             f"repository {repo}") from None
        if ref.startswith("-"):
            raise UsageError(f"--changed-since {ref!r}: not a git ref")
        named = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
                     check=False)
        if named.returncode != 0:
            raise UsageError(f"--changed-since {ref}: no such commit in {repo} (a branch, "
                             "tag or commit; in CI, fetch the base branch first, e.g. "
                             "fetch-depth: 0)")
        return cls(repo, rel.as_posix() or ".", ref, named.stdout.strip())

    def changed_files(self) -> list[str]:
        """Files of the folder that differ from the commit (``git diff --name-only``) or
        that git does not track (new or ignored: almasync reads them all the same; hidden
        folders such as ``.almasync/`` aside), relative to the repository."""
        diff = _git(self.repo, "diff", "--name-only", "--no-renames", self.commit, "--",
                    self.folder).stdout.splitlines()
        prefix = "" if self.folder == "." else self.folder + "/"
        new = [name for name in _git(self.repo, "ls-files", "--others", "--",
                                     self.folder).stdout.splitlines()
               if not any(part.startswith(".") for part in name[len(prefix):].split("/"))]
        return sorted({*diff, *new} - {""})

    def extract(self, into: Path) -> Path | None:
        """Write the folder as the commit has it under ``into``; its path there, or None
        when the commit has no such folder."""
        spec = f"{self.commit}:{'' if self.folder == '.' else self.folder}"
        if _git(self.repo, "cat-file", "-e", spec, check=False).returncode != 0:
            return None
        paths = [] if self.folder == "." else [self.folder]
        archive = subprocess.run(["git", "archive", "--format=tar", self.commit, *paths],
                                 cwd=self.repo, capture_output=True, check=False)
        if archive.returncode != 0:
            raise UsageError(f"--changed-since {self.ref}: git archive failed: "
                             + archive.stderr.decode(errors="replace").strip())
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
                tar.extractall(into, filter="data")
            else:  # pragma: no cover - git's own archive of the repository's files
                tar.extractall(into)
        return into / self.folder


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              check=False)
    except FileNotFoundError:
        raise UsageError("--changed-since needs git, which is not installed or not on the "
                         "PATH") from None
    if check and done.returncode != 0:
        raise UsageError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done
