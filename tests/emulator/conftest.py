"""Fixtures for the emulator's own tests: emulators on 127.0.0.1 and a small HTTP client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from almasync.emulator import Emulator

API = "/almaws/v1"


class Api:
    """``requests`` against one emulator with a key and ``Accept: application/json``."""

    def __init__(self, emu: Emulator, key: str | None = None) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.session.headers["Authorization"] = f"apikey {key or emu.api_key}"

    def url(self, path: str) -> str:
        return self.emu.base_url + API + path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url(path), timeout=10, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.put(self.url(path), timeout=10, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.delete(self.url(path), timeout=10, **kwargs)


def alma_code(response: requests.Response) -> str:
    """The Alma error code of a JSON or XML error answer."""
    if "xml" in response.headers.get("Content-Type", ""):
        start = response.text.index("<errorCode>") + len("<errorCode>")
        return response.text[start : response.text.index("</errorCode>")]
    code: str = response.json()["errorList"]["error"][0]["errorCode"]
    return code


def assert_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert alma_code(response) == code, response.text


EmulatorFactory = Callable[..., Emulator]


@pytest.fixture
def make_emulator() -> Iterator[EmulatorFactory]:
    """``make_emulator(seed="demo", **switches)`` -> a started emulator, stopped afterwards.

    The rate limit is off unless a test asks for one.
    """
    started: list[Emulator] = []

    def factory(seed: Any = "demo", **switches: Any) -> Emulator:
        switches.setdefault("rate_limit", None)
        emu = Emulator(seed=seed, **switches).start()
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        emu.stop()


@pytest.fixture
def emu(make_emulator: EmulatorFactory) -> Emulator:
    return make_emulator(job_step_seconds=0.05)


@pytest.fixture
def api(emu: Emulator) -> Api:
    return Api(emu)
