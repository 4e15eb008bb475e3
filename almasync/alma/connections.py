"""The connections of :class:`~almasync.alma.client.AlmaClient` to its gateway, set up as
requests set them up from the environment, read once per client: the proxy
(``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, either case), the CA bundle
(``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's), the encodings to accept, and
query strings encoded as requests encoded them.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

import certifi
import urllib3
from urllib3.exceptions import HTTPError
from urllib3.util import make_headers, parse_url

from almasync.errors import ConfigError

#: The encodings urllib3 can decode (gzip, deflate; br and zstd when installed).
ACCEPT_ENCODING = ", ".join(
    part.strip() for part in make_headers(accept_encoding=True)["accept-encoding"].split(","))


def pool_for(base_url: str, maxsize: int) -> urllib3.PoolManager:
    """The connections to the one gateway, ``maxsize`` kept open, with the settings
    requests read from the environment, read once: the proxy (:func:`_environ_proxy`) and,
    for https, the CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's).
    Certificates are always verified."""
    tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED"}
    if base_url.startswith("https:"):
        bundle = (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
                  or certifi.where())
        if not os.path.exists(bundle):
            raise ConfigError(f"no CA bundle at {bundle} (REQUESTS_CA_BUNDLE or "
                              "CURL_CA_BUNDLE names a file or directory that does not exist)")
        tls["ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"] = bundle
    pools: dict[str, Any] = {"num_pools": 2, "maxsize": maxsize, **tls}
    proxy = _environ_proxy(base_url)
    if proxy is None:
        return urllib3.PoolManager(**pools)
    try:
        return _proxy_manager(proxy, pools)
    except (HTTPError, ValueError) as exc:  # a URL that does not parse, an unknown scheme
        raise ConfigError(f"the proxy {_hide_password(proxy)} of the environment: {exc}"
                          ) from None


def _proxy_manager(proxy: str, pools: dict[str, Any]) -> urllib3.PoolManager:
    """Connections through ``proxy`` (``http://`` when it names no scheme), with the user
    and password of its URL as requests sent them: ``Proxy-Authorization: Basic``, or to
    a SOCKS proxy."""
    url = _with_scheme(proxy)
    if not parse_url(url).host:
        raise ConfigError(f"the proxy URL {_hide_password(proxy)} of the environment has no "
                          "host")
    user, password = _auth_of(url)
    if url.lower().startswith("socks"):
        try:
            from urllib3.contrib.socks import SOCKSProxyManager
        except ImportError:
            raise ConfigError(f"the proxy {_hide_password(proxy)} of the environment is a "
                              "SOCKS proxy, which needs PySocks (pip install PySocks)"
                              ) from None
        socks: urllib3.PoolManager = SOCKSProxyManager(
            url, username=user or None, password=password or None, **pools)
        return socks
    headers = {"Proxy-Authorization": make_headers(
        proxy_basic_auth=f"{user}:{password}")["proxy-authorization"]} if user else None
    return urllib3.ProxyManager(url, proxy_headers=headers, **pools)


def _environ_proxy(url: str) -> str | None:
    """The proxy of the environment for ``url``, chosen as requests did
    (``get_environ_proxies`` then ``select_proxy``): none when ``NO_PROXY`` covers the host,
    else ``{scheme}_proxy`` or ``all_proxy`` (either case)."""
    parts = urlsplit(url)
    host = parts.hostname
    if host is None or _bypassed(host, parts.port):
        return None
    proxies = urllib.request.getproxies()
    scheme = parts.scheme
    for key in (f"{scheme}://{host}", scheme, f"all://{host}", "all"):
        if proxies.get(key):
            return proxies[key]
    return None


def _bypassed(host: str, port: int | None) -> bool:
    """Whether ``NO_PROXY`` sends ``host`` direct: requests' ``should_bypass_proxies``
    (an address matches an entry or a CIDR block; a name ends with an entry, with or
    without its port), then the standard library's ``proxy_bypass``."""
    no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
    if no_proxy:
        entries = [entry for entry in no_proxy.replace(" ", "").split(",") if entry]
        try:
            socket.inet_aton(host)
            is_ipv4 = True
        except OSError:
            is_ipv4 = False
        if is_ipv4:
            for entry in entries:
                if "/" in entry:
                    try:
                        if ipaddress.ip_address(host) in ipaddress.ip_network(entry,
                                                                              strict=False):
                            return True
                    except ValueError:
                        continue
                elif host == entry:
                    return True
        else:
            with_port = f"{host}:{port}" if port else host
            if any(host.endswith(entry) or with_port.endswith(entry) for entry in entries):
                return True
    try:
        return bool(urllib.request.proxy_bypass(host))
    except (TypeError, socket.gaierror):
        return False


def _with_scheme(proxy: str) -> str:
    """``proxy`` with ``http://`` in front when it names no scheme (``host:port``), as
    requests' ``prepend_scheme_if_needed`` does."""
    parsed = parse_url(proxy)
    scheme, auth, _, _, path, query, fragment = parsed
    netloc = parsed.netloc or ""
    if not netloc:
        netloc, path = path or "", netloc
    if auth:
        netloc = f"{auth}@{netloc}"
    return urlunsplit((scheme or "http", netloc, path or "", query or "", fragment or ""))


def _auth_of(proxy: str) -> tuple[str, str]:
    """The user name and password in a proxy URL, unquoted (empty when none)."""
    parts = urlsplit(proxy)
    return unquote(parts.username or ""), unquote(parts.password or "")


def _hide_password(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part, if any, as ``***``."""
    return re.sub(r"^([^/]*//)?([^:@/]*):[^@/]*@", r"\1\2:***@", url)


def query_string(params: Mapping[str, Any] | None) -> str:
    """``params`` as a query string, encoded as requests did: a None value is left out,
    a list (any iterable but a string) gives the name once per value, anything else is
    ``str()``-ed."""
    if not params:
        return ""
    pairs: list[tuple[str, Any]] = []
    for name, values in params.items():
        if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
            values = [values]
        pairs.extend((name, value) for value in values if value is not None)
    return urlencode(pairs, doseq=True)
