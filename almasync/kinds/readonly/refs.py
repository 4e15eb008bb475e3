"""References from writable configuration to read-only configuration, checked at plan time
so that a write Alma would refuse is a located config error instead (exit 3, nothing sent):

* a location's ``fulfillment_unit``;
* circulation desk codes in the columns of mapping tables known to hold them;
* a ``post_apply`` job's ``profile_id`` (an import or integration profile);
* libraries (location and table scopes, open-hours scopes, departments, printers, desks).

Alma has no API that lists fulfillment units. The ones it knows are read from the
institution's locations (each location names its unit). Only a unit the plan would write is
looked up: first among the locations the plan has read anyway, then in the other locations,
read in full one library at a time until every such unit has been seen. A unit no location
uses yet is reported as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from almasync.config.loader import DesiredState
from almasync.config.settings import SETTINGS_FILE, Settings
from almasync.config.yamlread import YamlSyntaxError, read_yaml
from almasync.errors import Mark, Problem
from almasync.kinds.readonly.circ_desks import desk_codes
from almasync.kinds.readonly.profiles import import_profile_ids
from almasync.kinds.references import References
from almasync.kinds.wire import unwrap
from almasync.model import Fields, Key, Kind, Resource

#: Mapping tables whose rows name a circulation desk: table -> (library column, desk
#: column). ``CirculationDeskMapping`` maps a self-check machine to a library and a desk.
DESK_COLUMNS: Mapping[str, tuple[str, str]] = {
    "CirculationDeskMapping": ("column1", "column2"),
}


def _some(known: frozenset[str] | set[str]) -> str:
    names = sorted(known)
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def fulfillment_units(refs: References, wanted: set[str], seen: set[str],
                      skip: set[Key]) -> set[str]:
    """``seen`` and the units of Alma's other locations (all but ``skip``), read library by
    library in full until every one of ``wanted`` is seen."""
    seen = set(seen)
    client = refs.client
    for library in sorted(refs.libraries()):
        if wanted <= seen:
            break
        base = f"/conf/libraries/{quote(library, safe='')}/locations"
        paths = [f"{base}/{quote(str(e['code']), safe='')}"
                 for e in client.get_list(base, "location") if (library, e["code"]) not in skip]
        full: list[dict[str, Any]] = client.map(client.get, paths)
        seen.update(str(unwrap(loc.get("fulfillment_unit"))) for loc in full
                    if unwrap(loc.get("fulfillment_unit")))
    return seen


def fulfillment_unit_problems(resources: Mapping[Key, Resource], live: Mapping[Key, Fields],
                              refs: References) -> list[Problem]:
    """A located problem for each location whose ``fulfillment_unit`` Alma does not know.
    Only a unit the plan would write (a new location's, or one that differs from the live
    value) is looked up, first among the locations the plan read, so a plan that changes
    no unit costs no extra call."""
    declared = {key: str(r.fields["fulfillment_unit"]) for key, r in resources.items()
                if r.fields.get("fulfillment_unit") and key[0] in refs.libraries()
                and live.get(key, {}).get("fulfillment_unit") != r.fields["fulfillment_unit"]}
    if not declared:
        return []
    seen = {str(unit) for fields in live.values() if (unit := fields.get("fulfillment_unit"))}
    wanted = set(declared.values())
    known = seen if wanted <= seen else fulfillment_units(
        refs, wanted, seen, {key for key, fields in live.items()
                             if "fulfillment_unit" in fields})
    return [Problem(resources[key].marks.get("fulfillment_unit", resources[key].mark),
                    f"locations.{key[0]}.{key[1]}.fulfillment_unit: {unit!r} is not a "
                    f"fulfillment unit of any location in Alma (units in use: "
                    f"{_some(known) or 'none'}); create the unit in Alma first")
            for key, unit in sorted(declared.items()) if unit not in known]


def desk_problems(resources: Mapping[Key, Resource], refs: References) -> list[Problem]:
    """A located problem for each row of a desk-holding mapping table whose library or
    circulation desk Alma does not know."""
    tables = [(key, r, DESK_COLUMNS[key[0]]) for key, r in sorted(resources.items())
              if key[0] in DESK_COLUMNS]
    if not tables:
        return []
    # Only the libraries the rows name are listed: a table naming one library costs one read.
    named = {str(row.get(lib_column)) for _, resource, (lib_column, _) in tables
             for row in resource.fields.get("rows") or [] if row.get(lib_column)}
    libraries, desks = refs.libraries(), desk_codes(refs, named)
    problems = []
    for key, resource, (lib_column, desk_column) in tables:
        mark = resource.marks.get("rows", resource.mark)
        for index, row in enumerate(resource.fields.get("rows") or []):
            library, desk = row.get(lib_column), row.get(desk_column)
            where = f"mapping_tables.{key[0]}.rows.{index}"
            if library and library not in libraries:
                problems.append(Problem(mark, f"{where}.{lib_column}: library {library!r} "
                                        f"does not exist in Alma (libraries: "
                                        f"{_some(set(libraries))})"))
            elif library and desk and desk not in desks.get(library, frozenset()):
                problems.append(Problem(mark, f"{where}.{desk_column}: {desk!r} is not a "
                                        f"circulation desk of library {library!r} (desks: "
                                        f"{_some(desks.get(library, frozenset())) or 'none'})"))
    return problems


def integration_profile_ids(refs: References) -> frozenset[str]:
    def load() -> frozenset[str]:
        entries = refs.client.get_list("/conf/integration-profiles", "integration_profile",
                                       paged=True)
        return frozenset(str(e["id"]) for e in entries)
    result: frozenset[str] = refs.cached("integration_profile_ids", load)
    return result


def post_apply_problems(root: Path, settings: Settings, refs: References) -> list[Problem]:
    """A located problem for each ``post_apply`` job whose ``profile_id`` is neither an
    import profile nor an integration profile of the institution."""
    wanted = [(i, job.profile_id) for i, job in enumerate(settings.post_apply)
              if job.profile_id]
    if not wanted:
        return []
    known = import_profile_ids(refs) | integration_profile_ids(refs)
    missing = [(i, profile) for i, profile in wanted if profile not in known]
    if not missing:
        return []
    path = root / SETTINGS_FILE
    try:
        doc: Any = read_yaml(path, str(path), root)
    except (OSError, YamlSyntaxError):
        doc = None
    return [Problem(doc.mark(("post_apply", i, "profile_id"), value=True) if doc
                    else Mark(str(path), 1, 1),
                    f"almasync.post_apply.{i}.profile_id: {profile!r} is neither an import "
                    f"profile nor an integration profile in Alma (import profiles: "
                    f"{_some(import_profile_ids(refs)) or 'none'})")
            for i, profile in missing]


def reference_problems(desired: DesiredState, kinds: set[Kind], refs: References,
                       settings: bool = True) -> list[Problem]:
    """Every problem above for a run that reads ``kinds`` (the kinds' own checks, such as
    the libraries of locations and table scopes, are in their modules); ``settings`` false
    leaves out those of ``almasync.yaml`` (``post_apply``)."""
    problems = desk_problems(desired.of(Kind.MAPPING_TABLE), refs) \
        if Kind.MAPPING_TABLE in kinds else []
    if not settings:
        return problems
    return problems + post_apply_problems(desired.root, desired.settings, refs)


def live_reference_problems(desired: DesiredState, live: Mapping[Kind, Mapping[Key, Fields]],
                            refs: References) -> list[Problem]:
    """The references best checked against what the plan has read (fulfillment units)."""
    if Kind.LOCATION not in live:
        return []
    return fulfillment_unit_problems(desired.of(Kind.LOCATION), live[Kind.LOCATION], refs)
