"""``hours``, ``fees``, ``jobs download`` and ``check`` against the emulator over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from almasync.cli import cli
from almasync.emulator import Emulator
from almasync.errors import ExitCode
from almasync.utilities import fee_windows, month_pages
from tests.conftest import Almasync

TODAY = dt.date.today()
NEXT_YEAR = TODAY.year + 1


def _calls(almasync: Almasync, suffix: str) -> list[dict[str, str]]:
    return [r.query for r in almasync.emu.requests if r.path.endswith(suffix)]


# -- paging arithmetic ------------------------------------------------------------------


def test_month_pages_cut_at_month_ends() -> None:
    pages = list(month_pages(dt.date(2027, 1, 20), dt.date(2027, 3, 5)))
    assert pages == [(dt.date(2027, 1, 20), dt.date(2027, 1, 31)),
                     (dt.date(2027, 2, 1), dt.date(2027, 2, 28)),
                     (dt.date(2027, 3, 1), dt.date(2027, 3, 5))]
    assert list(month_pages(dt.date(2027, 12, 31), dt.date(2028, 1, 1))) == [
        (dt.date(2027, 12, 31), dt.date(2027, 12, 31)), (dt.date(2028, 1, 1), dt.date(2028, 1, 1))]


def test_fee_windows_are_seven_days_with_both_ends() -> None:
    windows = list(fee_windows(dt.date(2026, 11, 1), dt.date(2026, 11, 20)))
    assert windows == [(dt.date(2026, 11, 1), dt.date(2026, 11, 7)),
                       (dt.date(2026, 11, 8), dt.date(2026, 11, 14)),
                       (dt.date(2026, 11, 15), dt.date(2026, 11, 20))]


# -- hours ------------------------------------------------------------------------------


def test_hours_pages_a_long_range_by_month(almasync: Almasync) -> None:
    start, end = f"{NEXT_YEAR}-01-20", f"{NEXT_YEAR}-03-05"
    result = almasync("hours", "MAIN", "--from", start, "--to", end, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    days = [d["date"] for d in data["days"]]
    expected = [dt.date(NEXT_YEAR, 1, 20) + dt.timedelta(days=n)
                for n in range((dt.date(NEXT_YEAR, 3, 5) - dt.date(NEXT_YEAR, 1, 20)).days + 1)]
    assert days == [d.isoformat() for d in expected]
    assert _calls(almasync, "/conf/libraries/MAIN/open-hours") == [
        {"from": start, "to": f"{NEXT_YEAR}-01-31"},
        {"from": f"{NEXT_YEAR}-02-01", "to": f"{dt.date(NEXT_YEAR, 3, 1) - dt.timedelta(1)}"},
        {"from": f"{NEXT_YEAR}-03-01", "to": end},
    ]
    weekday = next(d for d in data["days"] if d["weekday"] == "WEDNESDAY"
                   and d["date"] > f"{NEXT_YEAR}-02-01")
    assert weekday["open"] is True and weekday["hours"]


def test_hours_text_shows_closed_days_and_a_summary(almasync: Almasync, tmp_path: Path) -> None:
    out = tmp_path / "hours.txt"
    result = almasync("hours", "MAIN", "--from", f"{NEXT_YEAR}-12-24", "--to",
                      f"{NEXT_YEAR}-12-26", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert text.startswith(f"Open days of MAIN, {NEXT_YEAR}-12-24 to {NEXT_YEAR}-12-26:")
    assert "closed" in text and text.rstrip().endswith("closed.")
    assert result.stdout == ""


def test_hours_defaults_to_a_week_from_today(almasync: Almasync) -> None:
    result = almasync("hours", "LAW", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["from"] == TODAY.isoformat()
    assert len(data["days"]) == 8


def test_hours_unknown_library_is_a_clear_usage_error(almasync: Almasync) -> None:
    result = almasync("hours", "NOPE")
    assert result.exit_code == ExitCode.USAGE
    assert "library 'NOPE' does not exist in this institution" in result.stderr
    assert "LAW, MAIN, MUSIC" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2027-13-01"], "--from '2027-13-01' is not a date; write it as YYYY-MM-DD"),
    (["--from", f"{NEXT_YEAR}-02-01", "--to", f"{NEXT_YEAR}-01-01"], "is before --from"),
    (["--from", f"{TODAY.year - 2}-01-01", "--to", f"{TODAY.year - 2}-01-02"],
     "only from one year back to three years ahead"),
])
def test_hours_bad_dates_exit_64_without_calling_alma(almasync: Almasync, args: list[str],
                                                      message: str) -> None:
    result = almasync("hours", "MAIN", *args)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert _calls(almasync, "/open-hours") == []


# -- fees -------------------------------------------------------------------------------


def _add_fees(emu: Emulator, count: int, day: dt.date) -> None:
    for n in range(count):
        emu.store.fees.append({
            "id": f"92{n:014d}", "type": "OVERDUEFINE", "user": f"U{n}", "owner": "MAIN",
            "amount": 1.0, "balance": 0.0,
            "transactions": [{"type": "PAYMENT", "amount": 1.0, "date": day.isoformat(),
                              "library": "MAIN", "circ_desk": "DEFAULT_CIRC_DESK"}]})


def test_fees_page_every_window_to_its_end(almasync: Almasync) -> None:
    _add_fees(almasync.emu, 130, TODAY - dt.timedelta(days=12))
    start = TODAY - dt.timedelta(days=19)
    result = almasync("fees", "--from", start.isoformat(), "--to", TODAY.isoformat())
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("fee_id,fee_type,user_primary_id,owner,")
    assert len(lines) == 1 + 130 + 3
    calls = _calls(almasync, "/conf/utilities/fee-transactions")
    windows = [(c["transaction_from_date"], c["transaction_to_date"], c["offset"]) for c in calls]
    second = (start + dt.timedelta(days=7)).isoformat()
    assert (second, (start + dt.timedelta(days=13)).isoformat(), "100") in windows
    assert len({w[:2] for w in windows}) == 3
    for first, last, _ in windows:
        assert (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days <= 6


def test_fees_json_joins_a_fee_seen_in_two_windows(almasync: Almasync) -> None:
    first, later = TODAY - dt.timedelta(days=10), TODAY - dt.timedelta(days=1)
    almasync.emu.store.fees.append({
        "id": "9300000000000001", "type": "LOSTITEMREPLACEMENTFEE", "user": "2000456",
        "owner": "LAW", "amount": 50.0, "balance": 10.0,
        "transactions": [
            {"type": "PAYMENT", "amount": 30.0, "date": first.isoformat(), "library": "LAW",
             "circ_desk": "LAW_DESK"},
            {"type": "WAIVE", "amount": 10.0, "date": later.isoformat(), "library": "LAW",
             "circ_desk": "LAW_DESK"}]})
    result = almasync("fees", "--from", first.isoformat(), "--to", later.isoformat(),
                      "--owner", "LAW", "--format", "json")
    assert result.exit_code == 0, result.stderr
    fees = json.loads(result.stdout)["fees"]
    joined = [f for f in fees if f["id"] == "9300000000000001"]
    assert len(joined) == 1
    assert [(t["type"], t["amount"]) for t in joined[0]["transactions"]] == [
        ("PAYMENT", 30.0), ("WAIVE", 10.0)]
    assert all(f["owner"] == "LAW" for f in fees)


def test_fees_errors_are_usage_errors(almasync: Almasync) -> None:
    result = almasync("fees", "--from", "2026-11-01", "--to", "2026-11-31")
    assert result.exit_code == ExitCode.USAGE and "--to '2026-11-31' is not a date" in (
        result.stderr)
    result = almasync("fees", "--from", "2026-11-02", "--to", "2026-11-01")
    assert result.exit_code == ExitCode.USAGE and "is before --from" in result.stderr
    result = almasync("fees", "--from", "2026-11-01", "--to", "2026-11-02", "--desk", "X")
    assert result.exit_code == ExitCode.USAGE and "--desk needs --library" in result.stderr
    result = almasync("fees", "--from", "2026-11-01", "--to", "2026-11-02", "--library",
                      "NOPE")
    assert result.exit_code == ExitCode.USAGE
    assert "Alma refused the circulation library or desk; check the library code" in result.stderr
    assert almasync("fees", "--from", "2026-11-01").exit_code == ExitCode.USAGE


# -- jobs download ----------------------------------------------------------------------


def test_download_writes_an_import_instances_file(almasync: Almasync, tmp_path: Path) -> None:
    out = tmp_path / "in" / "vendor.xml"
    result = almasync("jobs", "download", "S99999900000011", "8100000030005501",
                      "--out", str(out))
    assert result.exit_code == 0, result.stderr
    content = out.read_text()
    assert content.startswith("<?xml") and "8100000030005501" in content
    query = _calls(almasync, "/download")[0]
    assert query == {"download_format": "XML", "line_type": "TOTAL_RECORDS_IMPORTED"}
    binary = tmp_path / "vendor.mrc"
    result = almasync("jobs", "download", "S99999900000011", "8100000030005501",
                      "--out", str(binary), "--download-format", "binary")
    assert result.exit_code == 0, result.stderr
    assert binary.read_bytes().endswith(b"\x1e\x1d")


def test_download_refusals_say_why(almasync: Almasync, tmp_path: Path) -> None:
    out = tmp_path / "x.xml"
    result = almasync("jobs", "download", "M26714670000011", "8100000010005501",
                      "--out", str(out))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "Alma keeps one only for metadata import jobs" in result.stderr
    result = almasync("jobs", "download", "S99999900000011", "1", "--out", str(out))
    assert result.exit_code == ExitCode.INVALID_CONFIG
    assert "there is no job instance '1'" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


# -- check ------------------------------------------------------------------------------


def test_check_a_read_write_key(almasync: Almasync) -> None:
    result = almasync("check")
    assert result.exit_code == 0, result.stderr
    assert "The key is read/write for the Configuration API of 01DEMO_INST." in result.stdout
    assert almasync.emu.write_count == 0
    assert [r.method for r in almasync.emu.requests] == ["GET", "POST"]


def test_check_a_read_only_key(almasync: Almasync) -> None:
    result = almasync("check", "--format", "json", env={"ALMA_API_KEY": almasync.emu.read_only_key})
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["access"] == "read-only" and data["read"] and not data["write"]
    assert data["post"].startswith("refused: Alma UNAUTHORIZED")
    assert almasync.emu.read_only_key not in result.stdout + result.stderr


def test_check_a_refused_key_exits_4(almasync: Almasync) -> None:
    secret = "l7xx-unknown-key-0000"
    result = almasync("check", env={"ALMA_API_KEY": secret})
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert secret not in result.stdout + result.stderr


def test_check_an_unreachable_alma_exits_4() -> None:
    with Emulator(seed="empty", rate_limit=None) as emu:
        url = emu.base_url
    result = CliRunner().invoke(cli, ["check"], env={
        "ALMA_API_URL": url, "ALMA_API_KEY": "k", "ALMASYNC_RATE_LIMIT": "0",
        "ALMASYNC_RETRY_BACKOFF": "0"})
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert "could not reach Alma" in result.stderr


def test_every_new_command_has_an_example_in_help() -> None:
    runner = CliRunner()
    for args in (["hours"], ["fees"], ["check"], ["jobs", "download"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
        assert f"almasync {' '.join(args)} " in result.output
