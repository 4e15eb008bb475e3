"""What ``doctor --record`` removes before anything is written: credentials, people's
names, e-mail addresses and host names, each replaced by a marker.

Markers are numbered per recording, so the same value gets the same marker everywhere
(a replay still finds a set by the name it lists). Every marker starts with ``redacted-``;
e-mail and host markers keep their shape (``redacted-email-1@example.invalid``,
``redacted-host-1.invalid``) so the data stays what it was, minus the person and the place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from almasync.kinds.secrets import is_credential

PREFIX = "redacted-"
#: Fields that hold a person (who created or changed something, operators, contacts).
PERSONAL = frozenset({"created_by", "last_modified_by", "modified_by", "updated_by",
                      "full_name", "first_name", "last_name", "middle_name", "user_name",
                      "primary_id", "contact_person", "operator", "owner_name"})
#: Words that make a field or a profile parameter personal wherever they occur in its name
#: (``ftp_username``, ``login``, ``contact_person``).
PERSONAL_WORDS = ("username", "userid", "login", "contact", "operator")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
HOST = re.compile(r"(?<![A-Za-z0-9@._-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                  r"[A-Za-z]{2,24}(?![A-Za-z0-9_-])")
#: Hosts of public standards (XML namespaces in letter templates), not of an institution.
PUBLIC_HOSTS = frozenset({"www.w3.org", "w3.org", "purl.org", "www.loc.gov", "schema.org"})
_KEY_IN_URL = re.compile(r"(apikey=)[^&\s\"']+", re.IGNORECASE)
#: File-like names a host pattern would take for hosts (``header.xsl``, ``a.json``).
_NOT_HOSTS = re.compile(r"\.(xsl|xml|json|csv|txt|pdf|html?|mrc|yaml|yml|zip|gz|dat)$",
                        re.IGNORECASE)


def is_marker(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith(PREFIX) or value == "")


class Sanitiser:
    """Replace what must not leave the machine in recorded responses (see module doc)."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        #: Values never to write anywhere (the API key); replaced wherever they occur.
        self.secrets = tuple(s for s in secrets if s)
        self.markers: dict[tuple[str, str], str] = {}

    def marker(self, what: str, value: str) -> str:
        key = (what, value)
        if key not in self.markers:
            n = sum(1 for kind, _ in self.markers if kind == what) + 1
            self.markers[key] = {"email": f"{PREFIX}email-{n}@example.invalid",
                                 "host": f"{PREFIX}host-{n}.invalid"}.get(
                                     what, f"{PREFIX}{what}-{n}")
        return self.markers[key]

    def text(self, value: str) -> str:
        """Free text with e-mail addresses, host names and secrets replaced."""
        if value.startswith(PREFIX):
            return value
        for secret in self.secrets:
            value = value.replace(secret, self.marker("secret", secret))
        value = _KEY_IN_URL.sub(lambda m: m.group(1) + self.marker("secret", "apikey"), value)
        value = EMAIL.sub(lambda m: self.marker("email", m.group(0).lower()), value)
        return HOST.sub(self._host, value)

    def _host(self, match: re.Match[str]) -> str:
        host = match.group(0)
        if (host.lower() in PUBLIC_HOSTS or host.lower().endswith(".invalid")
                or _NOT_HOSTS.search(host) or host.replace(".", "").isdigit()):
            return host
        return self.marker("host", host.lower())

    def value(self, what: str, value: Any) -> Any:
        """A whole value replaced by a marker (a coded ``{"value": X}`` keeps its shape)."""
        if isinstance(value, Mapping):
            return {k: (self.value(what, v) if k in ("value", "desc") else self.clean(v))
                    for k, v in value.items()}
        if value in (None, "") or isinstance(value, bool):
            return value
        return self.marker(what, str(value))

    def clean(self, data: Any) -> Any:
        """``data`` with every credential, person, e-mail address and host replaced. A
        field is judged by its name; an entry ``{name: N, value: V}`` (a profile
        parameter) has its value judged by N."""
        if isinstance(data, Mapping):
            out: dict[str, Any] = {}
            entry = what_holds(_plain(data.get("name"))) if "value" in data else None
            for key, value in data.items():
                what = entry if key == "value" and entry else what_holds(key)
                out[key] = self.value(what, value) if what else self.clean(value)
            return out
        if isinstance(data, list):
            return [self.clean(item) for item in data]
        if isinstance(data, str):
            return self.text(data)
        return data


def what_holds(name: Any) -> str | None:
    """What a field or parameter called ``name`` holds: "secret" (a credential), "person"
    (who did something, a login, a contact), or None (judge the text itself)."""
    if not isinstance(name, str):
        return None
    if is_credential(name):
        return "secret"
    squashed = re.sub(r"[^a-z]", "", name.lower())
    if name in PERSONAL or any(word in squashed for word in PERSONAL_WORDS):
        return "person"
    return None


def _plain(value: Any) -> Any:
    return value.get("value") if isinstance(value, Mapping) else value
