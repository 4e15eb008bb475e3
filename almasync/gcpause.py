"""Python's cyclic garbage collector, paused while large acyclic data is built.

Reading a big config tree allocates millions of dicts, lists and strings, none of them in a
reference cycle; the collector still walks the young ones every 700 allocations and, as they
survive, the old ones too. On the large benchmark institution that was two fifths of the
load's CPU. :func:`collection_paused` turns the collector off for the block and back on (if
it was on) when the last of several overlapping blocks ends, from any thread.
Reference counting still frees everything as usual; only cycles wait for the next collection.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def collection_paused() -> Iterator[None]:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
