"""The emulator's counters: ``Emulator.stats()`` and ``GET /__emulator/stats``."""

from __future__ import annotations

import requests

from almasync.emulator import Emulator
from tests.emulator.conftest import Api, EmulatorFactory


def _served(emu: Emulator) -> dict[str, object]:
    response = requests.get(emu.base_url + "/__emulator/stats", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    data: dict[str, object] = response.json()
    return data


def test_counts_requests_statuses_and_writes(emu: Emulator, api: Api) -> None:
    assert api.get("/conf/libraries").status_code == 200
    assert api.get("/conf/libraries/NO_SUCH_LIBRARY").status_code == 400
    assert api.post("/conf/test").status_code == 200
    stats = _served(emu)
    assert stats == emu.stats()
    assert stats["requests"] == 3
    assert stats["statuses"] == {"200": 2, "400": 1}
    assert stats["writes"] == 0  # the key test is not a write
    assert stats["per_second_refusals"] == 0
    assert stats["remaining"] == emu.remaining == 100_000 - 3


def test_the_stats_route_needs_no_key_and_is_not_counted(emu: Emulator) -> None:
    for _ in range(3):
        _served(emu)
    assert emu.requests == []
    assert _served(emu)["requests"] == 0


def test_per_second_refusals_are_counted(make_emulator: EmulatorFactory) -> None:
    # A bucket of one token that refills once in 1,000 s: the first call passes, the rest
    # are refused, and the stats route is never refused itself.
    emu = make_emulator(rate_limit=0.001)
    api = Api(emu)
    statuses = [api.get("/conf/general").status_code for _ in range(4)]
    assert statuses == [200, 429, 429, 429]
    stats = _served(emu)
    assert stats["per_second_refusals"] == 3
    assert stats["statuses"] == {"200": 1, "429": 3}
    assert stats["remaining"] == 100_000 - 1  # refusals do not spend the daily budget
