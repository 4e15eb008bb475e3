"""The changes ``bench_rate.py`` declares in an exported config tree.

The exported YAML is edited as a person would: locations renamed or moved to another
fulfillment unit, a row of a code table reworded, new locations and license terms, and a
few locations removed from a library that ``prune`` puts in scope. The files are read with
the C-backed safe loader and written back with export's own ``dump_yaml``, so the plan reads
files of exactly the shape ``export`` writes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from almasync.config.schema import modeline
from almasync.config.yamlwrite import dump_yaml

#: Share of each sort of change; location updates take whatever the others leave.
MIX = {
    ("code_table", "update"): 0.225,
    ("location", "create"): 0.05,
    ("license_term", "create"): 0.025,
    ("license_term", "update"): 0.025,
    ("location", "delete"): 0.025,
}
#: The library whose locations ``prune`` puts in scope (deletes are made there).
PRUNED = "L001"


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _dump(path: Path, data: Any) -> None:
    path.write_text(modeline() + dump_yaml(data), encoding="utf-8")


def _shares(total: int) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter(
        {sort: max(1, round(total * share)) for sort, share in MIX.items()})
    counts[("location", "update")] = total - sum(counts.values())
    return counts


def _deletable(seed: dict[str, Any], library: str) -> list[str]:
    """Locations of ``library`` that Alma would let go: no items, no desk, not remote."""
    lib = seed["libraries"][library]
    at_desks = {code for desk in lib["circ_desks"].values() for code in desk["locations"]}
    return [code for code, loc in lib["locations"].items()
            if not loc["has_items"] and code not in at_desks
            and loc["type"] != "REMOTE_STORAGE"]


def declare(tree: Path, seed: dict[str, Any], total: int) -> Counter[tuple[str, str]]:
    """Edit the exported ``tree`` to declare ``total`` changes; returns the count of each
    (kind, action) the plan must show. Deterministic for the same tree and total."""
    want = _shares(total)
    done: Counter[tuple[str, str]] = Counter()
    _code_tables(tree / "code_tables.yaml", want, done)
    _license_terms(tree / "license_terms.yaml", want, done)
    _locations(tree / "locations.yaml", seed, want, done)
    settings = tree / "almasync.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text + f"prune:\n  locations: [{PRUNED}]\n", encoding="utf-8")
    return done


def _code_tables(path: Path, want: Counter[tuple[str, str]],
                 done: Counter[tuple[str, str]]) -> None:
    data = _load(path)
    tables = data["code_tables"]
    # Generated tables only (the reminder tables are referred to by reminders), and only
    # those Alma lets an institution customise.
    names = [name for name in tables if name.startswith("GeneratedTable")
             and int(name.removeprefix("GeneratedTable")) % 20 != 0]
    for n, name in enumerate(names[:want[("code_table", "update")]]):
        rows = tables[name]["rows"]
        row = rows[n % len(rows)]
        row["description"] = f"{row['description']} (reworded)"
        if n % 3 == 0:  # a third also gain a row
            rows.append({"code": "BENCH_NEW", "description": "Added by the benchmark",
                         "enabled": True})
        done[("code_table", "update")] += 1
    _dump(path, data)


def _license_terms(path: Path, want: Counter[tuple[str, str]],
                   done: Counter[tuple[str, str]]) -> None:
    data = _load(path)
    terms = data["license_terms"]
    for code in list(terms)[:want[("license_term", "update")]]:
        terms[code]["name"] = f"{terms[code]['name']} (renamed)"
        done[("license_term", "update")] += 1
    for n in range(1, want[("license_term", "create")] + 1):
        terms[f"BENCH{n:04d}"] = {"name": f"Benchmark term {n}", "type": "USAGE",
                                  "value_type": "PERMITTED_PROHIBITED"}
        done[("license_term", "create")] += 1
    _dump(path, data)


def _locations(path: Path, seed: dict[str, Any], want: Counter[tuple[str, str]],
               done: Counter[tuple[str, str]]) -> None:
    data = _load(path)
    libraries = data["locations"]
    codes = sorted(libraries)
    deletable = _deletable(seed, PRUNED)[:want[("location", "delete")]]
    for code in deletable:
        del libraries[PRUNED][code]
        done[("location", "delete")] += 1
    for n in range(want[("location", "create")]):
        library = codes[n % len(codes)]
        libraries[library][f"BENCH{n:03d}"] = {
            "name": f"Benchmark shelf {n}", "type": "OPEN",
            "external_name": "Benchmark shelf", "fulfillment_unit": "DEFAULT_FU"}
        done[("location", "create")] += 1
    # Updates spread over every library, never on a location removed above.
    candidates = [(library, code) for code_n in range(60) for library in codes
                  for code in [f"LOC{code_n + 1:03d}"]
                  if code in libraries[library] and code not in deletable]
    for n, (library, code) in enumerate(candidates[:want[("location", "update")]]):
        location = libraries[library][code]
        if n % 2:
            location["name"] = f"{location['name']} (renamed)"
        else:
            units = ["FU_01", "FU_02", "FU_03"]
            location["fulfillment_unit"] = next(
                unit for unit in units if unit != location.get("fulfillment_unit"))
        done[("location", "update")] += 1
    _dump(path, data)
