"""The GitLab helper against a small stand-in for GitLab's REST API on loopback: one note per
merge request kept current, the reviewed digest found from a commit, one drift issue opened,
updated and closed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from almasync.ci import gitlab

TOKEN = "glpat-test-token"


class FakeGitLab:
    """Notes of merge request 7, the commit ``abc`` that it brought, and issues."""

    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = [{"id": 1, "body": "Looks good to me"}]
        self.issues: list[dict[str, Any]] = []
        self.issue_notes: list[tuple[int, str]] = []

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        assert request.headers.get("PRIVATE-TOKEN") == TOKEN
        body = json.loads(request.get_data() or b"null")
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.path
        assert raw.startswith("/api/v4/projects/group%2Fconfig/"), raw
        path = request.path.removeprefix("/api/v4/projects/group/config/")
        result: Any = None
        if path == "merge_requests/7/notes" and request.method == "GET":
            page = int(request.args.get("page", "1"))
            result = self.notes if page == 1 else []
        elif path == "merge_requests/7/notes":
            self.notes.append({"id": len(self.notes) + 1, "body": body["body"]})
            result = self.notes[-1]
        elif path.startswith("merge_requests/7/notes/"):
            note = next(n for n in self.notes if n["id"] == int(path.rsplit("/", 1)[1]))
            note["body"] = body["body"]
            result = note
        elif path == "repository/commits/abc/merge_requests":
            result = [{"iid": 7}]
        elif path == "repository/commits/def/merge_requests":
            result = []
        elif path == "issues" and request.method == "GET":
            result = [i for i in self.issues if i["state"] == "opened"
                      and request.args["labels"] in i["labels"]]
        elif path == "issues":
            self.issues.append({"iid": len(self.issues) + 1, "state": "opened",
                                "title": body["title"], "labels": [body["labels"]],
                                "description": body["description"]})
            result = self.issues[-1]
        elif path.endswith("/notes"):
            self.issue_notes.append((int(path.split("/")[1]), body["body"]))
        elif path.startswith("issues/"):
            issue = self.issues[int(path.split("/")[1]) - 1]
            if body.get("state_event") == "close":
                issue["state"] = "closed"
            issue.update({k: v for k, v in body.items() if k == "description"})
            result = issue
        else:
            return Response("not found", 404)(environ, start_response)
        return Response(json.dumps(result), content_type="application/json")(
            environ, start_response)


@pytest.fixture
def lab() -> Iterator[tuple[gitlab.GitLab, FakeGitLab]]:
    fake = FakeGitLab()
    server = make_server("127.0.0.1", 0, fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gitlab.GitLab(f"http://127.0.0.1:{server.port}/api/v4", "group/config",
                            TOKEN), fake
    finally:
        server.shutdown()
        thread.join()


MARKER = "<!-- almasync:plan:production -->"


def test_one_plan_note_kept_current_and_its_digest_found(
        lab: tuple[gitlab.GitLab, FakeGitLab]) -> None:
    client, fake = lab
    first = f"{MARKER}\n### almasync plan\n... plan digest <code>sha256:{'a' * 64}</code>"
    assert gitlab.comment(client, "7", first) == "Commented on merge request !7."
    second = first.replace("a" * 64, "b" * 64)
    assert gitlab.comment(client, "7", second) == "Updated note 2 on merge request !7."
    assert [n["body"] for n in fake.notes] == ["Looks good to me", second]
    assert gitlab.reviewed_digest(client, "abc", MARKER) == "sha256:" + "b" * 64
    assert gitlab.reviewed_digest(client, "def", MARKER) == ""
    assert gitlab.reviewed_digest(client, "abc", "<!-- almasync:plan:sandbox -->") == ""


def test_one_drift_issue_opened_updated_and_closed(
        lab: tuple[gitlab.GitLab, FakeGitLab]) -> None:
    client, fake = lab
    assert gitlab.drift_issue(client, False, "clean", "production") == "No drift."
    assert gitlab.drift_issue(client, True, "night 1", "production", "https://ci/1") \
        == "Drift found: opened issue #1."
    assert gitlab.drift_issue(client, True, "night 2", "production") \
        == "Drift continues: updated issue #1."
    assert len(fake.issues) == 1 and fake.issues[0]["description"] == "night 2"
    assert gitlab.drift_issue(client, True, "other", "sandbox") \
        == "Drift found: opened issue #2."
    assert gitlab.drift_issue(client, False, "clean", "production", "https://ci/3") \
        == "No drift: closed issue #1."
    assert [i["state"] for i in fake.issues] == ["closed", "opened"]
    assert fake.issue_notes == [(1, "Alma and git agree again. https://ci/3")]


def test_usage_errors_exit_64(capsys: pytest.CaptureFixture[str]) -> None:
    assert gitlab.main([]) == 64
    assert "usage:" in capsys.readouterr().err
