"""Read a small sample of each kind: a list page and a few full objects.

Every call goes through a :class:`~almasync.doctor.client.RecordingClient`, with the same
paths and queries the kinds use, so the calls recorded here replay the kinds' own reads.
:func:`capture` turns a sample into what ``--record`` writes: each list cut down to the
entries read in full, so that the recording is a small, consistent institution.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from almasync.alma.client import PAGE_SIZE
from almasync.alma.payload import as_list
from almasync.doctor.client import Exchange, RecordingClient, refusal_of_this_call
from almasync.errors import AlmaError
from almasync.kinds.letter import LETTER_TYPES
from almasync.kinds.reminder import ENTITY_TYPES, WINDOW

#: Full objects read per list.
PER_LIST = 2
#: Code tables almasync checks references against; read whenever they exist.
REFERENCE_TABLES = ("IntegrationTypes", "SetContentType", "ReminderTypes",
                    "ReminderStatuses")
PAGE = {"limit": PAGE_SIZE, "offset": 0}


@dataclass
class Listing:
    """One list read: the call, its list key, and the identities of entries read in full."""

    exchange: Exchange
    key: str
    identify: Callable[[Mapping[str, Any]], str]
    kept: set[str] = field(default_factory=set)

    @property
    def entries(self) -> list[Any]:
        body = self.exchange.body if isinstance(self.exchange.body, Mapping) else {}
        return as_list(body.get(self.key))


@dataclass
class Sample:
    """What was read for one kind: lists, full objects (each with its list entry, when it
    came from a list), and other calls (members, searches, scopes)."""

    kind: str
    lists: list[Listing] = field(default_factory=list)
    objects: list[tuple[Exchange, Mapping[str, Any] | None]] = field(default_factory=list)
    other: list[Exchange] = field(default_factory=list)
    refused: list[Exchange] = field(default_factory=list)

    def exchanges(self) -> Iterable[Exchange]:
        yield from (listing.exchange for listing in self.lists)
        yield from (exchange for exchange, _ in self.objects)
        yield from self.other
        yield from self.refused


Samples = dict[str, Sample]


class _Reader:
    def __init__(self, client: RecordingClient) -> None:
        self.client = client
        self.samples: Samples = {}

    def sample(self, kind: str) -> Sample:
        return self.samples.setdefault(kind, Sample(kind))

    def get(self, kind: str, path: str, params: Mapping[str, Any] | None = None
            ) -> Exchange | None:
        """One GET; a refusal (4xx) is kept in the sample and gives None."""
        try:
            self.client.get(path, params)
        except AlmaError as exc:
            if not refusal_of_this_call(exc) or not self.client.reads \
                    or self.client.reads[-1].path != path:
                raise
            self.sample(kind).refused.append(self.client.reads[-1])
            return None
        return self.client.reads[-1]

    def listing(self, kind: str, path: str, key: str, identify: Callable[[Mapping[str, Any]],
                str], params: Mapping[str, Any] | None = None) -> Listing | None:
        exchange = self.get(kind, path, params)
        if exchange is None:
            return None
        listing = Listing(exchange, key, identify)
        self.sample(kind).lists.append(listing)
        return listing

    def full(self, kind: str, listing: Listing, path_of: Callable[[Mapping[str, Any]], str],
             count: int = PER_LIST) -> list[Mapping[str, Any]]:
        """Read the first ``count`` entries of a listing in full."""
        read = []
        for entry in [e for e in listing.entries if isinstance(e, Mapping)][:count]:
            try:
                path = path_of(entry)
            except KeyError:
                continue  # an entry without its key field: the checks report its shape
            exchange = self.get(kind, path)
            if exchange is None:
                continue
            listing.kept.add(listing.identify(entry))
            self.sample(kind).objects.append((exchange, entry))
            read.append(entry)
        return read


def _q(text: Any) -> str:
    return quote(str(text), safe="")


def _code(entry: Mapping[str, Any]) -> str:
    return str(entry.get("code"))


def _id(entry: Mapping[str, Any]) -> str:
    return str(entry.get("id"))


def _name(entry: Mapping[str, Any]) -> str:
    return str(entry.get("name"))


def _under(base: str, field: str) -> Callable[[Mapping[str, Any]], str]:
    """The path of a list entry's object: ``base/<the entry's field>``."""
    return lambda entry: f"{base}/{_q(entry[field])}"


def read_samples(client: RecordingClient) -> Samples:
    """Read the sample of every kind (read-only; a few dozen calls)."""
    r = _Reader(client)
    general = r.get("general", "/conf/general")
    if general is not None:
        r.sample("general").objects.append((general, None))
    institution = ""
    if general is not None and isinstance(general.body, Mapping):
        value = general.body.get("institution")
        institution = str(value.get("value") if isinstance(value, Mapping) else value or "")
    libraries = r.listing("libraries", "/conf/libraries", "library", _code)
    libs = [e for e in (libraries.entries if libraries else []) if isinstance(e, Mapping)]
    libs = libs[:PER_LIST]
    if libraries:
        libraries.kept = {_code(lib) for lib in libs}
    for lib in libs:
        base = f"/conf/libraries/{_q(lib['code'])}/locations"
        locations = r.listing("locations", base, "location", _code)
        if locations:
            r.full("locations", locations, _under(base, "code"))
    for scope in [s for s in (institution, *(_code(lib) for lib in libs)) if s]:
        hours = r.get("open_hours", "/conf/open-hours", {"scope": scope})
        if hours is not None:
            r.sample("open_hours").objects.append((hours, None))
    _tables(r)
    for letter_type in LETTER_TYPES:
        letters = r.listing("letters", "/conf/letters", "letter", _code, {"type": letter_type})
        if letters:
            r.full("letters", letters, lambda e: f"/conf/letters/{_q(e['code'])}")
    terms = r.listing("license_terms", "/conf/license-terms", "license_term", _code)
    if terms:
        r.full("license_terms", terms, lambda e: f"/conf/license-terms/{_q(e['code'])}")
    for entity_type in ENTITY_TYPES:
        window = {"entity_type": entity_type, "from": WINDOW[0], "to": WINDOW[1], **PAGE}
        reminders = r.listing("reminders", "/conf/reminders", "reminder", _id, window)
        if reminders:
            r.full("reminders", reminders, lambda e: f"/conf/reminders/{_q(e['id'])}")
    _sets(r)
    profiles = r.listing("integration_profiles", "/conf/integration-profiles",
                         "integration_profile", _id, PAGE)
    if profiles:
        r.full("integration_profiles", profiles,
               lambda e: f"/conf/integration-profiles/{_q(e['id'])}")
    _read_only(r)
    return r.samples


def _read_only(r: _Reader) -> None:
    """The read-only kinds, read as the kinds themselves read them (they are compared, not
    written, so their reads are recorded for replays but have no write to check). A call
    already in the sample keeps its trimmed answer."""
    from almasync.kinds import ORDER
    from almasync.kinds.base import LiveQuery
    from almasync.kinds.references import References

    refs = References(r.client)
    seen = {(e.path, tuple(sorted(e.params.items()))) for e in r.client.reads}
    for handler in [h for h in ORDER if h.read_only]:
        start = len(r.client.reads)
        try:
            handler.read_live(r.client, LiveQuery({}, everything=True, detail=True), refs)
        except AlmaError as exc:
            if not refusal_of_this_call(exc):
                raise
        for exchange in r.client.reads[start:]:
            key = (exchange.path, tuple(sorted(exchange.params.items())))
            if key not in seen:
                seen.add(key)
                r.sample(handler.kind.config_key).other.append(exchange)


def _tables(r: _Reader) -> None:
    for kind, path, key in (("code_tables", "/conf/code-tables", "code_table"),
                            ("mapping_tables", "/conf/mapping-tables", "mapping_table")):
        listing = r.listing(kind, path, key, _name)
        if listing is None:
            continue
        r.full(kind, listing, _under(path, "name"))
        if kind == "code_tables":
            known = {_name(e) for e in listing.entries if isinstance(e, Mapping)}
            for name in REFERENCE_TABLES:
                if name in listing.kept:
                    continue
                exchange = r.get(kind, f"{path}/{_q(name)}")
                if exchange is not None:
                    r.sample(kind).other.append(exchange)
                    if name in known:
                        listing.kept.add(name)


def _sets(r: _Reader) -> None:
    sets = r.listing("sets", "/conf/sets", "set", _id, PAGE)
    if sets is None:
        return
    for entry in r.full("sets", sets, lambda e: f"/conf/sets/{_q(e['id'])}"):
        members = r.get("sets", f"/conf/sets/{_q(entry['id'])}/members", PAGE)
        if members is not None:
            r.sample("sets").other.append(members)
    named = [e for e in sets.entries if isinstance(e, Mapping) and e.get("name")]
    if named:
        search = {"q": "name~" + str(named[0]["name"]).replace(" ", "_"), **PAGE}
        found = r.get("sets", "/conf/sets", search)
        if found is not None:
            r.sample("sets").other.append(found)


def trimmed(listing: Listing) -> Exchange:
    """The listing's call with only the entries read in full, counted again; a list that
    came as a bare object stays one."""
    body = copy.deepcopy(listing.exchange.body)
    if not isinstance(body, dict):
        return listing.exchange
    value = body.get(listing.key)
    kept = [e for e in listing.entries
            if isinstance(e, Mapping) and listing.identify(e) in listing.kept]
    body.pop(listing.key, None)
    if kept:
        body[listing.key] = kept[0] if isinstance(value, Mapping) else kept
    if "total_record_count" in listing.exchange.body:
        body["total_record_count"] = len(kept)
    ex = listing.exchange
    return Exchange(ex.method, ex.path, ex.params, body, ex.status, ex.headers)


def capture(samples: Samples) -> list[tuple[str, Exchange]]:
    """(kind, call) pairs a recording holds: lists trimmed to the objects read in full,
    everything else as read. The name search is left out: a replay answers it."""
    out: list[tuple[str, Exchange]] = []
    for kind, sample in samples.items():
        out.extend((kind, trimmed(listing)) for listing in sample.lists)
        out.extend((kind, exchange) for exchange, _ in sample.objects)
        out.extend((kind, exchange) for exchange in sample.other
                   if "q" not in exchange.params)
        out.extend((kind, exchange) for exchange in sample.refused)
    return out
