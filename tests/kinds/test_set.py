"""Sets end to end: the CLI against the emulator over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner

from almasync.emulator import Emulator
from almasync.emulator.seed import builtin_seed
from almasync.errors import ExitCode
from almasync.kinds.set import normalise, update_body
from almasync.kinds.wire import strip_output_only
from tests.conftest import EXAMPLES, Almasync

NEW_TITLES = "3100000020005501"      # demo: ITEMIZED BIB_MMS, members 991234 and 991235
MISSING_ITEMS = "3100000010005501"   # demo: LOGICAL ITEM

BASIC = """\
sets:
  New acquisitions 2026:
    type: ITEMIZED
    content: BIB_MMS
    private: false
    members: ["991234", 991236, "991237"]
  Missing items:
    type: LOGICAL
    content: ITEM
    description: Items marked missing and not found
    query: "ITEM where ITEM ((process_type EQUAL MISSING))"
  Weeded 2025:
    type: ITEMIZED
    content: ITEM
    private: true
    description: Withdrawn from the shelves in 2025
    members: ["23100001", "23100002"]
"""



def live_set(almasync: Almasync, name: str) -> dict[str, Any]:
    with almasync.emu.store.lock:
        found = [s for s in almasync.emu.store.sets.values() if s["name"] == name]
    assert len(found) == 1, name
    return found[0]


def member_ids(almasync: Almasync, name: str) -> list[str]:
    return sorted(m["id"] for m in live_set(almasync, name)["members"])


def member_posts(almasync: Almasync, op: str) -> list[Any]:
    return [r for r in almasync.writes() if r.method == "POST" and r.query.get("op") == op]


def test_demo_plan_of_the_examples(almasync: Almasync) -> None:
    result = almasync("plan", str(EXAMPLES), "--target", "sets")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert ('~ sets Missing items\n    description: "Items marked missing" -> '
            '"Items marked missing and not yet found"') in out
    assert ('~ sets New acquisitions 2026\n    members: "2 members" -> '
            '"4 members; +2 (991236, 991237)"') in out
    assert "+ sets Weeding candidates 2026" in out
    assert almasync.writes() == []


def test_plan_apply_plan_is_empty(almasync: Almasync, config: Any) -> None:
    root = config({"sets.yaml": BASIC})
    data = almasync.plan_json(root)
    assert data["summary"] == {"create": 1, "update": 2, "delete": 0}
    by_key = {c["key"]: c for c in data["changes"]}
    # The plan file holds the members themselves, sorted (their order never matters) ...
    acquisitions = by_key["New acquisitions 2026"]
    assert acquisitions["diff"] == [{
        "path": "members", "before": ["991234", "991235"],
        "after": ["991234", "991236", "991237"], "absent": []}]
    assert acquisitions["before"]["members"] == ["991234", "991235"]
    assert by_key["Missing items"]["diff"][0]["path"] == "description"
    # ... and the text shows counts with the ids added and removed.
    text = almasync("plan", str(root)).stdout
    assert ('members: "2 members" -> "3 members; +2 (991236, 991237); -1 (991235)"'
            in text)
    markdown = almasync("plan", str(root), "--format", "markdown").stdout
    assert "- members: 2 members" in markdown.splitlines()
    assert "+ members: 3 members; +2 (991236, 991237); -1 (991235)" in markdown.splitlines()

    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply: 3 applied, 0 failed, 0 skipped." in applied.stdout
    assert member_ids(almasync, "New acquisitions 2026") == ["991234", "991236", "991237"]
    weeded = live_set(almasync, "Weeded 2025")
    assert (weeded["type"], weeded["content"], weeded["private"]) == ("ITEMIZED", "ITEM", True)
    assert sorted(m["id"] for m in weeded["members"]) == ["23100001", "23100002"]
    assert live_set(almasync, "Missing items")["description"] == \
        "Items marked missing and not found"
    assert len(member_posts(almasync, "delete_members")) == 1
    assert len(member_posts(almasync, "add_members")) == 2

    assert almasync.plan_json(root)["changes"] == []


def test_update_keeps_undeclared_fields(almasync: Almasync, config: Any) -> None:
    root = config({"sets.yaml": "sets:\n  Missing items:\n    type: LOGICAL\n"
                                "    content: ITEM\n    private: true\n    query: "
                                "\"ITEM where ITEM ((process_type EQUAL MISSING))\"\n"})
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    missing = live_set(almasync, "Missing items")
    assert missing["private"] is True
    assert missing["description"] == "Items marked missing"
    assert missing["query"] == "ITEM where ITEM ((process_type EQUAL MISSING))"


def test_members_are_managed_in_batches_of_1000(almasync: Almasync, config: Any) -> None:
    ids = [str(990_000_000 + n) for n in range(2500)]
    text = "sets:\n  Big set:\n    type: ITEMIZED\n    content: BIB_MMS\n    members:\n" \
        + "".join(f"      - \"{i}\"\n" for i in ids)
    root = config({"sets.yaml": text})
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert len(member_posts(almasync, "add_members")) == 3
    assert member_ids(almasync, "Big set") == sorted(ids)

    before = len(almasync.emu.requests)
    assert almasync.plan_json(root)["changes"] == []
    pages = [r for r in almasync.emu.requests[before:] if r.path.endswith("/members")]
    assert len(pages) == 25          # read exhaustively, 100 a page

    kept = [*ids[1200:], "991234"]
    (root / "sets.yaml").write_text(
        "sets:\n  Big set:\n    type: ITEMIZED\n    content: BIB_MMS\n    members:\n"
        + "".join(f"      - \"{i}\"\n" for i in kept), encoding="utf-8")
    result = almasync("plan", str(root))
    assert result.exit_code == 0, result.stderr
    assert ('members: "2500 members" -> "1301 members; +1 (991234); -1200 (990000000, '
            '990000001, 990000002, 990000003, 990000004, ...)"') in result.stdout
    assert "990000005" not in result.stdout
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    assert len(member_posts(almasync, "delete_members")) == 2
    assert len(member_posts(almasync, "add_members")) == 4
    assert member_ids(almasync, "Big set") == sorted(kept)
    assert almasync.plan_json(root)["changes"] == []


def test_shape_errors_point_at_their_lines(almasync: Almasync, config: Any) -> None:
    root = config({"sets.yaml": """\
sets:
  Logical with members:
    type: LOGICAL
    content: ITEM
    query: "ITEM where ITEM ((process_type EQUAL MISSING))"
    members: ["1"]
  Itemized with query:
    type: ITEMIZED
    content: BIB_MMS
    query: "BIB_MMS where BIB_MMS ((all CONTAIN x))"
  Logical without query:
    type: LOGICAL
    content: USER
  Wrong content in query:
    type: LOGICAL
    content: ITEM
    query: "BIB_MMS where BIB_MMS ((all CONTAIN x))"
  Twice:
    type: ITEMIZED
    content: BIB_MMS
    members: ["991234", "991234"]
  Bad type:
    type: DYNAMIC
    content: ITEM
    colour: red
"""})
    result = almasync("validate", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    err, name = result.stderr, root / "sets.yaml"
    assert f"{name}:6:5: sets.Logical with members.members: a LOGICAL set's members " \
        "come from its query" in err
    assert f"{name}:10:5: sets.Itemized with query.query: only LOGICAL sets have a query" in err
    assert f"{name}:11:3: sets.Logical without query: a LOGICAL set needs a query" in err
    assert f"{name}:17:5: sets.Wrong content in query.query: must start with the set's " \
        "content type" in err
    assert f"{name}:21:5: sets.Twice.members: '991234' is listed twice" in err
    assert f"{name}:23:11: sets.Bad type.type:" in err
    assert f"{name}:25:5: sets.Bad type.colour: unknown field 'colour'" in err
    assert almasync.emu.requests == []


def test_type_or_content_change_is_refused_at_plan_time(almasync: Almasync,
                                                        config: Any) -> None:
    root = config({"sets.yaml": "sets:\n  Missing items:\n    type: ITEMIZED\n"
                                "    content: BIB_MMS\n    members: []\n"})
    result = almasync("plan", str(root))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    name = root / "sets.yaml"
    assert f"{name}:3:5: sets.Missing items.type: the set is LOGICAL in Alma and Alma " \
        "cannot change a set's type; give the ITEMIZED set a new name" in result.stderr
    assert f"{name}:4:5: sets.Missing items.content: the set is ITEM in Alma" in result.stderr
    assert almasync("apply", str(root), "--auto-approve").exit_code == ExitCode.INVALID_CONFIG
    assert almasync.writes() == []


def test_alma_refusal_fails_the_change_not_the_run(almasync: Almasync, config: Any) -> None:
    root = config({"sets.yaml": """\
sets:
  New acquisitions 2026:
    type: ITEMIZED
    content: BIB_MMS
    members: ["991234", "991235", "not-an-mms-id"]
  Missing items:
    type: LOGICAL
    content: ITEM
    description: Still missing
    query: "ITEM where ITEM ((process_type EQUAL MISSING))"
"""})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   ~ sets New acquisitions 2026" in result.stdout
    assert "applied  ~ sets Missing items" in result.stdout
    assert "60116" in result.stderr and "not-an-mms-id" in result.stderr
    assert member_ids(almasync, "New acquisitions 2026") == ["991234", "991235"]


def test_duplicate_name_is_refused_by_alma(almasync: Almasync, config: Any) -> None:
    with almasync.emu.store.lock:
        almasync.emu.store.sets[MISSING_ITEMS]["origin"] = "UI_CZ"   # not listed by default
    root = config({"sets.yaml": "sets:\n  Missing items:\n    type: LOGICAL\n"
                                "    content: ITEM\n    query: \"ITEM where ITEM ((x))\"\n"})
    result = almasync("apply", str(root), "--auto-approve")
    assert result.exit_code == ExitCode.APPLY_FAILED
    assert "failed   + sets Missing items" in result.stdout
    assert "402263" in result.stderr


def test_undeclared_sets_survive_without_prune(almasync: Almasync, config: Any) -> None:
    root = config({"sets.yaml": "sets:\n  Weeded 2025:\n    type: ITEMIZED\n"
                                "    content: ITEM\n"})
    data = almasync.plan_json(root)
    assert [c["action"] for c in data["changes"]] == ["create"]


def test_prune_by_name_prefix(almasync: Almasync, config: Any) -> None:
    sets = "sets:\n  Weeded 2025:\n    type: ITEMIZED\n    content: ITEM\n"
    root = config({"sets.yaml": sets, "almasync.yaml": "prune:\n  sets: [New ]\n"})
    data = almasync.plan_json(root)
    assert [(c["action"], c["key"]) for c in data["changes"]] == [
        ("delete", "New acquisitions 2026"), ("create", "Weeded 2025")]
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    with almasync.emu.store.lock:
        names = sorted(s["name"] for s in almasync.emu.store.sets.values())
    assert names == ["Missing items", "Weeded 2025"]
    assert almasync.plan_json(root)["changes"] == []

    everything = config({"sets.yaml": sets, "almasync.yaml": "prune:\n  sets: true\n"})
    deleted = [c["key"] for c in almasync.plan_json(everything)["changes"]
               if c["action"] == "delete"]
    assert deleted == ["Missing items"]


def test_export_round_trip(almasync: Almasync, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = almasync("export", "--out", str(out), "--kinds", "sets")
    assert result.exit_code == 0, result.stderr
    text = (out / "sets.yaml").read_text()
    assert "query: ITEM where ITEM ((process_type EQUAL MISSING))" in text
    assert "- '991235'" in text
    assert almasync.plan_json(out)["changes"] == []


def test_drift_reports_member_changes(almasync: Almasync, config: Any) -> None:
    root = config({"sets.yaml": "sets:\n  New acquisitions 2026:\n    type: ITEMIZED\n"
                                "    content: BIB_MMS\n    members: [\"991234\", \"991235\"]\n"})
    assert almasync("drift", str(root)).exit_code == 0
    with almasync.emu.store.lock:
        almasync.emu.store.sets[NEW_TITLES]["members"].append({"id": "991299"})
    result = almasync("drift", str(root), "--include-unmanaged")
    assert result.exit_code == ExitCode.CHANGES
    assert 'members: "3 members" -> "2 members; -1 (991299)"' in result.stdout
    assert "? sets Missing items" in result.stdout
    assert {r.method for r in almasync.emu.requests} == {"GET"}


def test_schema_covers_sets(almasync: Almasync, tmp_path: Path) -> None:
    assert almasync("schema", "--out", str(tmp_path)).exit_code == 0
    schema = json.loads((tmp_path / "almasync-resources.schema.json").read_text())
    fields = schema["$defs"]["SetFields"]
    assert fields["properties"]["type"]["enum"] == ["ITEMIZED", "LOGICAL"]
    assert set(fields["required"]) == {"type", "content"}
    assert schema["properties"]["sets"]["additionalProperties"] == {"$ref": "#/$defs/SetFields"}


def _set_requests(emu: Emulator) -> list[Any]:
    """Requests about sets since the last ``emu.requests.clear()``; none is a page of the
    whole list (a list request without ``q``, or past the first page)."""
    found = [r for r in emu.requests if r.path.startswith("/almaws/v1/conf/sets")]
    assert not [r for r in found if r.path == "/almaws/v1/conf/sets" and r.method == "GET"
                and ("q" not in r.query or r.query.get("offset", "0") != "0")], found
    return found


def test_2000_sets_and_one_declared_cost_a_handful_of_requests(config: Any) -> None:
    """Plan, apply and rollback of declared sets in an institution of 2,000 sets find each
    one with Alma's brief search (q=name~words) instead of paging through every set: the
    number of set requests depends on the declared sets, not on the institution's."""
    seed = builtin_seed("demo")
    seed["sets"] += [{"name": f"Circulation report {n:04d}", "type": "LOGICAL",
                      "content": "ITEM", "query": f"ITEM where ITEM ((barcode CONTAINS R{n}))"}
                     for n in range(1997)]
    seed["sets"] += [{"name": name, "type": "ITEMIZED", "content": "BIB_MMS"} for name in
                     ("New acquisitions 2026 (archive)", "2026 new acquisitions",
                      "Acquisitions")]
    one = config({"one.yaml": "sets:\n  New acquisitions 2026:\n    type: ITEMIZED\n"
                              "    content: BIB_MMS\n    description: Bought in 2026\n"})
    with Emulator(seed=seed, rate_limit=None) as emu:
        almasync = Almasync(emu, CliRunner(), emu.api_key)
        assert len(emu.store.sets) == 2002
        plan = almasync.plan_json(one)
        assert [(c["action"], c["key"]) for c in plan["changes"]] == [
            ("update", "New acquisitions 2026")]
        [search] = _set_requests(emu)
        assert search.query["q"] == "name~New_acquisitions_2026"

        emu.requests.clear()
        applied = almasync("apply", str(one), "--auto-approve")
        assert applied.exit_code == 0, applied.output
        # plan: search; journal: search, set, members; update: search, set, PUT;
        # read-back: search, set, members. None pages through the 2,002 sets.
        assert len(_set_requests(emu)) <= 10, _set_requests(emu)
        assert live_set(almasync, "New acquisitions 2026")["description"] == "Bought in 2026"
        assert live_set(almasync, "New acquisitions 2026 (archive)")["description"] == ""
        emu.requests.clear()
        assert almasync.plan_json(one)["changes"] == []
        assert len(_set_requests(emu)) == 1

        new = one.parent / "new"
        new.mkdir()
        (new / "sets.yaml").write_text("sets:\n  Weeding 2027:\n    type: ITEMIZED\n"
                                       "    content: BIB_MMS\n")
        emu.requests.clear()
        assert almasync("apply", str(new), "--auto-approve").exit_code == 0
        # plan, journal: search; POST; read-back: search, set, members
        assert len(_set_requests(emu)) <= 6, _set_requests(emu)
        emu.requests.clear()
        [snapshot] = (new / ".almasync" / "journals").glob("*.json")
        undone = almasync("rollback", str(snapshot), "--auto-approve")
        assert undone.exit_code == 0, undone.output
        # settle: search, set, members; the undo plan and its journal: searches; DELETE;
        # read-back: search. None pages through the 2,002 sets.
        assert len(_set_requests(emu)) <= 9, _set_requests(emu)
        assert "Weeding 2027" not in {s["name"] for s in emu.store.sets.values()}
        assert any(r.method == "DELETE" for r in _set_requests(emu))


def test_writes_never_carry_number_of_members(almasync: Almasync, config: Any) -> None:
    """number_of_members is Alma's count: no create, update or member call sends it, and a
    set declared without private is left to Alma, which makes it private (FACTS 8)."""
    root = config({"sets.yaml": BASIC})
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    bodies = [json.loads(r.body) for r in almasync.writes() if r.body]
    assert bodies and all("number_of_members" not in body for body in bodies)
    fresh = config({"sets.yaml": "sets:\n  Reading list:\n    type: ITEMIZED\n"
                                 "    content: BIB_MMS\n"})
    assert almasync("apply", str(fresh), "--auto-approve").exit_code == 0
    assert live_set(almasync, "Reading list")["private"] is True
    exported = almasync("export", "--out", str(fresh.parent / "out"), "--kinds", "sets")
    assert exported.exit_code == 0, exported.output
    assert "Reading list:\n    type: ITEMIZED\n    content: BIB_MMS\n    private: true" in \
        (fresh.parent / "out" / "sets.yaml").read_text()


def test_declaring_what_is_live_changes_nothing(almasync: Almasync) -> None:
    """The no-op write, for every set the emulator serves: declaring what is live and
    building the PUT body gives the live set without Alma's own fields, and PUTting it
    leaves the set exactly as it was (private included, which Alma would otherwise reset)."""
    session = requests.Session()
    session.headers.update({"Authorization": f"apikey {almasync.key}",
                            "Accept": "application/json"})
    with almasync.emu.store.lock:
        ids = sorted(almasync.emu.store.sets)
    for set_id in ids:
        url = f"{almasync.emu.api_url}/conf/sets/{set_id}"
        before = session.get(url, timeout=10).json()
        declared = normalise(before)
        assert declared["private"] is False  # the demo's sets are public
        body = update_body(before, declared)
        owned = {"number_of_members", "created_by", "created_date", "status_date"}
        assert body == {k: v for k, v in strip_output_only(before).items() if k not in owned}
        put = session.put(url, json=body, timeout=10)
        assert put.status_code == 200, put.text
        assert session.get(url, timeout=10).json() == before
    assert len(ids) == 2


def test_a_name_with_a_slash_and_underscores_is_found(almasync: Almasync, config: Any) -> None:
    """Names are searched word by word (spaces written as _): a name holding / or _ of
    its own is found again after it was created, and only that set is touched."""
    names = ("New acquisitions 2025/26", "Weekly_export BIB")
    root = config({"sets.yaml": "sets:\n" + "".join(
        f"  {name}:\n    type: ITEMIZED\n    content: BIB_MMS\n    private: false\n"
        for name in names)})
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    almasync.emu.requests.clear()
    assert almasync.plan_json(root)["changes"] == []
    queries = sorted(r.query.get("q") for r in almasync.emu.requests
                     if r.path == "/almaws/v1/conf/sets")
    assert queries == ["name~New_acquisitions_2025/26", "name~Weekly_export_BIB"]


def test_a_name_alma_cannot_search_falls_back_to_the_list(almasync: Almasync,
                                                          config: Any) -> None:
    """A name with no word to search for (Alma answers 60106 to ``q=name~_``) is looked
    up in the whole list instead, for the plan and for the update alike."""
    root = config({"sets.yaml": "sets:\n  _:\n    type: ITEMIZED\n    content: BIB_MMS\n"
                                "    private: true\n"})
    assert almasync("apply", str(root), "--auto-approve").exit_code == 0
    assert live_set(almasync, "_")["private"] is True
    (root / "sets.yaml").write_text("sets:\n  _:\n    type: ITEMIZED\n    content: BIB_MMS\n"
                                    "    private: false\n")
    almasync.emu.requests.clear()
    applied = almasync("apply", str(root), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert live_set(almasync, "_")["private"] is False
    lists = [r.query for r in almasync.emu.requests if r.path == "/almaws/v1/conf/sets"]
    assert {"q": "name~_", "limit": "100", "offset": "0"} in lists
    assert {"limit": "100", "offset": "0"} in lists
    assert almasync.plan_json(root)["changes"] == []
