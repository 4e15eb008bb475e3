"""Seeds: demo, empty, seed files, validation and the large generator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from almasync.emulator import SeedError, Store, generate_large, load_seed
from tests.emulator.conftest import Api, EmulatorFactory

DEMO_LOCATIONS = {
    "MAIN": {
        "STACKS": ("Main Stacks", "Stacks", "OPEN", "DEFAULT_FU", False),
        "REF": ("Reference", "Reference", "OPEN", "DEFAULT_FU", False),
        "RESERVE": ("Course Reserves", "Reserves", "CLOSED", "RESERVES_FU", False),
        "STORAGE": ("Basement Storage", "Storage", "CLOSED", "DEFAULT_FU", True),
    },
    "LAW": {
        "LAWSTACKS": ("Law Stacks", "Law Stacks", "OPEN", "LAW_FU", False),
        "LAWREF": ("Law Reference", "Law Reference", "OPEN", "LAW_FU", False),
    },
    "MUSIC": {"SCORES": ("Scores", "Scores", "OPEN", "DEFAULT_FU", False)},
}


def test_demo_institution() -> None:
    store = load_seed("demo")
    assert store.institution_code == "01DEMO_INST"
    assert store.institution["environment_type"] == "SANDBOX"
    assert {c: lib["name"] for c, lib in store.libraries.items()} == {
        "MAIN": "Main Library",
        "LAW": "Law Library",
        "MUSIC": "Music Library",
    }
    assert set(store.fulfillment_units) == {"DEFAULT_FU", "RESERVES_FU", "LAW_FU"}
    found = {
        lib: {
            code: (
                loc["name"],
                loc["external_name"],
                loc["type"],
                loc["fulfillment_unit"],
                loc["suppress_from_publishing"],
            )
            for code, loc in locs.items()
        }
        for lib, locs in store.locations.items()
    }
    assert found == DEMO_LOCATIONS


def test_demo_has_every_kind() -> None:
    store = load_seed("demo")
    rows = {r["code"]: r for r in store.code_tables["UserGroups"]["rows"]}
    assert set(rows) == {"STAFF", "GRAD", "UNDERGRAD", "FACULTY"}
    assert sum(r["default"] for r in rows.values()) == 1
    assert store.code_tables["systemJobStatus"]["customizable"] is False
    assert any(t["hidden"] for t in store.code_tables.values())
    currency = {r["column0"]: r["column1"] for r in store.mapping_tables["CurrencySubset"]["rows"]}
    assert set(currency) == {"USD", "EUR", "GBP", "CAD"} and set(currency.values()) <= {
        "TRUE",
        "FALSE",
    }
    assert {
        "FulfillmentActivityLetter",
        "LoanStatusNoticeLetter",
        "GeneralMessageEmailLetter",
    } <= set(store.letters)
    assert {c: t["name"] for c, t in store.license_terms.items()} == {
        "ARCHIVE": "Archiving right",
        "ILLELEC": "Interlibrary loan electronic",
        "WALKIN": "Walk-in users",
    }
    assert all(r["entity_id"].startswith("99123") for r in store.reminders.values())
    sets = {s["name"]: s for s in store.sets.values()}
    assert sets["New acquisitions 2026"]["type"] == "ITEMIZED"
    assert [m["id"] for m in sets["New acquisitions 2026"]["members"]] == ["991234", "991235"]
    assert any(s["type"] == "LOGICAL" for s in sets.values())
    assert any(
        p["code"] == "SIS_SYNC" and p["type"] == "USERS"
        for p in store.integration_profiles.values()
    )
    assert any(j["id"].startswith("M") for j in store.jobs.values())
    assert any(j["id"].startswith("S") and j.get("profile_id") for j in store.jobs.values())
    assert set(store.open_hours) == {"01DEMO_INST", "MAIN"}
    assert store.departments and store.printers and store.deposit_profiles and store.import_profiles
    assert store.circ_desks["MAIN"]


def test_demo_loads_fresh_each_time() -> None:
    first = load_seed("demo")
    first.locations["MAIN"].clear()
    assert len(load_seed("demo").locations["MAIN"]) == 4


def test_empty_seed() -> None:
    store = load_seed("empty")
    assert set(store.libraries) == {"MAIN", "LAW", "MUSIC"}
    assert all(not locs for locs in store.locations.values())
    assert not store.license_terms and not store.code_tables and not store.sets


def test_store_instance_is_used_as_is(make_emulator: EmulatorFactory) -> None:
    store = load_seed("empty")
    emu = make_emulator(store)
    assert emu.store is store
    Api(emu).post("/conf/license-terms", json={"code": "NEW", "name": "New"})
    assert "NEW" in store.license_terms


SEED_YAML = """
institution: {code: 01FILE_INST, name: File University, environment_type: PRODUCTION}
fulfillment_units: {FU1: Loans}
libraries:
  CENTRAL:
    name: Central Library
    locations:
      OPEN1: {name: Open shelves, type: OPEN, fulfillment_unit: FU1}
license_terms:
  TERM1: {name: A term}
reminders:
  - {entity_id: "99555", type: GENERAL, text: hi, reminder_date: 2026-03-01}
"""


def test_yaml_and_json_seed_files(tmp_path: Path, make_emulator: EmulatorFactory) -> None:
    yaml_file = tmp_path / "seed.yaml"
    yaml_file.write_text(SEED_YAML, encoding="utf-8")
    store = load_seed(yaml_file)
    assert store.institution["environment_type"] == "PRODUCTION"
    assert next(iter(store.reminders.values()))["reminder_date"] == "2026-03-01Z"
    json_file = tmp_path / "seed.json"
    json_file.write_text(
        json.dumps({"institution": {"code": "01J"}, "license_terms": {"T": {"name": "T"}}})
    )
    api = Api(make_emulator(str(json_file)))
    assert api.get("/conf/license-terms").json()["total_record_count"] == 1
    assert api.get("/conf/test").json()["test"].endswith("01J")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("institution: {name: x}", "institution.code"),
        ("institution: {code: X}\nbogus: 1", "unknown seed section"),
        (
            "institution: {code: X}\nlibraries: {L: {locations: {A: {name: A, type: SHELF}}}}",
            "libraries.L.locations.A",
        ),
        ("institution: {code: X}\nlicense_terms: {T: {description: no name}}", "license_terms.T"),
        ("[1, 2]", "mapping at the top level"),
        ("institution: {code: X\n", "cannot be read"),
        (
            "institution: {code: X}\ncode_tables:\n"
            "  T: {rows: [{code: A, default: true}, {code: B, default: true}]}",
            "Multiple default codes",
        ),
        ("institution: {code: X}\njobs: [{id: Q1, type: MANUAL}]", "jobs[0].id"),
        (
            "institution: {code: X}\nletters: {header: {type: COMPONENT}}",
            "letters.header: a component's code ends in .xsl",
        ),
    ],
)
def test_bad_seed_files_are_reported(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SeedError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_seed(path)


def test_missing_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="not found"):
        load_seed(tmp_path / "absent.yaml")
    other = tmp_path / "seed.txt"
    other.write_text("institution: {code: X}")
    with pytest.raises(SeedError, match=r"\.json, \.yaml or \.yml"):
        load_seed(other)


def test_generate_large_is_deterministic_and_loads() -> None:
    small = {
        "libraries": 3,
        "locations_per_library": 5,
        "code_tables": 6,
        "code_table_rows": 4,
        "mapping_tables": 2,
        "mapping_rows": 10,
        "letters": 5,
        "license_terms": 4,
        "reminders": 7,
        "sets": 4,
    }
    assert generate_large(**small) == generate_large(**small)
    assert generate_large(**small, seed=1) != generate_large(**small, seed=2)
    store = load_seed(generate_large(**small))
    assert isinstance(store, Store)
    assert len(store.libraries) == 3 and all(len(v) == 5 for v in store.locations.values())
    assert len(store.code_tables) == 6 and len(store.mapping_tables) == 2
    assert all(len(t["rows"]) == 10 for t in store.mapping_tables.values())
    assert len(store.letters) == 5 and len(store.license_terms) == 4
    assert len(store.reminders) == 7 and len(store.sets) == 4


def test_generate_large_defaults() -> None:
    data = generate_large()
    assert len(data["libraries"]) == 30
    assert sum(len(lib["locations"]) for lib in data["libraries"].values()) == 1500
    assert len(data["code_tables"]) == 150 and len(data["mapping_tables"]) == 40
    assert all(len(t["rows"]) == 2000 for t in data["mapping_tables"].values())
    assert (
        len(data["letters"]) == 200
        and len(data["license_terms"]) == 100
        and len(data["reminders"]) == 500
    )
