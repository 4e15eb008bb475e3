"""Jobs: listing, submission rules and thresholds, instances and their state machine."""

from __future__ import annotations

import time
from typing import Any

import pytest

from almasync.emulator import Emulator
from tests.emulator.conftest import Api, EmulatorFactory, assert_error

EXPORT = "M26714670000011"
RUN = {"op": "run"}
SET_PARAM = {"parameter": [{"name": {"value": "set_id"}, "value": "3100000020005501"}]}


def test_job_list_and_filters(api: Api) -> None:
    def ids(**params: str) -> list[str]:
        return [
            j["id"]
            for j in api.get("/conf/jobs", params={"limit": "100", **params}).json().get("job", [])
        ]

    assert len(ids()) == 8
    assert api.get("/conf/jobs").json()["total_record_count"] == 8
    assert ids(type="SCHEDULED") == ["S88888800000011", "S99999900000011", "S77777700000011"]
    assert ids(category="SIS") == ["S88888800000011"]
    assert ids(profile_id="6200000010005501") == ["S99999900000011"]
    assert_error(api.get("/conf/jobs", params={"type": "WEEKLY"}), 400, "40166410")
    assert_error(api.get("/conf/jobs", params={"category": "NOPE"}), 400, "40166410")


def test_job_details(api: Api) -> None:
    job = api.get(f"/conf/jobs/{EXPORT}").json()
    assert job["type"] == {"value": "MANUAL", "desc": "Manual"}
    assert job["parameter"][0]["name"]["value"] == "set_id"
    scheduled = api.get("/conf/jobs/S88888800000011").json()
    assert scheduled["related_profile"] == {
        "value": "6100000010005501",
        "link": api.url("/conf/integration-profiles/6100000010005501"),
    }


@pytest.mark.parametrize(
    ("job", "params", "body", "code"),
    [
        (EXPORT, {}, SET_PARAM, "402220"),
        (EXPORT, {"op": "stop"}, SET_PARAM, "402221"),
        ("M1", RUN, SET_PARAM, "402216"),
        ("JOB1", RUN, SET_PARAM, "402215"),
        ("O11111100000011", RUN, {}, "402248"),
        ("S77777700000011", RUN, {}, "402249"),
        (EXPORT, RUN, {}, "402228"),
        (EXPORT, RUN, {"parameter": [{"name": {"value": "set_id"}, "value": " "}]}, "402229"),
    ],
)
def test_submission_errors(
    api: Api, job: str, params: dict[str, str], body: Any, code: str
) -> None:
    assert_error(api.post(f"/conf/jobs/{job}", params=params, json=body), 400, code)


def _submit(api: Api, job: str = EXPORT, body: Any = None) -> str:
    response = api.post(f"/conf/jobs/{job}", params=RUN, json=SET_PARAM if body is None else body)
    assert response.status_code == 200, response.text
    info = response.json()["additional_info"]
    assert info["link"].startswith(api.url(f"/conf/jobs/{job}/instances/"))
    return str(info["link"].rsplit("/", 1)[1])


def _follow(
    api: Api, job: str, instance: str, timeout: float = 5.0
) -> tuple[list[str], dict[str, Any]]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/conf/jobs/{job}/instances/{instance}").json()
        status = body["status"]["value"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if "end_time" in body or time.monotonic() > deadline:
            return seen, body
        time.sleep(0.01)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_state_machine_step_by_step(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(job_step_seconds=10)
    clock = FakeClock()
    emu.clock = clock
    api = Api(emu)
    path = f"/conf/jobs/{EXPORT}/instances/{_submit(api)}"
    expected = [
        (0, "QUEUED", 0),
        (10, "PENDING", 0),
        (20, "INITIALIZING", 0),
        (35, "RUNNING", 50),
        (45, "FINALIZING", 100),
        (50, "COMPLETED_SUCCESS", 100),
        (5000, "COMPLETED_SUCCESS", 100),
    ]
    submitted = clock.now
    for offset, status, progress in expected:
        clock.now = submitted + offset
        body = api.get(path).json()
        assert (body["status"]["value"], body["progress"]) == (status, progress), offset
        assert ("start_time" in body) == (offset >= 20)
        assert ("end_time" in body) == (status == "COMPLETED_SUCCESS")
    assert body["alert"][0]["value"] == "alert_general_success"
    assert body["end_time"].endswith("Z") and body["submit_time"] < body["end_time"]


def test_instance_moves_through_its_states_in_real_time(make_emulator: EmulatorFactory) -> None:
    api = Api(make_emulator(job_step_seconds=0.05))
    instance = _submit(api)
    seen, final = _follow(api, EXPORT, instance)
    order = ["QUEUED", "PENDING", "INITIALIZING", "RUNNING", "FINALIZING", "COMPLETED_SUCCESS"]
    assert seen[-1] == "COMPLETED_SUCCESS"
    assert [s for s in order if s in seen] == seen
    assert final["progress"] == 100
    assert {c["type"]["value"] for c in final["counter"]} >= {"label.total.records"}
    assert final["job_info"]["id"] == EXPORT
    assert api.get(f"/conf/jobs/ALL/instances/{instance}").json()["id"] == instance


@pytest.mark.parametrize(
    ("job", "status", "progress"),
    [
        ("M28184420000011", "COMPLETED_FAILED", 100),
        ("M30174920000011", "COMPLETED_WARNING", 100),
        ("M32000000000011", "FAILED", 0),
    ],
)
def test_seeded_outcomes(
    make_emulator: EmulatorFactory, job: str, status: str, progress: int
) -> None:
    api = Api(make_emulator(job_step_seconds=0))
    instance = _submit(api, job, SET_PARAM)
    body = api.get(f"/conf/jobs/{job}/instances/{instance}").json()
    assert body["status"]["value"] == status and body["progress"] == progress
    assert body["alert"]


def test_manual_handling_required_is_not_finished(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(job_step_seconds=0)
    emu.store.jobs[EXPORT]["outcome"] = "MANUAL_HANDLING_REQUIRED"
    api = Api(emu)
    body = api.get(f"/conf/jobs/{EXPORT}/instances/{_submit(api)}").json()
    assert body["status"]["value"] == "MANUAL_HANDLING_REQUIRED"
    assert "end_time" not in body and "alert" not in body


def test_running_threshold(make_emulator: EmulatorFactory) -> None:
    emu: Emulator = make_emulator(job_step_seconds=30)
    api = Api(emu)
    for job in (EXPORT, "M28184420000011", "S99999900000011"):
        _submit(api, job, SET_PARAM)
    response = api.post("/conf/jobs/M30174920000011", params=RUN, json={})
    assert_error(response, 400, "402222")
    emu.job_step_seconds = 0
    assert api.post("/conf/jobs/M30174920000011", params=RUN, json={}).status_code == 200


def test_hourly_threshold(make_emulator: EmulatorFactory) -> None:
    emu = make_emulator(job_step_seconds=0)
    clock = FakeClock()
    emu.clock = clock
    api = Api(emu)
    for _ in range(5):
        _submit(api)
        clock.now += 60
    assert_error(api.post(f"/conf/jobs/{EXPORT}", params=RUN, json=SET_PARAM), 400, "402223")
    assert api.post("/conf/jobs/M30174920000011", params=RUN, json={}).status_code == 200
    clock.now += 3600 - 5 * 60 + 1
    assert api.post(f"/conf/jobs/{EXPORT}", params=RUN, json=SET_PARAM).status_code == 200


def test_xml_submission(make_emulator: EmulatorFactory) -> None:
    api = Api(make_emulator(job_step_seconds=0))
    body = (
        "<job><parameters><parameter><name>set_id</name><value>3100000020005501</value></parameter>"
        "</parameters></job>"
    )
    response = api.post(
        f"/conf/jobs/{EXPORT}", params=RUN, data=body, headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 200, response.text


def test_instance_list(make_emulator: EmulatorFactory) -> None:
    api = Api(make_emulator(job_step_seconds=0))
    new = _submit(api)
    body = api.get(f"/conf/jobs/{EXPORT}/instances").json()
    assert [i["id"] for i in body["job_instance"]] == [new, "8100000010005501"]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    only_new = api.get(f"/conf/jobs/{EXPORT}/instances", params={"submit_date_from": today}).json()
    assert [i["id"] for i in only_new["job_instance"]] == [new]
    status = api.get(
        f"/conf/jobs/{EXPORT}/instances", params={"status": "COMPLETED_SUCCESS"}
    ).json()
    assert status["total_record_count"] == 2
    assert_error(
        api.get(f"/conf/jobs/{EXPORT}/instances", params={"submit_date_from": "yesterday"}),
        400,
        "402217",
    )
    assert_error(
        api.get(f"/conf/jobs/{EXPORT}/instances", params={"status": "DONE"}), 400, "40166410"
    )
    assert_error(api.get(f"/conf/jobs/S88888800000011/instances/{new}"), 400, "402218")


def test_events_matches_download(api: Api) -> None:
    sis = "/conf/jobs/S88888800000011/instances/8100000020005501"
    events = api.get(sis + "/events").json()
    assert events["total_record_count"] == 3 and len(events["event"]) == 3
    assert_error(api.get(f"/conf/jobs/{EXPORT}/instances/8100000010005501/events"), 400, "60332")
    imported = "/conf/jobs/S99999900000011/instances/8100000030005501"
    assert (
        api.get(imported + "/matches", params={"population": "MULTI_MATCHES"}).json()[
            "total_record_count"
        ]
        == 1
    )
    assert_error(api.get(imported + "/matches"), 400, "40166410")
    assert_error(api.get(sis + "/matches", params={"population": "SINGLE_MATCHES"}), 400, "402119")
    xml = api.get(imported + "/download")
    assert xml.status_code == 200 and "MARC21/slim" in xml.text
    binary = api.get(
        "/conf/jobs/ALL/instances/8100000030005501/download", params={"download_format": "BINARY"}
    )
    assert binary.headers["Content-Type"] == "application/octet-stream"
