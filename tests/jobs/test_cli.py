"""``almasync jobs`` in-process against the emulator: output, stderr progress, exit codes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from almasync.cli.jobs_cmds import echo_post_apply_plan, run_post_apply_jobs
from almasync.config.settings import PostApplyJob
from almasync.emulator import Emulator
from almasync.errors import ExitCode
from almasync.jobs import describe_post_apply, submit_once
from tests.conftest import Almasync
from tests.jobs.conftest import (
    CHANGE_ITEMS,
    EXPORT,
    FINES,
    MISSING_ITEMS,
    SEED_WARNING_INSTANCE,
    SIS_JOB,
    SIS_PROFILE,
    SYNC_BIBS,
    api_posts,
    finish,
    make_client,
)

FAST = ("--poll-interval", "0.01")


def test_list_text_and_type_filter(almasync: Almasync) -> None:
    result = almasync("jobs", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["ID", "TYPE", "CATEGORY", "NAME"]
    assert f"{SIS_JOB}  SCHEDULED  SIS" in result.stdout
    assert f"[profile {SIS_PROFILE}]" in result.stdout
    manual = almasync("jobs", "list", "--type", "manual")
    assert manual.exit_code == 0 and SIS_JOB not in manual.stdout and EXPORT in manual.stdout


def test_list_json(almasync: Almasync) -> None:
    result = almasync("jobs", "list", "--type", "SCHEDULED", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format_version"] == 1
    assert [job["id"] for job in data["jobs"]] == ["S77777700000011", SIS_JOB,
                                                   "S99999900000011"]
    sis = data["jobs"][1]
    assert (sis["type"], sis["category"], sis["profile_id"]) == ("SCHEDULED", "SIS",
                                                                 SIS_PROFILE)
    assert almasync.writes() == []


def test_run_without_wait_prints_the_instance_id(almasync: Almasync) -> None:
    result = almasync("jobs", "run", EXPORT, "--param", f"set_id={MISSING_ITEMS}")
    assert result.exit_code == 0, result.stderr
    instance_id = result.stdout.strip()
    assert instance_id in almasync.emu.store.job_instances
    assert f"Submitted job {EXPORT}" in result.stderr
    assert f"almasync jobs status {instance_id} --wait" in result.stderr


def test_run_wait_success_shows_progress_and_report(almasync: Almasync) -> None:
    result = almasync("jobs", "run", EXPORT, "--set", "Missing items", "--wait", *FAST)
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "  QUEUED (Queued) 0%" in result.stderr
    assert "  COMPLETED_SUCCESS (Completed Successfully) 100%" in result.stderr
    assert "alert: The job completed successfully." in result.stderr
    assert "status: COMPLETED_SUCCESS (Completed Successfully), 100%" in result.stdout
    assert "  Records processed: 120" in result.stdout
    assert result.stdout.rstrip().endswith("Result: succeeded.")


def test_run_wait_exit_codes(almasync: Almasync) -> None:
    failed_items = almasync("jobs", "run", CHANGE_ITEMS, "--set", "Missing items", "--wait",
                            *FAST)
    assert failed_items.exit_code == 7, failed_items.stderr
    assert "COMPLETED_FAILED (Completed with Errors)" in failed_items.stdout
    assert "  Records failed: 3" in failed_items.stdout
    warning = almasync("jobs", "run", SYNC_BIBS, "--wait", *FAST)
    assert warning.exit_code == 7
    failed = almasync("jobs", "run", FINES, "--wait", *FAST)
    assert failed.exit_code == 8
    assert "Result: did not complete." in failed.stdout


def test_run_needing_a_person_exits_9(almasync: Almasync) -> None:
    with almasync.emu.store.lock:
        almasync.emu.store.jobs[SYNC_BIBS]["outcome"] = "MANUAL_HANDLING_REQUIRED"
    result = almasync("jobs", "run", SYNC_BIBS, "--wait", *FAST)
    assert result.exit_code == 9
    assert "needs manual handling" in result.stdout


def test_run_timeout_exits_10_and_says_how_to_follow(slow_almasync: Almasync) -> None:
    result = slow_almasync("jobs", "run", SYNC_BIBS, "--timeout", "0.05", *FAST)
    assert result.exit_code == 10, result.stderr
    assert "status: QUEUED (Queued), 0%" in result.stdout
    instance_id = result.stderr.split(": instance ", 1)[1].split()[0]
    assert instance_id in slow_almasync.emu.store.job_instances
    assert f"almasync jobs status {instance_id} --wait" in result.stdout


def test_run_json_output(almasync: Almasync) -> None:
    result = almasync("jobs", "run", FINES, "--wait", "--format", "json", *FAST)
    assert result.exit_code == 8
    data = json.loads(result.stdout)
    assert (data["verdict"], data["exit_code"], data["job_id"]) == ("failed", 8, FINES)
    assert data["instance"]["status"] == "FAILED"


def test_run_by_profile_id(almasync: Almasync) -> None:
    result = almasync("jobs", "run", "--profile-id", SIS_PROFILE, "--wait", *FAST)
    assert result.exit_code == 7, result.stderr
    assert f"job {SIS_JOB} (Users SIS synchronization - SIS_SYNC)" in result.stdout
    unknown = almasync("jobs", "run", "--profile-id", "6999999990005501")
    assert unknown.exit_code == ExitCode.INVALID_CONFIG
    assert "no scheduled job belongs to this import or integration profile" in unknown.stderr


def test_params_file_and_param_override(almasync: Almasync, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(f"set_id: '{MISSING_ITEMS}'\njob_name: From file\n", encoding="utf-8")
    result = almasync("jobs", "run", EXPORT, "--params-file", str(params),
                      "--param", "job_name=From option")
    assert result.exit_code == 0, result.stderr
    with almasync.emu.store.lock:
        sent = almasync.emu.store.job_instances[result.stdout.strip()]["parameters"]
    assert sent == {"set_id": MISSING_ITEMS, "job_name": "From option"}


def test_bad_params_file_is_invalid_input_and_sends_nothing(almasync: Almasync,
                                                            tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("set_id: [1, 2]\n", encoding="utf-8")
    result = almasync("jobs", "run", EXPORT, "--params-file", str(params))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert f"{params}:1:9: set_id: the value must be a single text" in result.stderr
    assert almasync.emu.requests == []


def test_usage_errors_send_nothing(almasync: Almasync) -> None:
    for args in (["run", EXPORT, "--param", "set_id"], ["run"],
                 ["run", EXPORT, "--profile-id", SIS_PROFILE],
                 ["run", EXPORT, "--set", "Missing items", "--param", "set_id=1"],
                 ["status", "a", "b", "c"], ["list", "--type", "WEEKLY"]):
        result = almasync("jobs", *args)
        assert result.exit_code == ExitCode.USAGE, (args, result.stderr)
    assert almasync.emu.requests == []


def test_bad_job_id_and_unknown_set(almasync: Almasync) -> None:
    bad = almasync("jobs", "run", "X1")
    assert bad.exit_code == ExitCode.INVALID_CONFIG
    assert "job 'X1' is not a job id" in bad.stderr and "402215" in bad.stderr
    unknown = almasync("jobs", "run", "M1234500000011")
    assert unknown.exit_code == ExitCode.INVALID_CONFIG and "402216" in unknown.stderr
    no_set = almasync("jobs", "run", EXPORT, "--set", "No such set")
    assert no_set.exit_code == ExitCode.INVALID_CONFIG
    assert "there is no set with exactly this name" in no_set.stderr
    assert api_posts(almasync.emu) == [400, 400]


def test_status_by_instance_or_job_and_instance(almasync: Almasync) -> None:
    alone = almasync("jobs", "status", SEED_WARNING_INSTANCE)
    assert alone.exit_code == 7, alone.stderr
    assert "status: COMPLETED_WARNING (Completed with Warnings), 100%" in alone.stdout
    pair = almasync("jobs", "status", SIS_JOB, SEED_WARNING_INSTANCE, "--format", "json")
    assert pair.exit_code == 7
    assert json.loads(pair.stdout)["instance"]["job_id"] == SIS_JOB
    paths = [r.path for r in almasync.emu.requests]
    assert paths == [f"/almaws/v1/conf/jobs/ALL/instances/{SEED_WARNING_INSTANCE}",
                     f"/almaws/v1/conf/jobs/{SIS_JOB}/instances/{SEED_WARNING_INSTANCE}"]


def test_status_of_running_and_unknown_instances(slow_almasync: Almasync) -> None:
    with make_client(slow_almasync.emu) as client:
        instance_id = submit_once(client, SYNC_BIBS, {}).instance_id
    running = slow_almasync("jobs", "status", instance_id)
    assert running.exit_code == 10 and "status: QUEUED" in running.stdout
    finish(slow_almasync.emu, instance_id)
    done = slow_almasync("jobs", "status", instance_id, "--wait", *FAST)
    assert done.exit_code == 0 and "Result: succeeded." in done.stdout
    unknown = slow_almasync("jobs", "status", "999")
    assert unknown.exit_code == ExitCode.INVALID_CONFIG
    assert "there is no job instance '999'" in unknown.stderr


def _fill_slots(emu: Emulator) -> list[str]:
    with make_client(emu) as client:
        return [submit_once(client, job, {}).instance_id for job in (SYNC_BIBS, FINES, SIS_JOB)]


def test_threshold_is_reported(slow_almasync: Almasync) -> None:
    _fill_slots(slow_almasync.emu)
    result = slow_almasync("jobs", "run", CHANGE_ITEMS, "--param", f"set_id={MISSING_ITEMS}")
    assert result.exit_code == ExitCode.UNAVAILABLE
    stderr = " ".join(result.stderr.split())
    assert "execution threshold reached (Alma 402222" in stderr
    assert "at most 3 jobs started through the API are running" in stderr
    assert "at most 5 times in the past hour" in stderr
    assert "already running" not in stderr  # the code alone does not say which limit
    assert "--wait-for-slot" in stderr


def _free_a_slot_after_a_refusal(emu: Emulator, instance_id: str) -> threading.Thread:
    """Finish ``instance_id`` once the emulator has refused a submission."""
    def watch() -> None:
        while 400 not in api_posts(emu):
            threading.Event().wait(0.005)
        finish(emu, instance_id)
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_wait_for_slot_succeeds_once_a_slot_frees(slow_almasync: Almasync) -> None:
    running = _fill_slots(slow_almasync.emu)
    watcher = _free_a_slot_after_a_refusal(slow_almasync.emu, running[0])
    result = slow_almasync("jobs", "run", CHANGE_ITEMS, "--param", f"set_id={MISSING_ITEMS}",
                           "--wait-for-slot", "--slot-timeout", "60", *FAST)
    watcher.join(timeout=5)
    assert result.exit_code == 0, result.stderr
    assert "Alma's threshold: execution threshold reached (402222)" in result.stderr
    assert api_posts(slow_almasync.emu)[-1] == 200
    assert result.stdout.strip() in slow_almasync.emu.store.job_instances


def test_lost_connection_is_reported_and_the_key_never_shown(almasync: Almasync) -> None:
    almasync.emu.drop_rate = 1.0
    result = almasync("-v", "jobs", "run", SYNC_BIBS, "--wait-for-slot")
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "may or may not have started the job" in result.stderr
    assert api_posts(almasync.emu) == [0]
    assert almasync.key not in result.stdout + result.stderr


def test_post_apply_helpers_for_apply(almasync: Almasync,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    jobs = [PostApplyJob(job_id=EXPORT, set="Missing items", timeout=60),
            PostApplyJob(job_id=FINES), PostApplyJob(profile_id=SIS_PROFILE)]
    echo_post_apply_plan(describe_post_apply(jobs))
    echo_post_apply_plan([])
    plan_out = capsys.readouterr().out
    assert plan_out.count("After a successful apply") == 1
    assert f"  run job {EXPORT} with set 'Missing items'; wait up to 60 s" in plan_out
    with make_client(almasync.emu) as client:
        code = run_post_apply_jobs(client, jobs)
    out, err = capsys.readouterr()
    assert code == 8
    assert "post_apply 1/3:" in err and "post_apply 2/3:" in err
    assert f"post_apply skipped: run the scheduled job of profile {SIS_PROFILE}" in err
    assert out.count("Result: ") == 3 and "Result: skipped." in out


def test_env_from_almasync_yaml_and_read_only_keys(almasync: Almasync, tmp_path: Path) -> None:
    (tmp_path / "almasync.yaml").write_text(
        f"environments:\n  sandbox:\n    api_url: {almasync.emu.base_url}\n"
        "    api_key_env: SANDBOX_KEY\n", encoding="utf-8")
    read_only = {"SANDBOX_KEY": almasync.emu.read_only_key, "ALMA_API_URL": "",
                 "ALMA_API_KEY": ""}
    listed = almasync("jobs", "list", "--env", "sandbox", "--config", str(tmp_path),
                      env=read_only)
    assert listed.exit_code == 0, listed.stderr
    assert EXPORT in listed.stdout
    refused = almasync("jobs", "run", SYNC_BIBS, "--env", "sandbox", "--config",
                       str(tmp_path), env=read_only)
    assert refused.exit_code == ExitCode.UNAVAILABLE
    assert "UNAUTHORIZED" in refused.stderr
    assert almasync.emu.read_only_key not in refused.stdout + refused.stderr
