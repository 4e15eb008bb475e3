"""``python -m almasync.emulator`` / ``almasync emulator`` as a standalone process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from almasync.cli.emulator_cmd import emulator_command


def _launch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "almasync.emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ready_lines(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("export ALMA_API_KEY="):
            return lines
    raise AssertionError(f"no ready lines: {lines}")


@pytest.fixture
def running() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    process = _launch(
        "--port",
        "0",
        "--seed",
        "demo",
        "--rate-limit",
        "0",
        "--api-key",
        "k-rw",
        "--read-only-key",
        "k-ro",
        "--institution-code",
        "01CLI_INST",
    )
    try:
        lines = _ready_lines(process)
        assert "read/write key: k-rw" in lines and "read-only key: k-ro" in lines
        assert "(seed demo, institution 01CLI_INST)" in lines[0]
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        yield process, exports
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_serves_until_sigterm(running: tuple[subprocess.Popen[str], dict[str, str]]) -> None:
    process, exports = running
    url = exports["ALMA_API_URL"]
    assert url.startswith("http://127.0.0.1:") and exports["ALMA_API_KEY"] == "k-rw"
    response = requests.get(
        url + "/almaws/v1/conf/libraries", headers={"Authorization": "apikey k-rw"}, timeout=10
    )
    assert response.status_code == 200
    ro = requests.post(
        url + "/almaws/v1/conf/test", headers={"Authorization": "apikey k-ro"}, timeout=10
    )
    assert ro.status_code == 400
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_ready_lines_name_both_keys_and_sigint_stops(
    running: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    process, exports = running
    assert exports["ALMA_API_KEY"] == "k-rw"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def test_bad_seed_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "seed.yaml"
    bad.write_text("institution: {name: no code}")
    result = CliRunner().invoke(emulator_command, ["--seed", str(bad)])
    assert result.exit_code == 3
    assert "institution.code" in result.output
    process = _launch("--seed", str(tmp_path / "missing.json"))
    _, err = process.communicate(timeout=20)
    assert process.returncode == 3 and "seed file not found" in err


def test_port_in_use_exits_4() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        process = _launch("--port", str(port))
        _, err = process.communicate(timeout=20)
    assert process.returncode == 4
    assert str(port) in err


def test_bare_singletons_flag() -> None:
    process = _launch("--port", "0", "--rate-limit", "0", "--bare-singletons")
    try:
        exports = dict(line.removeprefix("export ").split("=", 1)
                       for line in _ready_lines(process) if line.startswith("export "))
        url, key = exports["ALMA_API_URL"], exports["ALMA_API_KEY"]
        music = requests.get(url + "/almaws/v1/conf/libraries/MUSIC/locations", timeout=10,
                             headers={"Authorization": f"apikey {key}",
                                      "Accept": "application/json"}).json()
        assert music["location"]["code"] == "SCORES"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_stats_route_of_a_standalone_emulator(
    running: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    process, exports = running
    url = exports["ALMA_API_URL"]
    requests.get(url + "/almaws/v1/conf/general", headers={"Authorization": "apikey k-rw"},
                 timeout=10)
    stats = requests.get(url + "/__emulator/stats", timeout=10).json()
    assert stats["requests"] == 1 and stats["statuses"] == {"200": 1}
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
