"""What the client puts on the wire and how it reads answers: query strings, headers,
compressed and chunked bodies, the proxy and the CA bundle of the environment.

A loopback server with a canned answer stands in for Alma (or for a proxy): it keeps what
each request sent, so the request line and headers can be checked as they arrived.
"""

from __future__ import annotations

import base64
import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from almasync.alma.client import AlmaClient
from almasync.alma.retry import RetryPolicy
from almasync.emulator import Emulator
from almasync.errors import AlmaUnavailable, ConfigError
from tests.loopback import LoopbackServer

BUNDLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def answer(body: bytes, *headers: str, chunked: bool = False) -> bytes:
    """An HTTP/1.1 200 answer carrying ``body``, framed by length or in chunks."""
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", *headers]
    if not chunked:
        return "\r\n".join([*head, f"Content-Length: {len(body)}", "", ""]).encode() + body
    half = len(body) // 2
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:]))
    return "\r\n".join([*head, "Transfer-Encoding: chunked", "", ""]).encode() + chunks + \
        b"0\r\n\r\n"


class Canned(LoopbackServer):
    """A loopback server answering every request with ``reply``; ``seen`` holds each
    request's head (request line and headers, as text) and body. ``tls``: (cert, key)."""

    def __init__(self, reply: bytes, tls: tuple[Path, Path] | None = None) -> None:
        self.reply = reply
        self.seen: list[tuple[str, bytes]] = []
        self._context: ssl.SSLContext | None = None
        if tls is not None:
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.load_cert_chain(*tls)
        super().__init__()

    @property
    def url(self) -> str:
        scheme = "https" if self._context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def accepted(self, conn: socket.socket) -> None:
        threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            if self._context is not None:
                conn = self._context.wrap_socket(conn, server_side=True)
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    pending += chunk
                head, pending = pending.split(b"\r\n\r\n", 1)
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(pending) < length:
                    pending += conn.recv(65536)
                self.seen.append((head.decode(), pending[:length]))
                pending = pending[length:]
                conn.sendall(self.reply)
        except OSError:
            return
        finally:
            conn.close()

    def headers(self, index: int = -1) -> dict[str, str]:
        lines = self.seen[index][0].split("\r\n")[1:]
        return {name: value.strip() for name, value in (line.split(":", 1) for line in lines)}

    def request_line(self, index: int = -1) -> str:
        return self.seen[index][0].split("\r\n")[0]


class Tunnel(LoopbackServer):
    """A loopback HTTPS proxy: answers ``CONNECT host:port`` by connecting there and
    passing bytes both ways. ``connects`` holds each CONNECT's head."""

    def __init__(self) -> None:
        self.connects: list[str] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def accepted(self, conn: socket.socket) -> None:
        threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        self.connects.append(head.split(b"\r\n\r\n")[0].decode())
        host, port = head.split(b" ")[1].decode().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=5)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(source: socket.socket, sink: socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                sink.close()

        threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()
        pipe(conn, upstream)


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture
def alma(no_proxy_env: pytest.MonkeyPatch) -> Iterator[Canned]:
    server = Canned(answer(b'{"ok": true}', "X-Exl-Api-Remaining: 120"))
    yield server
    server.close()


def _client(url: str, **kwargs: object) -> AlmaClient:
    return AlmaClient(url, "the-key", read_only=False, rate_limit=None,
                      retry=RetryPolicy(backoff=0), **kwargs)  # type: ignore[arg-type]


def test_query_parameters_drop_none_and_repeat_lists(alma: Canned) -> None:
    with _client(alma.url) as client:
        assert client.get("/conf/code-tables/A%2FB", {
            "format": "json", "lang": None, "code": ["a", "b"], "limit": 100,
            "q": "name~a b&c", "kept": ("1", None, "2")}) == {"ok": True}
        client.get("/conf/general", {})
    assert alma.request_line(0) == (
        "GET /almaws/v1/conf/code-tables/A%2FB?format=json&code=a&code=b&limit=100"
        "&q=name~a+b%26c&kept=1&kept=2 HTTP/1.1")
    assert alma.request_line(1) == "GET /almaws/v1/conf/general HTTP/1.1"


def test_default_headers_merge_with_each_calls_own(alma: Canned) -> None:
    with _client(alma.url) as client:
        client.get("/conf/general")
        client.get_bytes("/conf/letters/X")
        client.put("/conf/general", {"a": 1})
        client.delete("/conf/sets/1")
        assert client.remaining == 120 and client.calls == 4
    get, raw, put, delete = (alma.headers(i) for i in range(4))
    for headers in (get, raw, put, delete):
        assert headers["Authorization"] == "apikey the-key"
        assert headers["User-Agent"] == "almasync"
        assert "gzip" in headers["Accept-Encoding"] and "deflate" in headers["Accept-Encoding"]
    assert get["Accept"] == put["Accept"] == delete["Accept"] == "application/json"
    assert raw["Accept"] == "*/*"
    assert "Content-Length" not in get and "Content-Type" not in get
    assert put["Content-Type"] == "application/json"
    assert put["Content-Length"] == str(len(alma.seen[2][1])) and alma.seen[2][1] == b'{"a": 1}'
    assert delete["Content-Length"] == "0"


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_and_chunked_answers_are_decoded(no_proxy_env: pytest.MonkeyPatch,
                                                    encoding: str, chunked: bool) -> None:
    body = b'{"library": [{"code": "MAIN", "name": "' + b"x" * 5000 + b'"}]}'
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    server = Canned(answer(packed, f"Content-Encoding: {encoding}", chunked=chunked))
    try:
        with _client(server.url) as client:
            assert client.get("/conf/libraries")["library"][0]["code"] == "MAIN"
            assert client.get_bytes("/conf/libraries") == (body, "application/json")
    finally:
        server.close()


def test_an_http_proxy_of_the_environment_carries_every_call(
        no_proxy_env: pytest.MonkeyPatch) -> None:
    """The proxy (here without a scheme, as requests accepted it) is sent the whole URL,
    with the user and password of its URL as Proxy-Authorization."""
    proxy = Canned(answer(b'{"ok": true}'))
    try:
        address = proxy.url.removeprefix("http://")
        no_proxy_env.setenv("ALL_PROXY", f"al%40ice:s3cret@{address}")
        with _client("http://127.0.0.1:9") as client:
            assert client.get("/conf/general", {"a": "1"}) == {"ok": True}
    finally:
        proxy.close()
    assert proxy.request_line() == "GET http://127.0.0.1:9/almaws/v1/conf/general?a=1 HTTP/1.1"
    sent = proxy.headers()
    assert sent["Proxy-Authorization"] == "Basic " + base64.b64encode(b"al@ice:s3cret").decode()
    assert sent["Authorization"] == "apikey the-key"


@pytest.mark.parametrize("no_proxy", ["127.0.0.0/8", "127.0.0.1", "localhost,127.0.0.1"])
def test_no_proxy_sends_the_calls_direct(emulator: Emulator, no_proxy_env: pytest.MonkeyPatch,
                                         no_proxy: str) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    no_proxy_env.setenv("NO_PROXY", no_proxy)
    with AlmaClient(emulator.base_url, emulator.api_key, read_only=True,
                    rate_limit=None) as client:
        assert client.get("/conf/libraries")["library"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (it makes the test certificate)")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize("variable", BUNDLES)
def test_the_ca_bundle_of_the_environment_is_trusted(
        no_proxy_env: pytest.MonkeyPatch, certificate: tuple[Path, Path],
        variable: str) -> None:
    """Without a bundle naming it, the self-signed certificate is refused (certifi's CAs
    are used, and verification is never off); with one, the call goes through."""
    server = Canned(answer(b'{"ok": true}'), tls=certificate)
    try:
        for name in BUNDLES:
            no_proxy_env.delenv(name, raising=False)
        with _client(server.url) as client, pytest.raises(AlmaUnavailable, match="TLS"):
            client.get("/conf/general")
        no_proxy_env.setenv(variable, str(certificate[0]))
        with _client(server.url) as client:
            assert client.get("/conf/general") == {"ok": True}
    finally:
        server.close()


def test_a_missing_ca_bundle_is_a_config_error(no_proxy_env: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    no_proxy_env.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "nowhere.pem"))
    with pytest.raises(ConfigError, match=r"nowhere\.pem"):
        _client("https://api-eu.hosted.exlibrisgroup.com")
    with _client("http://127.0.0.1:9"):  # plain http needs no bundle
        pass


def test_https_goes_through_the_proxy_in_a_tunnel(no_proxy_env: pytest.MonkeyPatch,
                                                  certificate: tuple[Path, Path]) -> None:
    """An https gateway behind ``HTTPS_PROXY``: a CONNECT tunnel (with the proxy's
    credentials), inside which the certificate is still checked against the bundle."""
    server = Canned(answer(b'{"ok": true}'), tls=certificate)
    address = server.url.removeprefix("https://")
    proxy = Tunnel()
    try:
        no_proxy_env.setenv("HTTPS_PROXY", proxy.url.replace("http://", "http://me:pw@"))
        no_proxy_env.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
        with _client(server.url) as client:
            assert client.get("/conf/general", {"x": "1"}) == {"ok": True}
        no_proxy_env.delenv("REQUESTS_CA_BUNDLE")
        no_proxy_env.delenv("CURL_CA_BUNDLE", raising=False)
        with _client(server.url) as client, pytest.raises(AlmaUnavailable, match="TLS"):
            client.get("/conf/general")
    finally:
        proxy.close()
        server.close()
    assert len(proxy.connects) == 2
    assert proxy.connects[0].startswith(f"CONNECT {address} HTTP/1.")
    assert f"Proxy-Authorization: Basic {base64.b64encode(b'me:pw').decode()}" in \
        proxy.connects[0].split("\r\n")
    assert server.request_line(0) == "GET /almaws/v1/conf/general?x=1 HTTP/1.1"
    assert server.headers(0)["Authorization"] == "apikey the-key"
