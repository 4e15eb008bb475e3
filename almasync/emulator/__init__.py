"""An emulator of the Ex Libris Alma Configuration API (``/almaws/v1/conf/...``) on loopback.

    from almasync.emulator import Emulator
    with Emulator(seed="demo") as emu:
        headers = {"Authorization": f"apikey {emu.api_key}", "Accept": "application/json"}
        requests.get(emu.base_url + "/almaws/v1/conf/libraries", headers=headers)

See docs/emulator.md for the switches, keys, seed format and what is modelled.
"""

from almasync.emulator.gateway import RecordedRequest
from almasync.emulator.generate import generate_large
from almasync.emulator.seed import SeedError, load_seed
from almasync.emulator.server import (
    DEFAULT_API_KEY,
    DEFAULT_READ_ONLY_KEY,
    Emulator,
    PortInUseError,
)
from almasync.emulator.store import Store

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_READ_ONLY_KEY",
    "Emulator",
    "PortInUseError",
    "RecordedRequest",
    "SeedError",
    "Store",
    "generate_large",
    "load_seed",
]
