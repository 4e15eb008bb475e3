"""Turn seed data into a validated Store, one small builder per section."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from almasync.emulator import labels
from almasync.emulator.errors import AlmaError
from almasync.emulator.handlers.hours import parse_entries
from almasync.emulator.handlers.libraries import parse_location
from almasync.emulator.handlers.license_terms import parse_term
from almasync.emulator.handlers.profiles import parse_profile
from almasync.emulator.handlers.reminders import parse_reminder
from almasync.emulator.handlers.sets import parse_set
from almasync.emulator.handlers.tables import parse_code_rows, parse_mapping_rows
from almasync.emulator.render import text
from almasync.emulator.store import Record, Store

SECTIONS = frozenset(
    {
        "format",
        "institution",
        "fulfillment_units",
        "remote_storages",
        "campuses",
        "libraries",
        "departments",
        "printers",
        "code_tables",
        "mapping_tables",
        "letters",
        "license_terms",
        "reminders",
        "sets",
        "integration_profiles",
        "jobs",
        "open_hours",
        "relations",
        "deposit_profiles",
        "import_profiles",
        "fees",
        "workflows",
    }
)
DAY = 86_400.0


class SeedError(ValueError):
    """A seed that cannot be loaded; the message names the place and the problem."""


@contextlib.contextmanager
def at(where: str) -> Iterator[None]:
    """Report any problem inside the block as a SeedError located at ``where``."""
    try:
        yield
    except SeedError:
        raise
    except AlmaError as exc:
        raise SeedError(f"{where}: {exc.message}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SeedError(f"{where}: invalid entry ({type(exc).__name__}: {exc})") from None


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise SeedError(f"{key}: must be a mapping")
    return value


def _listing(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise SeedError(f"{key}: must be a list")
    return value


def _id(store: Store, entry: dict[str, Any]) -> str:
    given = text(entry.get("id"))
    if given and not given.isdigit():
        raise SeedError(f"id {given!r} must be digits")
    return given or store.new_id()


def build_store(data: dict[str, Any]) -> Store:
    unknown = sorted(set(data) - SECTIONS)
    if unknown:
        raise SeedError(f"unknown seed section(s): {', '.join(unknown)}")
    store = Store()
    _institution(store, data)
    for builder in BUILDERS:
        builder(store, data)
    return store


def _institution(store: Store, data: dict[str, Any]) -> None:
    inst = _mapping(data, "institution")
    if not text(inst.get("code")):
        raise SeedError("institution.code: required")
    env = text(inst.get("environment_type")) or "SANDBOX"
    if env not in labels.ENVIRONMENT_TYPES:
        raise SeedError(f"institution.environment_type: {env!r} is not SANDBOX or PRODUCTION")
    window = inst.get("reminder_window_days")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int)
                               or window < 0):
        raise SeedError("institution.reminder_window_days: a number of days (0 or more)")
    store.institution = {**inst, "code": text(inst["code"]), "environment_type": env}
    store.institution.setdefault("name", store.institution["code"])
    for key in ("fulfillment_units", "remote_storages", "campuses"):
        setattr(store, key, {str(k): str(v) for k, v in _mapping(data, key).items()})
    default_fu = text(inst.get("default_fulfillment_unit")) or next(
        iter(store.fulfillment_units), ""
    )
    if default_fu and default_fu not in store.fulfillment_units:
        raise SeedError(
            f"institution.default_fulfillment_unit: {default_fu!r} is not a fulfillment unit"
        )
    store.institution["default_fulfillment_unit"] = default_fu
    if not isinstance(inst.get("bare_singletons", False), bool):
        raise SeedError("institution.bare_singletons: true or false")


def _libraries(store: Store, data: dict[str, Any]) -> None:
    for code, lib in _mapping(data, "libraries").items():
        where = f"libraries.{code}"
        with at(where):
            store.libraries[code] = {
                "code": code,
                "id": _id(store, lib),
                "name": text(lib.get("name")) or code,
                "description": text(lib.get("description")),
                "resource_sharing": bool(lib.get("resource_sharing", False)),
                "campus": text(lib.get("campus")),
                "proxy": text(lib.get("proxy")),
                "default_location": text(lib.get("default_location")),
            }
            store.circ_desks[code] = {
                desk_code: {**desk, "code": desk_code, "name": text(desk.get("name")) or desk_code}
                for desk_code, desk in (lib.get("circ_desks") or {}).items()
            }
            store.locations[code] = {}
        for loc_code, loc in (lib.get("locations") or {}).items():
            with at(f"{where}.locations.{loc_code}"):
                record = parse_location(store, code, str(loc_code), loc)
                record["has_items"] = bool(loc.get("has_items", False))
                store.locations[code][str(loc_code)] = record


def _simple(section: str, target: str, key_field: str) -> Callable[[Store, dict[str, Any]], None]:
    """Read-only kinds kept as given, keyed by their code or id."""

    def build(store: Store, data: dict[str, Any]) -> None:
        collection: dict[str, Record] = getattr(store, target)
        for key, entry in _mapping(data, section).items():
            with at(f"{section}.{key}"):
                collection[str(key)] = {**entry, key_field: str(key)}

    return build


def _code_tables(store: Store, data: dict[str, Any]) -> None:
    for name, table in _mapping(data, "code_tables").items():
        with at(f"code_tables.{name}"):
            record = _table_meta(name, table)
            record["rows"] = parse_code_rows(table.get("rows") or [])
            record["translations"] = {
                lang: {str(c): str(d) for c, d in texts.items()}
                for lang, texts in (table.get("translations") or {}).items()
            }
            record["scopes"] = {
                lib: {"rows": parse_code_rows(scoped.get("rows") or []), "translations": {}}
                for lib, scoped in (table.get("scopes") or {}).items()
            }
            store.code_tables[name] = record


def _mapping_tables(store: Store, data: dict[str, Any]) -> None:
    for name, table in _mapping(data, "mapping_tables").items():
        with at(f"mapping_tables.{name}"):
            record = _table_meta(name, table)
            record["columns"] = int(table.get("columns", 2))
            record["rows"] = parse_mapping_rows(record, table.get("rows") or [])
            record["scopes"] = {
                lib: {"rows": parse_mapping_rows(record, scoped.get("rows") or [])}
                for lib, scoped in (table.get("scopes") or {}).items()
            }
            store.mapping_tables[name] = record


def _table_meta(name: str, table: dict[str, Any]) -> Record:
    return {
        "name": name,
        "description": text(table.get("description")),
        "sub_system": text(table.get("sub_system")),
        "patron_facing": bool(table.get("patron_facing", False)),
        "customizable": bool(table.get("customizable", True)),
        "hidden": bool(table.get("hidden", False)),
        "library_scope": bool(table.get("library_scope", False)),
    }


def _letters(store: Store, data: dict[str, Any]) -> None:
    for code, letter in _mapping(data, "letters").items():
        with at(f"letters.{code}"):
            xsl = str(letter.get("xsl", ""))
            default_xsl = str(letter.get("default_xsl", xsl))
            kind = text(letter.get("type")) or "LETTER"
            if kind not in ("LETTER", "COMPONENT"):
                raise SeedError(f"letters.{code}.type: {kind!r} is not LETTER or COMPONENT")
            if kind == "COMPONENT" and not str(code).endswith(".xsl"):
                raise SeedError(f"letters.{code}: a component's code ends in .xsl in Alma "
                                f"(e.g. header.xsl); write {code}.xsl")
            store.letters[code] = {
                **letter,
                "code": code,
                "type": kind,
                "xsl": xsl,
                "default_xsl": default_xsl,
                "customized": bool(letter.get("customized", xsl != default_xsl)),
                "listed_twice": bool(letter.get("listed_twice", False)),
                "default_channel": text(letter.get("channel")) or "EMAIL",
            }


def _license_terms(store: Store, data: dict[str, Any]) -> None:
    for code, term in _mapping(data, "license_terms").items():
        with at(f"license_terms.{code}"):
            store.license_terms[code] = parse_term({**term, "code": code})


def _reminders(store: Store, data: dict[str, Any]) -> None:
    for index, entry in enumerate(_listing(data, "reminders")):
        with at(f"reminders[{index}]"):
            body = {
                **entry,
                "entity": {
                    "entity_type": entry.get("entity_type"),
                    "entity_id": entry.get("entity_id"),
                    "description": entry.get("entity_description"),
                },
            }
            rem = parse_reminder(store, body, None)
            created = text(entry.get("created_date")) or rem["reminder_date"]
            rem.update(
                id=_id(store, entry),
                created_by=text(entry.get("created_by")) or "exl_api",
                created_date=created,
                last_modified_by="exl_api",
                last_modified_date=created,
            )
            store.reminders[rem["id"]] = rem


def _sets(store: Store, data: dict[str, Any]) -> None:
    for index, entry in enumerate(_listing(data, "sets")):
        with at(f"sets[{index}]"):
            rec = parse_set(store, entry, None, "402228")
            if any(s["name"] == rec["name"] for s in store.sets.values()):
                raise SeedError(f"sets[{index}]: the set name {rec['name']!r} is used twice")
            members = [
                m if isinstance(m, dict) else {"id": str(m)} for m in entry.get("members") or []
            ]
            created = text(entry.get("created_date")) or "2025-01-15Z"
            rec.update(
                id=_id(store, entry),
                members=[
                    {
                        "id": str(m["id"]),
                        "description": text(m.get("description")) or f"Record {m['id']}",
                    }
                    for m in members
                ],
                created_by=text(entry.get("created_by")) or "exl_api",
                created_date=created,
                status_date=created.rstrip("Z") + "T09:00:00.000Z",
                origin=text(entry.get("origin")) or "UI",
            )
            store.sets[rec["id"]] = rec


def _profiles(store: Store, data: dict[str, Any]) -> None:
    for index, entry in enumerate(_listing(data, "integration_profiles")):
        with at(f"integration_profiles[{index}]"):
            rec = parse_profile(store, entry, None, strict=False)  # may deviate
            rec["id"] = _id(store, entry)
            store.integration_profiles[rec["id"]] = rec


def _jobs(store: Store, data: dict[str, Any]) -> None:
    now = time.time()
    for index, entry in enumerate(_listing(data, "jobs")):
        with at(f"jobs[{index}]"):
            job = {k: v for k, v in entry.items() if k != "instances"}
            job_id, type_ = text(job.get("id")), text(job.get("type")) or "MANUAL"
            if not job_id or job_id[0] != type_[0] or not job_id[1:].isdigit():
                raise SeedError(
                    f"jobs[{index}].id: {job_id!r} must be {type_[0]} followed by digits"
                )
            if (
                type_ not in labels.JOB_TYPES
                or job.get("outcome", "COMPLETED_SUCCESS") not in labels.JOB_STATUSES
            ):
                raise SeedError(f"jobs[{index}]: type or outcome is not valid")
            profile = text(job.get("profile_id"))
            if (
                profile
                and profile not in store.integration_profiles
                and profile not in store.import_profiles
            ):
                raise SeedError(f"jobs[{index}].profile_id: {profile!r} is not a profile")
            store.jobs[job_id] = {**job, "id": job_id, "type": type_}
            for run in entry.get("instances") or []:
                instance: Record = {
                    "id": _id(store, run),
                    "job_id": job_id,
                    "status": text(run.get("status")) or "COMPLETED_SUCCESS",
                    "submit_time": now - float(run.get("days_ago", 1)) * DAY,
                    "api": False,
                    "submitted_by": text(run.get("submitted_by")) or "admin",
                }
                store.job_instances[instance["id"]] = instance


def _open_hours(store: Store, data: dict[str, Any]) -> None:
    for scope, entries in _mapping(data, "open_hours").items():
        with at(f"open_hours.{scope}"):
            if not store.scope_exists(scope):
                raise SeedError(f"open_hours.{scope}: not the institution or a library")
            store.open_hours[scope] = parse_entries(_one_per_day(entries or []))


def _one_per_day(entries: list[Any]) -> list[Any]:
    """Seed shorthand: a WEEK entry with a list of days stands for one entry per day."""
    out: list[Any] = []
    for entry in entries:
        days = entry.get("day") if isinstance(entry, dict) else None
        if isinstance(days, list) and len(days) > 1:
            out.extend({**entry, "day": day} for day in days)
        else:
            out.append(entry)
    return out


def _relations(store: Store, data: dict[str, Any]) -> None:
    for scope, entries in _mapping(data, "relations").items():
        with at(f"relations.{scope}"):
            for entry in entries or []:
                if scope not in store.libraries or entry["library"] not in store.libraries:
                    raise SeedError(f"relations.{scope}: unknown library in {entry}")
            store.relations[scope] = [
                {"library": e["library"], "type": e.get("type", "DELIVERY")} for e in entries or []
            ]


def _fees(store: Store, data: dict[str, Any]) -> None:
    now = time.time()
    for index, entry in enumerate(_listing(data, "fees")):
        with at(f"fees[{index}]"):
            transactions = []
            for tx in entry.get("transactions") or []:
                stamp = time.gmtime(now - float(tx.get("days_ago", 0)) * DAY)
                day = text(tx.get("date")) or time.strftime("%Y-%m-%d", stamp)
                transactions.append({**tx, "date": day, "type": text(tx.get("type")) or "PAYMENT"})
            store.fees.append({**entry, "id": _id(store, entry), "transactions": transactions})


BUILDERS: list[Callable[[Store, dict[str, Any]], None]] = [
    _code_tables,  # first: locations are checked against the LocationTypes table
    _libraries,
    _simple("departments", "departments", "code"),
    _simple("printers", "printers", "id"),
    _mapping_tables,
    _letters,
    _license_terms,
    _reminders,
    _sets,
    _profiles,
    _simple("import_profiles", "import_profiles", "id"),
    _simple("deposit_profiles", "deposit_profiles", "id"),
    _jobs,
    _open_hours,
    _relations,
    _fees,
    _simple("workflows", "workflows", "id"),
]
