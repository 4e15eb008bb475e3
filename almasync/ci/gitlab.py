"""The GitLab side of the shipped pipeline (``examples/ci/gitlab/``): one merge-request note
with the plan, kept current; the digest of the reviewed plan for the merge job; one issue
per environment while drift lasts.

Run as ``python -m almasync.ci.gitlab COMMAND ...`` inside a GitLab job. It reads GitLab's
predefined variables (``CI_API_V4_URL``, ``CI_PROJECT_ID``) and a project access token with
the ``api`` scope in ``ALMASYNC_GITLAB_TOKEN`` (the job token cannot write notes).
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.parse
import urllib.request
from typing import Any

DRIFT_LABEL = "almasync-drift"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class GitLab:
    def __init__(self, api: str, project: str, token: str) -> None:
        self.base = f"{api.rstrip('/')}/projects/{urllib.parse.quote(project, safe='')}"
        self.token = token

    @classmethod
    def from_environment(cls) -> GitLab:
        try:
            return cls(os.environ["CI_API_V4_URL"], os.environ["CI_PROJECT_ID"],
                       os.environ["ALMASYNC_GITLAB_TOKEN"])
        except KeyError as exc:
            raise SystemExit(f"{exc.args[0]} is not set") from exc

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             query: dict[str, str] | None = None) -> Any:
        url = f"{self.base}/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "PRIVATE-TOKEN": self.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode("utf-8")
        return json.loads(text) if text else None

    def pages(self, path: str, **query: str) -> list[Any]:
        items: list[Any] = []
        page = 1
        while True:
            batch = self.call("GET", path, query={**query, "per_page": "100",
                                                  "page": str(page)})
            items += batch
            if len(batch) < 100:
                return items
            page += 1


def _marker_of(report: str) -> str:
    return report.split("\n", 1)[0]


def comment(lab: GitLab, mr: str, report: str) -> str:
    """Create or update the merge request's note that starts with the report's marker."""
    marker = _marker_of(report)
    notes = lab.pages(f"merge_requests/{mr}/notes")
    mine = [n for n in notes if str(n.get("body", "")).startswith(marker)]
    if mine:
        lab.call("PUT", f"merge_requests/{mr}/notes/{mine[0]['id']}", {"body": report})
        return f"Updated note {mine[0]['id']} on merge request !{mr}."
    lab.call("POST", f"merge_requests/{mr}/notes", {"body": report})
    return f"Commented on merge request !{mr}."


def reviewed_digest(lab: GitLab, sha: str, marker: str) -> str:
    """The digest in the plan note of the merge request that brought ``sha``; "" if none."""
    for mr in lab.call("GET", f"repository/commits/{sha}/merge_requests") or []:
        for note in lab.pages(f"merge_requests/{mr['iid']}/notes"):
            body = str(note.get("body", ""))
            if body.startswith(marker):
                found = _DIGEST.search(body)
                if found:
                    return found.group(0)
    return ""


def drift_issue(lab: GitLab, changes: bool, report: str, environment: str,
                run_url: str = "") -> str:
    """Open, update or close the one drift issue of ``environment``."""
    title = f"almasync drift: {environment}"
    open_issues = [i for i in lab.pages("issues", labels=DRIFT_LABEL, state="opened")
                   if i.get("title") == title]
    body = report + (f"\n\nLast checked by {run_url}" if run_url else "")
    if changes and open_issues:
        lab.call("PUT", f"issues/{open_issues[0]['iid']}", {"description": body})
        return f"Drift continues: updated issue #{open_issues[0]['iid']}."
    if changes:
        created = lab.call("POST", "issues", {"title": title, "labels": DRIFT_LABEL,
                                              "description": body})
        return f"Drift found: opened issue #{created['iid']}."
    if open_issues:
        iid = open_issues[0]["iid"]
        lab.call("POST", f"issues/{iid}/notes",
                 {"body": f"Alma and git agree again. {run_url}".strip()})
        lab.call("PUT", f"issues/{iid}", {"state_event": "close"})
        return f"No drift: closed issue #{iid}."
    return "No drift."


def main(argv: list[str]) -> int:
    usage = ("usage: python -m almasync.ci.gitlab comment MR_IID REPORT | "
             "reviewed-digest SHA MARKER | drift-issue true|false REPORT ENVIRONMENT")
    if not argv:
        print(usage, file=sys.stderr)
        return 64
    lab = GitLab.from_environment()
    command, args = argv[0], argv[1:]
    if command == "comment" and len(args) == 2:
        print(comment(lab, args[0], _read(args[1])))
    elif command == "reviewed-digest" and len(args) == 2:
        print(reviewed_digest(lab, args[0], args[1]))
    elif command == "drift-issue" and len(args) == 3:
        print(drift_issue(lab, args[0] == "true", _read(args[1]), args[2],
                          os.environ.get("CI_PIPELINE_URL", "")))
    else:
        print(usage, file=sys.stderr)
        return 64
    return 0


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
