"""General configuration, departments, printers, profiles, fees, workflows."""

from __future__ import annotations

import time

from tests.emulator.conftest import Api, EmulatorFactory, assert_error


def test_general(api: Api) -> None:
    general = api.get("/conf/general").json()
    assert general["institution"] == {"value": "01DEMO_INST", "desc": "Demo University Libraries"}
    assert general["environment_type"] == {"value": "SANDBOX", "desc": "Sandbox"}
    assert general["default_currency"]["value"] == "USD"
    assert "ingest_form" in api.get("/conf/general", params={"expand": "ingest_form"}).json()


def test_production_institution(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator({"institution": {"code": "01PROD_INST", "environment_type": "PRODUCTION"}})
    general = Api(emu).get("/conf/general").json()
    assert general["environment_type"] == {"value": "PRODUCTION", "desc": "Production"}


def test_departments(api: Api) -> None:
    body = api.get("/conf/departments").json()
    assert [d["code"] for d in body["department"]] == ["ACQ_DEPT", "DIGI_DEPT", "CAT_DEPT"]
    assert "operators" in body["department"][0]
    brief = api.get("/conf/departments", params={"view": "brief"}).json()["department"]
    assert all("operators" not in d for d in brief)
    digi = api.get("/conf/departments", params={"type": "DIGI"}).json()["department"]
    assert [d["code"] for d in digi] == ["DIGI_DEPT"]
    law = api.get("/conf/departments", params={"library": "LAW"}).json()["department"]
    assert [d["code"] for d in law] == ["ACQ_DEPT"]
    assert_error(api.get("/conf/departments", params={"library": "NOPE"}), 400, "402119")


def test_printers(api: Api) -> None:
    body = api.get("/conf/printers").json()
    assert body["total_record_count"] == 3
    main = api.get("/conf/printers", params={"library": "MAIN"}).json()["printer"]
    assert [p["code"] for p in main] == ["MAIN_CIRC_PRN", "MAIN_QUEUE"]
    queue = api.get("/conf/printers", params={"printout_queue": "true"}).json()["printer"]
    assert [p["code"] for p in queue] == ["MAIN_QUEUE"]
    assert api.get("/conf/printers", params={"code": "LAW_PRN"}).json()["total_record_count"] == 1
    assert api.get("/conf/printers", params={"limit": 1}).json()["total_record_count"] == 3
    assert_error(api.get("/conf/printers", params={"library": "NOPE"}), 400, "402469")
    assert api.get("/conf/printers/1400000010005501").json()["library"]["value"] == "MAIN"


def test_deposit_and_import_profiles(api: Api) -> None:
    deposits = api.get("/conf/deposit-profiles", params={"user_group": "GRAD"}).json()
    assert deposits["deposit_profile"][0]["code"] == "THESES"
    assert api.get("/conf/deposit-profiles", params={"user_group": "STAFF"}).json() == {
        "total_record_count": 0
    }
    imports = api.get("/conf/md-import-profiles").json()
    assert imports["import_profile"][0]["id"] == "6200000010005501"
    assert_error(api.get("/conf/md-import-profiles", params={"type": "NOPE"}), 400, "402123")
    run = api.post("/conf/md-import-profiles/6200000010005501", params={"op": "run"})
    assert run.status_code == 200 and run.json()["name"] == "Vendor MARC records"
    assert_error(api.post("/conf/md-import-profiles/1", params={"op": "run"}), 400, "401871")


def test_fee_transactions(api: Api) -> None:
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert [f["id"] for f in api.get("/conf/utilities/fee-transactions").json()["fee"]] == [
        "9100000010005501"
    ]
    week_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 6 * 86400))
    window = {"transaction_from_date": week_ago, "transaction_to_date": today}
    assert (
        api.get("/conf/utilities/fee-transactions", params=window).json()["total_record_count"] == 3
    )
    waived = api.get(
        "/conf/utilities/fee-transactions", params={**window, "transaction_type": "WAIVE"}
    ).json()
    assert [f["id"] for f in waived["fee"]] == ["9100000030005501"]
    too_long = {"transaction_from_date": "2026-01-01", "transaction_to_date": "2026-01-20"}
    assert_error(api.get("/conf/utilities/fee-transactions", params=too_long), 400, "40166411")
    eight = {"transaction_from_date": "2026-01-01", "transaction_to_date": "2026-01-08"}
    assert_error(api.get("/conf/utilities/fee-transactions", params=eight), 400, "40166411")
    seven = {"transaction_from_date": "2026-01-01", "transaction_to_date": "2026-01-07"}
    assert api.get("/conf/utilities/fee-transactions", params=seven).ok
    assert_error(
        api.get("/conf/utilities/fee-transactions", params={"transaction_type": "X"}),
        400,
        "40166419",
    )
    desk_only = {"received_by_circ_desk": "LAW_DESK"}
    assert_error(api.get("/conf/utilities/fee-transactions", params=desk_only), 400, "40166410")


def test_workflows(api: Api) -> None:
    ok = api.post("/conf/workflows/7100000010005501", json={"user": "2000123"})
    assert ok.status_code == 200 and ok.json()["mode"] == "PRODUCTION"
    assert (
        api.post("/conf/workflows/7100000010005501", params={"test": "true"}, json={}).json()[
            "mode"
        ]
        == "TEST"
    )
    assert api.emu.store.workflow_runs[0]["payload"] == {"user": "2000123"}
    assert_error(api.post("/conf/workflows/1", json={}), 400, "450001")
    assert_error(api.post("/conf/workflows/7100000020005501", json={}), 400, "450002")
    assert_error(api.post("/conf/workflows/7100000030005501", json={}), 400, "450003")
    assert_error(
        api.post("/conf/workflows/7100000020005501", params={"test": "true"}, json={}),
        400,
        "450004",
    )
