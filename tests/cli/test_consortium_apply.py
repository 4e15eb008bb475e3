"""``apply`` over several environments: each institution planned and applied concurrently
with its own key, safety rules, lock and journal, every plan confirmed once, one report
with the worst exit code, and one interruption stopping every environment's writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from almasync.cli import cli
from almasync.emulator import Emulator
from almasync.errors import ExitCode
from tests.apply.test_interrupt import WORKERS, signal_at_first_request
from tests.cli.test_exit_codes import _run_on_tty
from tests.conftest import running

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["alpha", "beta"]
CHANGES = """\
locations:
  MAIN:
    STACKS:
      name: Main Stacks
      type: OPEN
      external_name: Stacks of the consortium
    NEWA: {name: New A, type: OPEN}
"""
DOZEN = "locations:\n  MAIN:\n" + "".join(
    f"    NEW{i:02d}: {{name: New {i}, type: OPEN}}\n" for i in range(12))


@pytest.fixture
def two() -> Iterator[list[Emulator]]:
    with running(*(Emulator(seed="demo", rate_limit=None, api_key=f"key-{name}",
                            institution_code=f"01{name.upper()}_INST")
                   for name in NAMES)) as emus:
        yield emus


def _tree(config: Any, emus: list[Emulator], files: str = CHANGES, safety: str = "",
          urls: list[str] | None = None) -> Path:
    urls = urls or [emu.base_url for emu in emus]
    settings = safety + "environments:\n" + "".join(
        f"  {name}:\n    api_url: {url}\n    api_key_env: KEY_{name.upper()}\n"
        for name, url in zip(NAMES, urls, strict=True))
    root: Path = config({"almasync.yaml": settings, "locations.yaml": files})
    return root


def _keys(emus: list[Emulator]) -> dict[str, str]:
    return {f"KEY_{name.upper()}": emu.api_key for name, emu in zip(NAMES, emus, strict=True)}


def _run(*args: str, env: dict[str, str], stdin: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env={"ALMASYNC_RATE_LIMIT": "0", **env},
                              input=stdin, catch_exceptions=False)


def _writes(emu: Emulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emu.requests
            if r.method != "GET" and not r.path.rstrip("/").endswith("/conf/test")]


def _external_name(emu: Emulator) -> str:
    return str(emu.store.locations["MAIN"]["STACKS"]["external_name"])


def test_two_environments_applied_then_a_second_plan_is_empty(
        config: Any, two: list[Emulator]) -> None:
    root = _tree(config, two)
    result = _run("apply", str(root), "--env", "alpha,beta", "--auto-approve",
                  env=_keys(two))
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name in NAMES:
        assert f"== environment {name} ==" in out
        assert f"== environment {name}: result ==" in out
        section = out.split(f"== environment {name}: result ==")[1]
        assert "Apply: 2 applied, 0 failed, 0 skipped." in section.split("== environment")[0]
    assert out.rstrip().endswith("2 environments: alpha: 2 applied, 0 failed (exit 0); "
                                 "beta: 2 applied, 0 failed (exit 0).")
    for emu in two:
        assert _external_name(emu) == "Stacks of the consortium"
        assert "NEWA" in emu.store.locations["MAIN"]
    # Each environment keeps its own journal, for its own rollback.
    for name in NAMES:
        [journal] = (root / ".almasync" / "journals" / name).glob("*.json")
        body = json.loads(journal.read_text())
        assert body["target"]["env"] == name
        assert body["target"]["institution"] == f"01{name.upper()}_INST"
        assert {s["state"] for s in body["states"]} == {"applied"}
    again = _run("plan", str(root), "--env", "alpha,beta", "--detailed-exitcode",
                 env=_keys(two))
    assert again.exit_code == 0, again.output
    assert again.stdout.rstrip().endswith("2 environments: alpha: no changes; "
                                          "beta: no changes.")
    # Rollback stays one environment: alpha's journal undoes alpha only.
    [journal] = (root / ".almasync" / "journals" / "alpha").glob("*.json")
    undo = _run("rollback", str(journal), "--auto-approve", env=_keys(two))
    assert undo.exit_code == 0, undo.output
    assert _external_name(two[0]) == "Stacks" and "NEWA" not in two[0].store.locations["MAIN"]
    assert _external_name(two[1]) == "Stacks of the consortium"


def test_a_blocked_environment_does_not_stop_the_others(config: Any,
                                                        two: list[Emulator]) -> None:
    """Beta's own safety rule blocks its update (exit 5, nothing written there); alpha is
    applied all the same, and the combined exit code is the worst: 5."""
    root = _tree(config, two, safety="safety:\n  environments:\n    beta: {max_updates: 0}\n")
    result = _run("apply", str(root), "--all-envs", "--auto-approve", env=_keys(two))
    assert result.exit_code == ExitCode.BLOCKED, result.output
    assert "beta: Blocked by a safety rule: 1 updates exceed safety.max_updates (0)" \
        in result.stderr
    assert result.stdout.rstrip().endswith(
        "2 environments: alpha: 2 applied, 0 failed (exit 0); "
        "beta: blocked by a safety rule, nothing applied (exit 5).")
    alpha, beta = two
    assert _external_name(alpha) == "Stacks of the consortium"
    assert _writes(beta) == []
    assert not (root / ".almasync" / "journals" / "beta").exists()


def test_one_unreachable_environment_fails_alone(config: Any, two: list[Emulator]) -> None:
    root = _tree(config, two)
    keys = _keys(two)
    del keys["KEY_BETA"]
    result = _run("apply", str(root), "--env", "alpha,beta", "--auto-approve", env=keys)
    assert result.exit_code == ExitCode.INVALID_CONFIG, result.output
    assert "beta: failed (exit 3)" in result.stdout
    assert "KEY_BETA" in result.stdout
    assert _external_name(two[0]) == "Stacks of the consortium"
    assert _writes(two[1]) == []


def test_without_a_terminal_nothing_is_applied_without_auto_approve(
        config: Any, two: list[Emulator]) -> None:
    root = _tree(config, two)
    result = _run("apply", str(root), "--env", "alpha,beta", env=_keys(two))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--auto-approve" in result.stderr
    # Every plan was shown before the refusal, and nothing was written anywhere.
    assert "== environment alpha ==" in result.stdout
    assert "== environment beta ==" in result.stdout
    for emu in two:
        assert _writes(emu) == []
    assert not (root / ".almasync").exists()


def test_on_a_terminal_every_plan_is_shown_and_confirmed_once(
        config: Any, two: list[Emulator]) -> None:
    root = _tree(config, two)
    env = {**_keys(two), "ALMASYNC_RATE_LIMIT": "0"}
    code, output = _run_on_tty(["apply", str(root), "--all-envs"], "no", env)
    assert code == ExitCode.ERROR, output
    assert output.count("Only 'yes' will be accepted") == 1
    assert "Apply these 4 changes to 2 environment(s) (alpha: 2, beta: 2)?" in output
    assert output.index("== environment beta ==") < output.index("Apply these")
    assert output.count("Apply cancelled; nothing was changed.") == 2
    for emu in two:
        assert _writes(emu) == []
    code, output = _run_on_tty(["apply", str(root), "--all-envs"], "yes", env)
    assert code == ExitCode.OK, output
    assert output.count("Only 'yes' will be accepted") == 1
    for emu in two:
        assert _external_name(emu) == "Stacks of the consortium"


def test_what_changes_in_alma_while_a_person_reads_the_plans_is_kept(
        config: Any, two: list[Emulator]) -> None:
    """Someone adds a row to a code table the plans update while they wait for "yes": the
    writes start from Alma as it is after the answer (the plans' reads may be minutes old),
    so the whole-table PUT keeps that row."""
    root = _tree(config, two, files="code_tables:\n  UserGroups:\n    rows:\n"
                 "      - {code: STAFF, description: Library staff}\n")

    def meanwhile() -> None:
        for emu in two:
            emu.store.code_tables["UserGroups"]["rows"].append(
                {"code": "ALUMNI", "description": "Alumni", "default": False,
                 "enabled": True})

    code, output = _run_on_tty(["apply", str(root), "--all-envs"], "yes", _keys(two),
                               meanwhile)
    assert code == ExitCode.OK, output
    for emu in two:
        rows = {row["code"]: row for row in emu.store.code_tables["UserGroups"]["rows"]}
        assert rows["STAFF"]["description"] == "Library staff"
        assert rows["ALUMNI"]["description"] == "Alumni"


def test_a_saved_plan_with_several_environments_is_a_usage_error(
        config: Any, two: list[Emulator], tmp_path: Path) -> None:
    root = _tree(config, two)
    keys = _keys(two)
    saved = _run("plan", str(root), "--env", "alpha", "--out", str(tmp_path / "p.json"),
                 env=keys)
    assert saved.exit_code == 0, saved.output
    for extra in (["--env", "alpha,beta"], ["--all-envs"]):
        result = _run("apply", str(tmp_path / "p.json"), *extra, "--auto-approve", env=keys)
        assert result.exit_code == ExitCode.USAGE, result.output
        assert "saved plan, made for one environment and institution" in result.stderr
    digest = _run("apply", str(root), "--all-envs", "--expect-digest", "sha256:00",
                  "--auto-approve", env=keys)
    assert digest.exit_code == ExitCode.USAGE
    for emu in two:
        assert _writes(emu) == []


def test_two_environments_that_reach_one_institution_are_refused(
        config: Any, two: list[Emulator]) -> None:
    """Both names point at alpha's gateway: one of them applies, the other is refused
    (it would wait for the lock the first holds), and nothing is written twice."""
    alpha = two[0]
    root = _tree(config, two, urls=[alpha.base_url, alpha.base_url])
    keys = {"KEY_ALPHA": alpha.api_key, "KEY_BETA": alpha.api_key}
    result = _run("apply", str(root), "--all-envs", "--auto-approve", env=keys)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "both reach institution 01ALPHA_INST; apply them one at a time" in result.stdout
    assert len([w for w in _writes(alpha) if w.startswith("POST")]) == 1


def _start(root: Path, emus: list[Emulator]) -> subprocess.Popen[str]:
    env = {**os.environ, **_keys(emus), "ALMASYNC_RATE_LIMIT": "0", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "almasync", "apply", str(root),
                             "--all-envs", "--auto-approve"], env=env, cwd=root.parent,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _landed(emu: Emulator) -> set[str]:
    return {code for code in emu.store.locations["MAIN"] if code.startswith("NEW")}


def _on_posts(emu: Emulator, act: Any) -> None:
    """``act(n)`` when the n-th POST that writes reaches ``emu`` (before it is handled)."""
    count = [0]
    lock = threading.Lock()

    def hook(method: str, path: str) -> None:
        if method != "POST" or path.rstrip("/").endswith("/conf/test"):
            return
        with lock:
            count[0] += 1
            number = count[0]
        act(number)

    emu.on_request = hook


def test_an_interrupt_stops_every_environment_from_starting_writes(
        config: Any, two: list[Emulator]) -> None:
    """SIGINT once both institutions are writing: no environment starts another write;
    what landed in each is what its journal says, and apply again finishes both."""
    alpha, beta = two
    root = _tree(config, two, files=DOZEN)
    alpha.write_latency = 0.3
    alpha_wrote = threading.Event()
    process = _start(root, two)
    _on_posts(alpha, lambda n: alpha_wrote.set() if n == 2 else None)

    def on_beta(n: int) -> None:
        # Writes go out side by side: every one of beta's waits until alpha is writing.
        alpha_wrote.wait(30)
        if n == 3:
            process.send_signal(signal.SIGINT)

    _on_posts(beta, on_beta)
    out, err = process.communicate(timeout=120)
    alpha.on_request = beta.on_request = None
    alpha.write_latency = 0.0
    assert process.returncode == ExitCode.INTERRUPTED, out + err
    assert "SIGINT received: no environment starts another write" in err
    for name, emu in zip(NAMES, two, strict=True):
        assert 1 <= len(_landed(emu)) < 12, out + err
        [path] = (root / ".almasync" / "journals" / name).glob("*.json")
        journal = json.loads(path.read_text())
        applied = {change["key_parts"][1] for change, state in zip(
            journal["plan"], journal["states"], strict=True) if state["state"] == "applied"}
        assert applied == _landed(emu)
        assert {s["state"] for s in journal["states"]} == {"applied", "not_applied"}
        assert f"{name}: {len(applied)} applied, 0 failed, interrupted by SIGINT (exit 130)" \
            in out.split("2 environments: ")[-1]
    again = _run("apply", str(root), "--all-envs", "--auto-approve", env=_keys(two))
    assert again.exit_code == 0, again.output
    assert all(len(_landed(emu)) == 12 for emu in two)


def test_an_interrupt_before_confirmation_writes_nothing(config: Any,
                                                         two: list[Emulator]) -> None:
    alpha = two[0]
    root = _tree(config, two)
    process = _start(root, two)
    signal_at_first_request(alpha, process)
    out, err = process.communicate(timeout=120)
    alpha.on_request = None
    assert process.returncode == ExitCode.INTERRUPTED, out + err
    assert "Interrupted; nothing more was done." in err
    for emu in two:
        assert _writes(emu) == []
    assert not (root / ".almasync").exists()


def test_the_command_options_hold_in_every_environment(config: Any,
                                                       two: list[Emulator]) -> None:
    """--timeout and -q reach the threads the environments run on: beta answers slower than
    the timeout allows and fails alone (exit 4); -q leaves the notes out."""
    root = _tree(config, two)
    two[1].latency = 3.0
    result = _run("--timeout", "0.3", "apply", str(root), "--all-envs", "--auto-approve",
                  "-q", env=_keys(two))
    two[1].latency = 0.0
    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert "beta: failed (exit 4)" in result.stdout
    assert "Planning 2 environments" not in result.stderr
    assert _external_name(two[0]) == "Stacks of the consortium"
    assert _writes(two[1]) == []


def test_a_second_signal_stops_every_environment_at_once(config: Any,
                                                         two: list[Emulator]) -> None:
    """Two signals while both institutions have a write in flight that takes a minute: the
    process ends without waiting for them; each journal shows its write ``started``."""
    root = _tree(config, two, files=DOZEN)
    in_flight = [threading.Event(), threading.Event()]
    process = _start(root, two)

    def slow_second_write(index: int) -> Any:
        def act(n: int) -> None:
            if n == 2:
                two[index].write_latency = 60.0
                in_flight[index].set()
                if all(event.is_set() for event in in_flight):
                    process.send_signal(signal.SIGINT)
                    threading.Timer(0.3, lambda: process.send_signal(signal.SIGINT)).start()
        return act

    for index, emu in enumerate(two):
        _on_posts(emu, slow_second_write(index))
    out, err = process.communicate(timeout=50)
    for emu in two:
        emu.on_request = None
        emu.write_latency = 0.0
    assert process.returncode == ExitCode.INTERRUPTED, out + err
    assert "Stopped at once" in err
    for name in NAMES:
        [path] = (root / ".almasync" / "journals" / name).glob("*.json")
        states = [s["state"] for s in json.loads(path.read_text())["states"]]
        # Up to WORKERS writes go out side by side: the slow ones are still in flight.
        assert 1 <= states.count("started") <= WORKERS, states
        assert set(states) <= {"applied", "started", "pending", "not_applied"}, states
