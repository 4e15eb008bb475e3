"""Parameters, set names, profile jobs, job ids and instances, resolved against the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from almasync.alma.client import AlmaClient
from almasync.emulator import Emulator
from almasync.errors import AlmaError, ConfigError, ExitCode, UsageError
from almasync.jobs import (
    InstanceNotFound,
    JobRefused,
    NoProfileJob,
    RunRequest,
    SetAmbiguous,
    SetNotFound,
    SeveralProfileJobs,
    UnknownJob,
    find_profile_job,
    get_instance,
    list_jobs,
    load_params_file,
    params_body,
    parse_params,
    resolve_set,
    run,
)
from tests.jobs.conftest import (
    EXPORT,
    FAST,
    MISSING_ITEMS,
    NEW_TITLES,
    SEED_WARNING_INSTANCE,
    SIS_JOB,
    SIS_PROFILE,
    SYNC_BIBS,
)


def _sent(emu: Emulator, instance_id: str | None) -> dict[str, str]:
    assert instance_id is not None
    with emu.store.lock:
        return dict(emu.store.job_instances[instance_id]["parameters"])


# -- parameters -------------------------------------------------------------------------


def test_params_body_has_alma_shape() -> None:
    assert params_body({}) == {}
    assert params_body({"set_id": "1", "job_name": "a=b"}) == {"parameter": [
        {"name": {"value": "set_id"}, "value": "1"},
        {"name": {"value": "job_name"}, "value": "a=b"}]}


def test_parse_params_keeps_equals_signs_and_last_value() -> None:
    assert parse_params(["a=1", "b=x=y", "a=2", "c="]) == {"a": "2", "b": "x=y", "c": ""}
    for bad in ("novalue", "=value", "two words=x"):
        with pytest.raises(UsageError) as caught:
            parse_params([bad])
        assert caught.value.exit_code == ExitCode.USAGE


def test_params_reach_alma(emulator: Emulator, client: AlmaClient) -> None:
    params = {"set_id": MISSING_ITEMS, "job_name": "Weekly export",
              "task_ExportBibParams_outputFormat_string": "MARC21_XML"}
    outcome = run(client, RunRequest(job_id=EXPORT, params=params), pacing=FAST)
    assert _sent(emulator, outcome.instance_id) == params


def test_params_file_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "p.yaml"
    yaml_file.write_text("set_id: '123'\nlimit: 5\nfull: true\n", encoding="utf-8")
    assert load_params_file(yaml_file) == {"set_id": "123", "limit": "5", "full": "true"}
    json_file = tmp_path / "p.json"
    json_file.write_text('{"set_id": "123", "job_name": "x"}', encoding="utf-8")
    assert load_params_file(json_file) == {"set_id": "123", "job_name": "x"}


def test_params_file_problems_carry_positions(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("set_id: '1'\nnested: {a: 1}\n'two words': x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_params_file(bad)
    assert [str(p) for p in caught.value.problems] == [
        f"{bad}:2:9: nested: the value must be a single text, number or boolean",
        f"{bad}:3:1: 'two words' is not a parameter name (letters, digits, _ . -)"]
    (tmp_path / "list.yaml").write_text("- a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_params_file(tmp_path / "list.yaml")


# -- sets -------------------------------------------------------------------------------


def test_set_name_resolves_to_its_id(emulator: Emulator, client: AlmaClient) -> None:
    assert resolve_set(client, "Missing items") == MISSING_ITEMS
    outcome = run(client, RunRequest(job_id=EXPORT, set_name="New acquisitions 2026"),
                  pacing=FAST)
    assert _sent(emulator, outcome.instance_id) == {"set_id": NEW_TITLES}
    query = [r.query for r in emulator.requests if r.path.endswith("/conf/sets")]
    assert query[-1]["q"] == "name~New_acquisitions_2026"


def test_set_name_must_match_exactly(client: AlmaClient) -> None:
    with pytest.raises(SetNotFound) as caught:
        resolve_set(client, "Missing")
    assert "similar names: Missing items" in str(caught.value)
    assert caught.value.exit_code == ExitCode.INVALID_CONFIG
    with pytest.raises(SetNotFound):
        resolve_set(client, "missing items")


def test_two_sets_with_the_name_are_ambiguous(emulator: Emulator, client: AlmaClient) -> None:
    with emulator.store.lock:
        twin = {**emulator.store.sets[MISSING_ITEMS], "id": "3100000090005501"}
        emulator.store.sets[twin["id"]] = twin
    with pytest.raises(SetAmbiguous) as caught:
        resolve_set(client, "Missing items")
    assert f"{MISSING_ITEMS}, 3100000090005501" in str(caught.value)


def test_set_name_and_set_id_parameter_conflict(client: AlmaClient) -> None:
    with pytest.raises(UsageError, match="keep one"):
        run(client, RunRequest(job_id=EXPORT, set_name="Missing items",
                               params={"set_id": "1"}))


# -- profiles and job ids ---------------------------------------------------------------


def test_profile_id_finds_its_scheduled_job(emulator: Emulator, client: AlmaClient) -> None:
    assert find_profile_job(client, SIS_PROFILE).id == SIS_JOB
    outcome = run(client, RunRequest(profile_id=SIS_PROFILE), pacing=FAST)
    assert outcome.submission is not None and outcome.submission.job_id == SIS_JOB
    lookup = [r.query for r in emulator.requests if r.path.endswith("/conf/jobs")]
    assert lookup[0]["type"] == "SCHEDULED" and lookup[0]["profile_id"] == SIS_PROFILE


def test_unknown_profile_and_profile_with_two_jobs(emulator: Emulator,
                                                   client: AlmaClient) -> None:
    with pytest.raises(NoProfileJob) as caught:
        find_profile_job(client, "6999999990005501")
    assert caught.value.exit_code == ExitCode.INVALID_CONFIG
    with emulator.store.lock:
        emulator.store.jobs["S12300000000011"] = {**emulator.store.jobs[SIS_JOB],
                                                  "id": "S12300000000011"}
    with pytest.raises(SeveralProfileJobs, match=f"S12300000000011, {SIS_JOB}"):
        find_profile_job(client, SIS_PROFILE)


@pytest.mark.parametrize(("job_id", "code"), [("X1", "402215"), ("M1234500000011", "402216")])
def test_bad_job_id_is_reported_and_nothing_starts(emulator: Emulator, client: AlmaClient,
                                                   job_id: str, code: str) -> None:
    before = len(emulator.store.job_instances)
    with pytest.raises(UnknownJob) as caught:
        run(client, RunRequest(job_id=job_id))
    assert caught.value.alma.code == code
    assert caught.value.exit_code == ExitCode.INVALID_CONFIG
    assert "nothing was started" in str(caught.value)
    assert len(emulator.store.job_instances) == before


def test_a_job_id_stays_one_path_segment(emulator: Emulator, client: AlmaClient) -> None:
    before = len(emulator.store.job_instances)
    with pytest.raises(AlmaError) as caught:
        run(client, RunRequest(job_id=f"{SYNC_BIBS}/../{SYNC_BIBS}"))
    assert "/conf/jobs/M30174920000011%2F..%2FM30174920000011" in str(caught.value)
    assert len(emulator.store.job_instances) == before


def test_alma_refusals_name_the_job(client: AlmaClient) -> None:
    with pytest.raises(JobRefused, match="needs a parameter that was not given"):
        run(client, RunRequest(job_id=EXPORT))
    with pytest.raises(JobRefused, match="402248"):
        run(client, RunRequest(job_id="O11111100000011"))


def test_list_jobs_filters_by_type(client: AlmaClient) -> None:
    every = list_jobs(client)
    scheduled = list_jobs(client, "scheduled")
    assert [j.id for j in every] == sorted(j.id for j in every) and len(every) == 8
    assert {j.type for j in scheduled} == {"SCHEDULED"} and len(scheduled) == 3


# -- instances --------------------------------------------------------------------------


def test_instance_by_id_alone_or_with_its_job(client: AlmaClient) -> None:
    alone = get_instance(client, SEED_WARNING_INSTANCE)
    assert alone.job_id == SIS_JOB and alone.status == "COMPLETED_WARNING"
    assert get_instance(client, SEED_WARNING_INSTANCE, SIS_JOB) == alone


def test_unknown_instance(client: AlmaClient) -> None:
    with pytest.raises(InstanceNotFound) as caught:
        get_instance(client, "999")
    assert caught.value.exit_code == ExitCode.INVALID_CONFIG
    assert "no job instance '999'" in str(caught.value)
    with pytest.raises(InstanceNotFound, match=f"of job '{SYNC_BIBS}'"):
        get_instance(client, SEED_WARNING_INSTANCE, SYNC_BIBS)
    with pytest.raises(UnknownJob):
        get_instance(client, SEED_WARNING_INSTANCE, "nonsense")
