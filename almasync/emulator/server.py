"""``Emulator``: the gateway served by a threaded werkzeug server on 127.0.0.1."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from almasync.emulator.gateway import Gateway, RecordedRequest
from almasync.emulator.limits import DailyBudget, TokenBucket
from almasync.emulator.seed import SeedSource, load_seed
from almasync.emulator.store import Store

DEFAULT_API_KEY = "emulator-rw-key"
DEFAULT_READ_ONLY_KEY = "emulator-ro-key"
HOST = "127.0.0.1"


class PortInUseError(OSError):
    """The requested port could not be bound."""


WORKERS = 64


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr; a stalled client cannot hold a worker thread for long."""

    timeout = 5
    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log(self, type: str, message: str, *args: Any) -> None:
        return None


class _PooledServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, with a pool of worker threads instead of a new thread per
    connection (werkzeug closes every connection, so thread start-up was a per-request cost)."""

    def __init__(self, app: Gateway, listener: socket.socket) -> None:
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="alma-emulator-worker")
        super().__init__(HOST, 0, app, _QuietHandler, fd=listener.fileno())

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self.process_request_thread, request, client_address)

    def finish_workers(self) -> None:
        """Wait for the requests in progress and end the worker threads."""
        self._pool.shutdown(wait=True)


class Emulator:
    """An emulated Alma institution behind a loopback HTTP server.

    Every switch is a plain attribute (or property) and may be changed while it runs:
    ``api_key``, ``read_only_key``, ``rate_limit`` (requests/s, None = off), ``daily_budget``,
    ``latency`` (s), ``write_latency`` (s, writes only), ``fault_rate`` (injected 500s, not
    applied), ``drop_rate`` (connections closed unanswered), ``fault_seed``,
    ``crash_after_writes`` (drop everything after N more writes until ``recover()``),
    ``job_step_seconds`` and ``drop_after_apply`` (drops hit only writes, after applying
    them), ``institution_code`` (the code ``/conf/general`` and ``/conf/test`` report; setting
    it makes another institution in the same state). ``clock`` (default ``time.time``) is the
    wall clock that job instances, dates and fee windows are computed from; tests may replace
    it. ``on_request`` (None, or a callable of method and path) is called as each request
    arrives. ``requests``
    lists every request served, in order; ``write_count`` counts successful POST/PUT/DELETE
    calls (``POST /conf/test`` is not a write); ``per_second_refusals`` counts the 429
    ``PER_SECOND_THRESHOLD`` answers. ``stats()`` sums these up, and is also served as JSON
    at ``GET /__emulator/stats`` for a client in another process (benchmarks).
    ``bare_singletons`` serves every one-element list of a JSON answer as its bare element, as
    Alma may (FACTS section 8); when not given, the seed's ``institution.bare_singletons``
    decides.
    See docs/emulator.md.
    """

    def __init__(
        self,
        seed: SeedSource = "demo",
        api_key: str = DEFAULT_API_KEY,
        read_only_key: str = DEFAULT_READ_ONLY_KEY,
        rate_limit: float | None = 25.0,
        daily_budget: int = 100_000,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        drop_rate: float = 0.0,
        fault_seed: int = 0,
        bare_singletons: bool | None = None,
        crash_after_writes: int | None = None,
        job_step_seconds: float = 0.2,
        drop_after_apply: bool = False,
        institution_code: str | None = None,
    ) -> None:
        self.store: Store = load_seed(seed)
        if institution_code:
            self.store.rename_institution(institution_code)
        self.api_key = api_key
        self.read_only_key = read_only_key
        self.latency = latency
        #: Seconds added to the answer of every write, after it is applied (a write "in
        #: flight" for that long).
        self.write_latency = 0.0
        self.fault_rate = fault_rate
        self.drop_rate = drop_rate
        self.drop_after_apply = drop_after_apply
        self.bare_singletons = (bool(self.store.institution.get("bare_singletons"))
                                if bare_singletons is None else bare_singletons)
        self.job_step_seconds = job_step_seconds
        self.clock: Callable[[], float] = time.time
        #: Called as ``on_request(method, path)`` in the serving thread when a request
        #: arrives, before it is handled (tests use it to act at an exact moment, e.g. to
        #: signal a client while its write is in flight).
        self.on_request: Callable[[str, str], None] | None = None
        self.requests: list[RecordedRequest] = []
        self.write_count = 0
        self.per_second_refusals = 0
        self._in_flight = 0
        self.crashed = False
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _PooledServer | None = None
        self._thread: threading.Thread | None = None
        self._bucket: TokenBucket | None = None
        self._budget = DailyBudget(daily_budget)
        self._crash_after: int | None = None
        self._crash_base = 0
        self._rng = random.Random(fault_seed)
        self._fault_seed = fault_seed
        self.rate_limit = rate_limit
        self.crash_after_writes = crash_after_writes

    # -- switches -------------------------------------------------------------------------

    @property
    def rate_limit(self) -> float | None:
        return self._bucket.rate if self._bucket else None

    @rate_limit.setter
    def rate_limit(self, value: float | None) -> None:
        self._bucket = TokenBucket(float(value)) if value else None

    @property
    def daily_budget(self) -> int:
        return self._budget.total

    @daily_budget.setter
    def daily_budget(self, value: int) -> None:
        """Setting the budget starts a fresh day with ``value`` calls left."""
        self._budget = DailyBudget(value)

    @property
    def remaining(self) -> int:
        return self._budget.remaining

    @property
    def institution_code(self) -> str:
        return self.store.institution_code

    @institution_code.setter
    def institution_code(self, value: str) -> None:
        """Another institution in the same state (open hours of the institution move)."""
        self.store.rename_institution(value)

    @property
    def fault_seed(self) -> int:
        return self._fault_seed

    @fault_seed.setter
    def fault_seed(self, value: int) -> None:
        with self._lock:
            self._fault_seed = value
            self._rng = random.Random(value)

    @property
    def crash_after_writes(self) -> int | None:
        return self._crash_after

    @crash_after_writes.setter
    def crash_after_writes(self, value: int | None) -> None:
        """Crash after ``value`` more successful writes (counted from now)."""
        with self._lock:
            self._crash_after = value
            self._crash_base = self.write_count
            self.crashed = value is not None and value <= 0

    def recover(self) -> None:
        """Clear the crash state and disarm ``crash_after_writes``."""
        with self._lock:
            self.crashed = False
            self._crash_after = None

    # -- used by the gateway --------------------------------------------------------------

    def _draw_faults(self) -> tuple[bool, bool]:
        if self.drop_rate <= 0 and self.fault_rate <= 0:
            return False, False
        with self._lock:
            drop, fault = self._rng.random(), self._rng.random()
        return drop < self.drop_rate, fault < self.fault_rate

    def _take_token(self) -> bool:
        bucket = self._bucket
        if bucket is None or bucket.take():
            return True
        with self._lock:
            self.per_second_refusals += 1
        return False

    def _take_budget(self) -> int | None:
        return self._budget.take()

    def _count_write(self) -> None:
        with self._lock:
            self.write_count += 1
            if (
                self._crash_after is not None
                and self.write_count - self._crash_base >= self._crash_after
            ):
                self.crashed = True

    def _busy(self, delta: int) -> None:
        with self._lock:
            self._in_flight += delta

    @property
    def in_flight(self) -> int:
        """Requests being served right now (a test waits for 0 before looking at state a
        request from a killed client may still change)."""
        return self._in_flight

    def stats(self) -> dict[str, Any]:
        """Counts since start: ``requests`` served (dropped ones included), ``statuses``
        (status code as a string -> count; "0" for dropped connections), ``writes``,
        ``per_second_refusals`` and ``remaining`` (the daily budget left)."""
        with self._lock:
            statuses = Counter(entry.status for entry in self.requests)
            return {
                "requests": len(self.requests),
                "statuses": {str(code): statuses[code] for code in sorted(statuses)},
                "writes": self.write_count,
                "per_second_refusals": self.per_second_refusals,
                "remaining": self.remaining,
            }

    def _record(self, entry: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.port)

    @property
    def base_url(self) -> str:
        """The gateway base (``http://127.0.0.1:PORT``); the API is under ``/almaws/v1``."""
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/almaws/v1"

    def start(self, port: int = 0) -> Emulator:
        """Bind 127.0.0.1:``port`` (0 = a free port) and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((HOST, port))
        except OSError as exc:
            listener.close()
            raise PortInUseError(exc.errno, f"cannot bind {HOST}:{port}: {exc.strerror}") from exc
        listener.listen(128)
        try:
            server = _PooledServer(Gateway(self), listener)
        finally:
            listener.close()
        self._stopping.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="alma-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wait for the server and its request threads, free the port."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        if thread is not None:
            thread.join()
        server.server_close()
        server.finish_workers()
        self._server = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> Emulator:
        """Start (unless already started) and stop again on exit."""
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
