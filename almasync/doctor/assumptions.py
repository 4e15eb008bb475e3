"""Every assumption almasync makes about Alma's answers, and a pure check of each.

An :class:`Assumption` names the kind it is about, says what almasync assumes, and what a
contradiction means for the user. Its check reads the :data:`~almasync.doctor.sample.Samples`
``doctor`` read and returns a :class:`Verdict`: verified, contradicted, or not seen (the
sample held nothing to judge by). ``unverified`` marks what no public source settles
(FACTS.md §8 "unknown"): these are the rows a run against a real institution answers.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from almasync.alma.payload import as_list
from almasync.doctor.sample import Listing, Samples
from almasync.kinds import HANDLERS
from almasync.kinds.open_hours import OpenHourEntry
from almasync.model import Kind


class Status(Enum):
    VERIFIED = "verified"
    CONTRADICTED = "contradicted"
    NOT_SEEN = "not seen"


@dataclass(frozen=True)
class Verdict:
    status: Status
    detail: str = ""


def verified(detail: str = "") -> Verdict:
    return Verdict(Status.VERIFIED, detail)


def contradicted(detail: str) -> Verdict:
    return Verdict(Status.CONTRADICTED, detail)


def not_seen(detail: str = "nothing of this kind in the sample") -> Verdict:
    return Verdict(Status.NOT_SEEN, detail)


Check = Callable[[Samples], Verdict]


@dataclass(frozen=True)
class Assumption:
    kind: str
    name: str
    meaning: str
    check: Check
    unverified: bool = False


# -- value shapes ---------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    return value.get("value") if isinstance(value, Mapping) and "value" in value else value


def is_coded(value: Any) -> bool:
    """A coded value: ``{"value": code, ...}`` (``desc`` and ``link`` are Alma's labels)."""
    return isinstance(value, Mapping) and "value" in value and not isinstance(
        value["value"], Mapping | list)


def is_text(value: Any) -> bool:
    return isinstance(value, str) or value is None


def is_flag(value: Any) -> bool:
    """A boolean in any of Alma's spellings: true, "true", {"value": "true"} (either case)."""
    value = _plain(value)
    return isinstance(value, bool) or (isinstance(value, str)
                                       and value.lower() in ("true", "false"))


def is_scalar(value: Any) -> bool:
    value = _plain(value)
    return isinstance(value, str | bool | int | float) or value is None


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}Z?$")
_HOUR = re.compile(r"^\d{2}:\d{2}$")


def is_date(value: Any) -> bool:
    return isinstance(value, str) and bool(_DATE.match(value))


def is_hour(value: Any) -> bool:
    return isinstance(value, str) and bool(_HOUR.match(value))


def is_coded_list(value: Any) -> bool:
    """A repeated coded element: a list of coded values, or one as a bare object."""
    return all(is_coded(v) for v in value) if isinstance(value, list) else is_coded(value)


Shape = Callable[[Any], bool]
SHAPE_NAMES: dict[Shape, str] = {
    is_coded: "a coded {value, desc} object", is_text: "text", is_flag: "a boolean "
    "(true, \"true\" or {value: \"true\"})", is_scalar: "a plain value", is_date:
    "a date YYYY-MM-DD(Z)", is_hour: "a time HH:MM", is_coded_list: "a list of coded values"}


# -- what almasync knows of each kind -------------------------------------------------------

@dataclass(frozen=True)
class Known:
    """The fields of a kind's full object almasync knows: those its files declare (from
    the model of ``kind``; tables and open hours declare rows and entries, not the object's
    fields), those it reads or keeps as read (``kept``), and the shape each field must have
    (``row.enabled`` is a field of each entry of ``row``)."""

    kind: Kind | None
    kept: frozenset[str]
    shapes: Mapping[str, Shape]

    @property
    def fields(self) -> frozenset[str]:
        managed = frozenset(HANDLERS[self.kind].model.model_fields) if self.kind else frozenset()
        return managed | self.kept


TABLE_TOP = frozenset({"name", "description", "sub_system", "patron_facing", "language",
                       "scope", "row", "link"})
KNOWN: Mapping[str, Known] = {
    "locations": Known(Kind.LOCATION, frozenset({"code", "circ_desk", "link"}), {
        "name": is_text, "external_name": is_text, "type": is_coded, "map": is_text,
        "remote_storage": is_text, "suppress_from_publishing": is_flag,
        "fulfillment_unit": is_coded, "accession_placement": is_coded,
        "call_number_type": is_coded}),
    "code_tables": Known(None, TABLE_TOP, {"row.code": is_text, "row.description": is_text,
                                           "row.enabled": is_flag, "row.default": is_flag}),
    "mapping_tables": Known(None, TABLE_TOP, {"row.enabled": is_flag}),
    "letters": Known(Kind.LETTER, frozenset({
        "code", "name", "description", "channel", "customized", "patron_facing",
        "retention_period", "updated_by", "update_date", "labels", "link"}), {
        "enabled": is_flag, "customized": is_flag, "xsl": is_text}),
    "license_terms": Known(Kind.LICENSE_TERM, frozenset({"code", "link"}), {
        "name": is_text, "description": is_text, "type": is_coded, "value_type": is_coded}),
    "reminders": Known(Kind.REMINDER, frozenset({
        "id", "entity", "created_by", "created_date", "last_modified_by",
        "last_modified_date", "link"}), {
        "type": is_coded, "status": is_coded, "text": is_text, "reminder_date": is_date}),
    "sets": Known(Kind.SET, frozenset({
        "id", "name", "status", "status_date", "created_by", "created_date",
        "number_of_members", "origin", "note", "link"}), {
        "type": is_coded, "content": is_coded, "private": is_flag, "description": is_text}),
    "integration_profiles": Known(Kind.INTEGRATION_PROFILE, frozenset({
        "id", "code", "parameter", "link"}), {
        "type": is_coded, "description": is_text, "name": is_text}),
    "open_hours": Known(None, frozenset({"open_hour"}), {
        "open_hour.type": is_coded, "open_hour.status": is_coded, "open_hour.desc": is_text,
        "open_hour.from_hour": is_hour, "open_hour.to_hour": is_hour,
        "open_hour.from_date": is_date, "open_hour.to_date": is_date,
        "open_hour.day": is_coded_list, "open_hour.inherited": is_flag}),
}
#: Fields of an open-hours entry almasync knows.
OPEN_HOUR_FIELDS = frozenset(OpenHourEntry.model_fields) | {"inherited"}
#: Fields of a table row almasync knows (mapping rows also have column0, column1, ...).
ROW_FIELDS = {"code_tables": frozenset({"code", "description", "enabled", "default"}),
              "mapping_tables": frozenset({"enabled"})}
_COLUMN = re.compile(r"^column[0-9]+$")
#: The settings' environment types (almasync.yaml ``environment_type``).
ENVIRONMENT_TYPES = ("PRODUCTION", "SANDBOX")
#: Lists read page by page: their total_record_count drives the paging.
PAGED = ("sets", "integration_profiles", "reminders")


def _name(body: Mapping[str, Any], kind: str) -> str:
    """What an object is called in a row: its code, name or id."""
    for field in ("code", "name", "id"):
        if body.get(field):
            return str(body[field])
    return kind


def _objects(samples: Samples, kind: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    sample = samples.get(kind)
    for exchange, _ in (sample.objects if sample else []):
        if isinstance(exchange.body, Mapping):
            label = exchange.params.get("scope") or _name(exchange.body, kind)
            yield str(label), exchange.body


def _entries(body: Mapping[str, Any], key: str) -> list[Any]:
    return as_list(body.get(key))


# -- checks ---------------------------------------------------------------------------------

def fields_expected(kind: str) -> Check:
    known = KNOWN[kind]

    def check(samples: Samples) -> Verdict:
        unknown: list[str] = []
        seen = 0
        for label, body in _objects(samples, kind):
            seen += 1
            unknown += [f"{label}: {name}" for name in body if name not in known.fields]
            if kind in ROW_FIELDS:
                for row in _entries(body, "row"):
                    unknown += [f"{label}: row field {name}" for name in row
                                if name not in ROW_FIELDS[kind] and not _COLUMN.match(name)]
            if kind == "open_hours":
                for entry in _entries(body, "open_hour"):
                    unknown += [f"{label}: entry field {name}" for name in entry
                                if name not in OPEN_HOUR_FIELDS]
        if not seen:
            return not_seen()
        if unknown:
            return contradicted("fields almasync does not know: " + "; ".join(sorted(
                set(unknown))[:6]))
        return verified(f"{seen} objects hold only fields almasync knows")
    return check


def _shape_of(body: Mapping[str, Any], path: str) -> Iterator[Any]:
    head, _, rest = path.partition(".")
    if not rest:
        if head in body:
            yield body[head]
        return
    for entry in _entries(body, head):
        if isinstance(entry, Mapping):
            yield from _shape_of(entry, rest)


def value_types(kind: str) -> Check:
    known = KNOWN[kind]

    def check(samples: Samples) -> Verdict:
        wrong: list[str] = []
        seen = 0
        for label, body in _objects(samples, kind):
            for path, shape in known.shapes.items():
                for value in _shape_of(body, path):
                    seen += 1
                    if not shape(value):
                        wrong.append(f"{label}: {path} is {_show(value)}, expected "
                                     f"{SHAPE_NAMES[shape]}")
        if not seen:
            return not_seen()
        if wrong:
            return contradicted("; ".join(wrong[:4]))
        return verified(f"{seen} values have the shapes almasync reads")
    return check


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def list_shapes(kind: str) -> Check:
    def check(samples: Samples) -> Verdict:
        sample = samples.get(kind)
        listings: list[Listing] = sample.lists if sample else []
        if not listings:
            return not_seen("no list was read")
        problems: list[str] = []
        bare = 0
        for listing in listings:
            body = listing.exchange.body
            if not isinstance(body, Mapping):
                problems.append(f"{listing.exchange.path}: the answer is not an object")
                continue
            value = body.get(listing.key)
            count = body.get("total_record_count")
            if isinstance(value, Mapping):
                bare += 1
            elif value is not None and not isinstance(value, list):
                problems.append(f"{listing.exchange.path}: {listing.key} is {_show(value)}")
            if count is None and kind in PAGED:
                problems.append(f"{listing.exchange.path}: no total_record_count (almasync "
                                "pages by it)")
            elif count is not None and not str(count).isdigit():
                problems.append(f"{listing.exchange.path}: total_record_count {count!r}")
            elif value is None and count not in (None, 0, "0"):
                problems.append(f"{listing.exchange.path}: no {listing.key} but "
                                f"total_record_count {count}")
            keyless = [e for e in listing.entries
                       if not isinstance(e, Mapping) or listing.identify(e) in ("None", "")]
            if keyless:
                problems.append(f"{listing.exchange.path}: {len(keyless)} entries without "
                                "the field that identifies them")
        if problems:
            return contradicted("; ".join(problems[:3]))
        detail = f"{len(listings)} lists"
        if bare:
            detail += f"; {bare} held one entry as a bare object (read as a list of one)"
        return verified(detail)
    return check


def _same(a: Any, b: Any) -> bool:
    def norm(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: norm(v) for k, v in value.items() if k not in ("link", "desc")}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return str(value).lower() if isinstance(value, bool | str) and is_flag(value) else value
    return bool(norm(a) == norm(b))


def brief_entries(kind: str) -> Check:
    def check(samples: Samples) -> Verdict:
        sample = samples.get(kind)
        pairs = [(ex.body, entry) for ex, entry in (sample.objects if sample else [])
                 if entry is not None and isinstance(ex.body, Mapping)]
        if not pairs:
            return not_seen("no object was read from a list")
        left_out: set[str] = set()
        differ: list[str] = []
        for full, entry in pairs:
            left_out |= {name for name in full if name not in entry and name != "xsl"}
            differ += [f"{_name(full, kind)}: {name}" for name in entry
                       if name in full and name != "link" and not _same(entry[name], full[name])]
        if differ:
            return contradicted("list entries and full objects disagree on "
                                + "; ".join(differ[:4]))
        brief = ("list entries leave out " + ", ".join(sorted(left_out)[:8])
                 + (" (read from the full object where needed)" if left_out else "")
                 if left_out else "list entries are complete")
        return verified(f"{len(pairs)} entries agree with their objects; {brief}")
    return check


def open_hours_types(samples: Samples) -> Verdict:
    known = _open_hour_types()
    seen: dict[str, int] = {}
    problems = []
    for label, body in _objects(samples, "open_hours"):
        for entry in _entries(body, "open_hour"):
            if not isinstance(entry, Mapping):
                continue
            code = _plain(entry.get("type"))
            seen[str(code)] = seen.get(str(code), 0) + 1
            if not isinstance(code, str) or not code:
                problems.append(f"{label}: an entry without a type code")
            elif known is not None and code not in known:
                problems.append(f"{label}: an entry of type {code}")
            elif code == "WEEK" and "day" not in entry:
                problems.append(f"{label}: a WEEK entry without day")
    if problems:
        return contradicted("; ".join(sorted(set(problems))[:4]))
    if not seen:
        return not_seen("no open-hours entries in the sample")
    return verified("types seen: " + ", ".join(f"{k} ({v})" for k, v in sorted(seen.items())))


def _open_hour_types() -> frozenset[str] | None:
    """The type codes a file may declare, or None when it may declare any code (events
    take their code from what Alma shows)."""
    args = typing.get_args(OpenHourEntry.model_fields["type"].annotation)
    return frozenset(args) if args and all(isinstance(a, str) for a in args) else None


def profile_parameters(samples: Samples) -> Verdict:
    sample = samples.get("integration_profiles")
    bodies = [ex.body for ex, _ in (sample.objects if sample else [])]
    bodies += [e for listing in (sample.lists if sample else []) for e in listing.entries]
    problems: list[str] = []
    count = 0
    for body in bodies:
        if not isinstance(body, Mapping):
            continue
        pairs: set[tuple[str, str]] = set()
        for entry in _entries(body, "parameter"):
            count += 1
            action = _plain(entry.get("action")) if isinstance(entry, Mapping) else None
            name = _plain(entry.get("name")) if isinstance(entry, Mapping) else None
            code = body.get("code", body.get("id"))
            if not action or not name:
                problems.append(f"{code}: parameter {name or '?'} has no "
                                f"{'action' if name else 'name'}")
            elif (action, name) in pairs:
                problems.append(f"{code}: parameter {name} of action {action} occurs twice")
            pairs.add((str(action), str(name)))
    if problems:
        return contradicted("; ".join(sorted(set(problems))[:4]))
    if not count:
        return not_seen("no profile parameters in the sample")
    return verified(f"{count} parameter entries, each with its own (action, name)")


def environment_type(samples: Samples) -> Verdict:
    found = list(_objects(samples, "general"))
    if not found:
        return not_seen("/conf/general was not read")
    value = _plain(found[0][1].get("environment_type"))
    if value is None:
        return contradicted("/conf/general has no environment_type")
    if str(value).upper() not in ENVIRONMENT_TYPES:
        return contradicted(f"environment_type is {value!r}, not one of "
                            f"{', '.join(ENVIRONMENT_TYPES)}")
    return verified(f"environment_type {value}")


def quota_header(samples: Samples) -> Verdict:
    exchanges = [ex for s in samples.values() for ex in s.exchanges()]
    if not exchanges:
        return not_seen("nothing was read")
    values = [ex.headers.get("X-Exl-Api-Remaining") for ex in exchanges]
    numbers = [v for v in values if v is not None and v.isdigit()]
    if len(numbers) < len(values):
        return contradicted(f"{len(values) - len(numbers)} of {len(values)} answers had no "
                            "numeric X-Exl-Api-Remaining")
    return verified(f"every answer carried it ({min(int(v) for v in numbers)} calls left)")


def reminder_window(samples: Samples) -> Verdict:
    sample = samples.get("reminders")
    if sample is None:
        return not_seen("reminders were not read")
    refused = [ex for ex in sample.refused if ex.path == "/conf/reminders"]
    if refused:
        error = refused[0].body["errorList"]["error"][0]
        return contradicted(f"Alma refused from={refused[0].params.get('from')} "
                            f"to={refused[0].params.get('to')}: {error['errorCode']} "
                            f"{error['errorMessage']}")
    if not sample.lists:
        return not_seen("the reminder list was not read")
    return verified("the list answered the window 1900-01-01..2999-12-31")


def set_search(samples: Samples) -> Verdict:
    sample = samples.get("sets")
    if sample is None or not sample.lists:
        return not_seen("the set list was not read")
    searches = [ex for ex in [*sample.other, *sample.refused] if "q" in ex.params]
    if not searches:
        return not_seen("no set to search for")
    search = searches[0]
    wanted = search.params["q"].removeprefix("name~").replace("_", " ")
    if search.status != 200:
        return contradicted(f"Alma refused q={search.params['q']}")
    names = [str(e.get("name")) for e in _entries(search.body, "set") if isinstance(e, Mapping)]
    if wanted not in names:
        return contradicted(f"q={search.params['q']} did not find the set {wanted!r}")
    return verified(f"q=name~ found {wanted!r} among {len(names)} hits")


def rate_limit(samples: Samples) -> Verdict:
    return not_seen("a read-only sample stays under the limit; almasync backs off on 429 "
                    "PER_SECOND_THRESHOLD whatever the limit is")


# -- the list -------------------------------------------------------------------------------

_FIELDS = "almasync does not manage it and sends it back as read in every write (see the " \
    "no-op write row); tell us, so the emulator and the docs learn it"
_TYPES = "almasync may misread this value: a plan can show a change that is not one, or " \
    "miss one"
_LISTS = "almasync may miss entries of this list (it pages by total_record_count), or " \
    "cannot address them"
_BRIEF = "a plan may compare a list entry that differs from the object"
WITH_LISTS = ("locations", "code_tables", "mapping_tables", "letters", "license_terms",
              "reminders", "sets", "integration_profiles")


def _per_kind() -> Iterator[Assumption]:
    for kind in KNOWN:
        yield Assumption(kind, "fields expected", _FIELDS, fields_expected(kind),
                         unverified=kind in ("license_terms", "open_hours"))
        yield Assumption(kind, "value types", _TYPES, value_types(kind),
                         unverified=kind in ("license_terms", "open_hours"))
        if kind in WITH_LISTS:
            yield Assumption(kind, "list shapes", _LISTS, list_shapes(kind))
            yield Assumption(kind, "brief vs full list entries", _BRIEF, brief_entries(kind),
                             unverified=kind == "reminders")


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption("general", "environment_type", "apply cannot check that --env points at the "
               "institution type almasync.yaml declares (environment_type)", environment_type),
    Assumption("api", "rate and quota headers", "almasync cannot warn when the daily API "
               "quota runs low", quota_header),
    Assumption("api", "per-second limit answers 429", "almasync retries throttled calls "
               "with back-off; nothing to do", rate_limit, unverified=True),
    Assumption("libraries", "list shapes", _LISTS, list_shapes("libraries")),
    *_per_kind(),
    Assumption("open_hours", "open-hours record types", "a scope's list holds entries "
               "almasync cannot declare; a write of that scope would not carry them as read",
               open_hours_types, unverified=True),
    Assumption("integration_profiles", "profile parameter identity",
               "a declared parameter that matches such an entry is refused at plan time "
               "(almasync cannot tell which entry it means); others are kept as read",
               profile_parameters),
    Assumption("reminders", "date window 1900-01-01..2999-12-31", "reminders cannot be "
               "read whole; plan and drift of reminders fail until the window is narrowed",
               reminder_window, unverified=True),
    Assumption("sets", "find a set by name with q=name~", "almasync pages through every "
               "set to find one by name (slower, same result)", set_search),
)
