"""A TCP server on 127.0.0.1 (an ephemeral port) for tests of the client's wire: it accepts
connections on a thread of its own and hands each to ``accepted``, until ``close``."""

from __future__ import annotations

import socket
import threading


class LoopbackServer:
    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def accepted(self, conn: socket.socket) -> None:
        """Called on the accepting thread for each connection."""
        raise NotImplementedError

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.accepted(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()
