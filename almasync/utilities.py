"""The API's remaining read operations: a library's computed calendar, the fee-transactions
report, an import job's input file, and the key test.

None of these is configuration; almasync never syncs them. Alma serves the calendar at most
one month per call and the fee report at most seven days per call, so longer ranges are
split here into calls that each stay within Alma's limit, and the answers joined.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from almasync.alma.client import AlmaClient
from almasync.alma.payload import as_list
from almasync.errors import AlmaAuthError, AlmaError, AlmasyncError, UsageError
from almasync.jobs.errors import (
    UNKNOWN_INSTANCE_CODE,
    UNKNOWN_JOB_CODES,
    InstanceNotFound,
    JobInputError,
    UnknownJob,
)

GENERAL_ERROR = "402119"
#: Alma serves open days from one year back to three years ahead (conf.json).
CALENDAR_BACK_DAYS = 366
CALENDAR_AHEAD_YEARS = 3
#: "Limit of 7 days period" on the fee report; counted with both ends.
FEE_WINDOW_DAYS = 7


def quote_segment(text: str) -> str:
    """``text`` as one URL path segment."""
    return quote(text, safe="")


_seg = quote_segment


def _plain(value: Any) -> str:
    """A field that Alma may wrap as ``{"value": ..., "desc": ...}``, as its plain value."""
    if isinstance(value, dict):
        return str(value.get("value") or "")
    return "" if value is None else str(value)


def _desc(value: Any) -> str:
    return str(value.get("desc") or "") if isinstance(value, dict) else ""


def parse_day(text: str, option: str) -> dt.date:
    """A YYYY-MM-DD date from the command line; a usage error (64) otherwise."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date; write it as YYYY-MM-DD "
                         "(for example 2026-03-01)") from None


def check_range(start: dt.date, end: dt.date, first: str = "--from",
                last: str = "--to") -> None:
    if end < start:
        raise UsageError(f"{last} {end.isoformat()} is before {first} {start.isoformat()}")


# -- the calendar ----------------------------------------------------------------------


@dataclass(frozen=True)
class OpenDay:
    """One day of a library's calendar as Alma computed it; no hours means closed."""

    date: dt.date
    weekday: str
    hours: tuple[tuple[str, str], ...]

    @property
    def is_open(self) -> bool:
        return bool(self.hours)

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "weekday": self.weekday, "open": self.is_open,
                "hours": [{"from": a, "to": b} for a, b in self.hours]}


def month_pages(start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    """``start``..``end`` cut at month ends: each piece lies within one calendar month."""
    page = start
    while page <= end:
        nxt = dt.date(page.year + 1, 1, 1) if page.month == 12 else dt.date(
            page.year, page.month + 1, 1)
        yield page, min(end, nxt - dt.timedelta(days=1))
        page = nxt


def _calendar_window(start: dt.date, end: dt.date, today: dt.date) -> None:
    earliest = today - dt.timedelta(days=CALENDAR_BACK_DAYS - 1)
    try:
        latest = today.replace(year=today.year + CALENDAR_AHEAD_YEARS)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + CALENDAR_AHEAD_YEARS, day=28)
    if start < earliest or end > latest:
        raise UsageError(f"Alma computes open days only from one year back to three years "
                         f"ahead: {earliest.isoformat()} to {latest.isoformat()}")


def _library_exists(client: AlmaClient, library: str) -> list[str]:
    codes = [_plain(lib.get("code")) for lib in client.get_list("/conf/libraries", "library")]
    return sorted(code for code in codes if code)


def open_days(client: AlmaClient, library: str, start: dt.date, end: dt.date,
              today: dt.date | None = None) -> list[OpenDay]:
    """``GET /conf/libraries/{library}/open-hours`` once per calendar month of the range."""
    check_range(start, end)
    _calendar_window(start, end, today or dt.date.today())
    path = f"/conf/libraries/{_seg(library)}/open-hours"
    days: dict[dt.date, OpenDay] = {}
    for first, last in month_pages(start, end):
        try:
            body = client.get(path, {"from": first.isoformat(), "to": last.isoformat()})
        except AlmaError as exc:
            if isinstance(exc, AlmaAuthError) or exc.code != GENERAL_ERROR:
                raise
            known = _library_exists(client, library)
            if library not in known:
                raise UsageError(f"library {library!r} does not exist in this institution "
                                 f"(its libraries: {', '.join(known) or 'none'})") from exc
            raise
        for raw in as_list((body or {}).get("day")):
            day = _open_day(raw)
            if first <= day.date <= last:
                days[day.date] = day
    return [days[d] for d in sorted(days)]


def _open_day(raw: dict[str, Any]) -> OpenDay:
    date = dt.date.fromisoformat(_plain(raw.get("date"))[:10])
    weekday = _plain(raw.get("day_of_week")) or date.strftime("%A").upper()
    hours = tuple((_plain(h.get("from")), _plain(h.get("to")))
                  for h in as_list(raw.get("hour")) if isinstance(h, dict))
    return OpenDay(date, weekday, hours)


# -- the fee report --------------------------------------------------------------------


@dataclass
class Fee:
    """One fee with the transactions on it within the report's dates."""

    id: str
    type: str
    user: str
    owner: str
    original_amount: float
    balance: float
    transactions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "user_primary_id": self.user,
                "owner": self.owner, "original_amount": self.original_amount,
                "balance": self.balance, "transactions": self.transactions}


FEE_CSV_COLUMNS = ("fee_id", "fee_type", "user_primary_id", "owner", "original_amount",
                   "balance", "transaction_type", "amount", "transaction_time",
                   "received_by", "circ_desk")


def fee_rows(fees: list[Fee]) -> list[dict[str, Any]]:
    """One row per transaction, for CSV."""
    return [
        {"fee_id": fee.id, "fee_type": fee.type, "user_primary_id": fee.user,
         "owner": fee.owner, "original_amount": fee.original_amount, "balance": fee.balance,
         "transaction_type": tx["type"], "amount": tx["amount"],
         "transaction_time": tx["transaction_time"], "received_by": tx["received_by"],
         "circ_desk": tx["circ_desk"]}
        for fee in fees for tx in fee.transactions
    ]


def fee_windows(start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    page = start
    while page <= end:
        last = min(end, page + dt.timedelta(days=FEE_WINDOW_DAYS - 1))
        yield page, last
        page = last + dt.timedelta(days=1)


def _amount(value: Any) -> float:
    try:
        return float(_plain(value) or 0)
    except ValueError:
        return 0.0


def fee_report(client: AlmaClient, start: dt.date, end: dt.date, *,
               transaction_type: str = "BOTH", owner: str | None = None,
               library: str | None = None, desk: str | None = None) -> list[Fee]:
    """``GET /conf/utilities/fee-transactions`` per seven-day window, each paged to its end.

    A fee with transactions in several windows comes back once per window; it is reported
    once, with all its transactions.
    """
    check_range(start, end)
    if desk and not library:
        raise UsageError("--desk needs --library (Alma filters a circulation desk only "
                         "within its library)")
    filters = {"transaction_type": transaction_type, "owner": owner,
               "received_by_circ_library": library, "received_by_circ_desk": desk}
    params = {k: v for k, v in filters.items() if v}
    fees: dict[str, Fee] = {}
    for first, last in fee_windows(start, end):
        window = {**params, "transaction_from_date": first.isoformat(),
                  "transaction_to_date": last.isoformat()}
        try:
            entries = client.get_list("/conf/utilities/fee-transactions", "fee", window,
                                      paged=True)
        except AlmaError as exc:
            raise _fee_error(exc) from exc
        for raw in entries:
            fee_id = _plain(raw.get("id"))
            fee = fees.get(fee_id)
            if fee is None:
                fee = fees[fee_id] = Fee(
                    fee_id, _plain(raw.get("type")), _plain(raw.get("user_primary_id")),
                    _plain(raw.get("owner")), _amount(raw.get("original_amount")),
                    _amount(raw.get("balance")))
            fee.transactions.extend(_transaction(tx) for tx in as_list(raw.get("transaction")))
    for fee in fees.values():
        fee.transactions.sort(key=lambda tx: str(tx["transaction_time"]))
    return sorted(fees.values(), key=lambda f: (min(
        (str(tx["transaction_time"]) for tx in f.transactions), default=""), f.id))


def _transaction(raw: dict[str, Any]) -> dict[str, Any]:
    return {"type": _plain(raw.get("type")), "amount": _amount(raw.get("amount")),
            "transaction_time": _plain(raw.get("transaction_time")),
            "received_by": _plain(raw.get("received_by")),
            "circ_desk": _plain(raw.get("circ_desk"))}


_FEE_ERRORS = {
    "40166411": "Alma refused the dates",
    "40166419": "Alma refused the transaction type",
    "40166410": "Alma refused the circulation library or desk; check the library code and "
                "that the desk belongs to it",
}


def _fee_error(exc: AlmaError) -> AlmasyncError:
    if isinstance(exc, AlmaAuthError) or exc.code not in _FEE_ERRORS:
        return exc
    return UsageError(f"{_FEE_ERRORS[exc.code]} (Alma {exc.code}: "
                      f"{exc.alma_message.rstrip('.')})")


# -- an import job's input file --------------------------------------------------------


DOWNLOAD_FORMATS = ("XML", "BINARY")


class NotAnImport(JobInputError):
    """The instance has no file to download."""


def download_file(client: AlmaClient, job_id: str, instance_id: str, *,
                  download_format: str = "XML",
                  line_type: str = "TOTAL_RECORDS_IMPORTED") -> bytes:
    """``GET /conf/jobs/{job}/instances/{instance}/download``: the records a metadata
    import loaded (or the ones of ``line_type``), as MARC XML or binary MARC."""
    path = f"/conf/jobs/{_seg(job_id)}/instances/{_seg(instance_id)}/download"
    try:
        content, _ = client.get_bytes(path, {"download_format": download_format,
                                             "line_type": line_type})
    except AlmaError as exc:
        if exc.code == UNKNOWN_INSTANCE_CODE:
            raise InstanceNotFound(job_id, instance_id, exc) from exc
        if exc.code in UNKNOWN_JOB_CODES:
            raise UnknownJob(job_id, exc, submitting=False) from exc
        if exc.code == GENERAL_ERROR and not isinstance(exc, AlmaAuthError):
            raise NotAnImport(
                f"job {job_id!r} instance {instance_id!r} has no file to download: Alma keeps "
                f"one only for metadata import jobs (Alma {exc.code}: "
                f"{exc.alma_message.rstrip('.')})") from exc
        raise
    return content


# -- the key test ----------------------------------------------------------------------


@dataclass(frozen=True)
class KeyCheck:
    """What ``/conf/test`` says the key may do."""

    read: bool
    write: bool
    institution: str
    read_message: str
    write_message: str

    @property
    def access(self) -> str:
        return "read/write" if self.write else "read-only"

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "write": self.write, "access": self.access,
                "institution": self.institution, "get": self.read_message,
                "post": self.write_message}


def _test_message(body: Any) -> str:
    if isinstance(body, dict):
        return _plain(body.get("test")) or ", ".join(f"{k}: {v}" for k, v in body.items())
    return "" if body is None else str(body)


def check_key(client: AlmaClient) -> KeyCheck:
    """``GET /conf/test``, then ``POST /conf/test``. A refused GET (key unknown or without
    the Configuration area) or an unreachable Alma raises (exit 4); a refused POST means
    the key is read-only. The POST changes nothing in Alma."""
    read_message = _test_message(client.get("/conf/test"))
    institution = ""
    if "institutionCode:" in read_message:
        institution = read_message.split("institutionCode:", 1)[1].strip()
    try:
        write_message = _test_message(client.post("/conf/test", None))
        write = True
    except AlmaAuthError as exc:
        reason = exc.alma_message.split(" Check that ", 1)[0]
        write, write_message = False, f"refused: Alma {exc.code}: {reason}"
    return KeyCheck(True, write, institution, read_message, write_message)
