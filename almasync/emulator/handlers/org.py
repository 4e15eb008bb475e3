"""General configuration, the key test, departments, printers, fees and workflows."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

from almasync.emulator import labels
from almasync.emulator.context import Ctx, Reply
from almasync.emulator.errors import AlmaError
from almasync.emulator.handlers.libraries import find_library
from almasync.emulator.render import JsonDict, envelope, flag, paged, plain_date, seg, vd
from almasync.emulator.routing import Route
from almasync.emulator.store import Record


def get_general(ctx: Ctx) -> Reply:
    inst = ctx.store.institution
    body: JsonDict = {
        "institution": vd(inst.get("code", ""), desc=inst.get("name")),
        "environment_type": vd(inst.get("environment_type", "SANDBOX"), labels.ENVIRONMENT_TYPES),
        "network": vd(inst.get("network", ""), desc=inst.get("network") or None),
        "default_language": vd(inst.get("default_language", "en"), labels.LANGUAGES),
        "default_currency": vd(inst.get("default_currency", "USD"), labels.CURRENCIES),
        "timezone": vd(inst.get("timezone", "Etc/UTC"), desc=inst.get("timezone", "Etc/UTC")),
        "base_url": inst.get("base_url", ""),
        "link": ctx.link("/conf/general"),
    }
    expand = ctx.arg("expand")
    if expand and expand != "ingest_form":
        raise AlmaError(
            "402119",
            f"General Error - An error has occurred while processing the request: expand={expand}.",
        )
    if expand:
        body["ingest_form"] = [{"code": "DEFAULT", "name": "Default ingest form"}]
    return Reply(body, root="general")


def _test_text(ctx: Ctx) -> str:
    if ctx.method == "GET":
        return f"GET - OK - institutionCode: {ctx.store.institution_code}"
    return "POST - OK"


def key_test(ctx: Ctx) -> Reply:
    """The short ``<test>`` document; JSON clients get ``{"test": ...}``."""
    message = _test_text(ctx)
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><test>{escape(message)}</test>'
    return Reply({"test": message}, root="test", xml=xml.encode("utf-8"))


def _department_json(ctx: Ctx, dep: Record, brief: bool) -> JsonDict:
    libs = ctx.store.libraries
    owner = dep.get("owner") or ctx.store.institution_code
    owner_name = libs[owner]["name"] if owner in libs else ctx.store.institution.get("name")
    body: JsonDict = {
        "code": dep["code"],
        "name": dep["name"],
        "type": vd(dep.get("type", "AcqWorkOrder"), labels.DEPARTMENT_TYPES),
        "description": dep.get("description", ""),
        "work_days": dep.get("work_days", 5),
        "printer": vd(dep.get("printer", ""), desc=dep.get("printer") or None),
        "owner": vd(owner, desc=owner_name),
        "served_libraries": {
            "library": [
                vd(c, desc=libs[c]["name"]) for c in dep.get("served_libraries", []) if c in libs
            ]
        },
    }
    if not brief:
        body["operators"] = {
            "operator": [
                {
                    "primary_id": op,
                    "full_name": op.replace("_", " ").title(),
                    "link": ctx.link(f"/users/{seg(op)}"),
                }
                for op in dep.get("operators", [])
            ]
        }
    return body


def list_departments(ctx: Ctx) -> Reply:
    type_ = ctx.arg("type", "ALL").upper()
    if type_ not in ("ALL", "DIGI"):
        raise AlmaError("402119", f"General error: department type {type_} is not supported.")
    library = ctx.arg("library")
    if library:
        find_library(ctx.store, library)
    brief = ctx.arg("view", "FULL").lower() == "brief"
    items = [
        _department_json(ctx, d, brief)
        for d in ctx.store.departments.values()
        if (type_ == "ALL" or d.get("type") == "DIGI")
        and (not library or library in d.get("served_libraries", []) or d.get("owner") == library)
    ]
    return Reply(envelope("department", items), root="departments")


def _printer_json(ctx: Ctx, printer: Record) -> JsonDict:
    library = printer.get("library", "")
    libs = ctx.store.libraries
    return {
        "id": printer["id"],
        "code": printer["code"],
        "name": printer["name"],
        "description": printer.get("description", ""),
        "printout_queue": bool(printer.get("printout_queue", False)),
        "email": printer.get("email", ""),
        "library": vd(library, desc=libs[library]["name"] if library in libs else None),
        "link": ctx.link(f"/conf/printers/{seg(printer['id'])}"),
    }


def list_printers(ctx: Ctx) -> Reply:
    library, queue = ctx.arg("library", "ALL"), ctx.arg("printout_queue", "ALL")
    name, code = ctx.arg("name", "ALL"), ctx.arg("code", "ALL")
    if library != "ALL" and library not in ctx.store.libraries:
        raise AlmaError("402469", f"The library code is not valid: {library}.")
    if queue.upper() not in ("ALL", "TRUE", "FALSE"):
        raise AlmaError("40166410", f"Invalid parameter: printout_queue={queue}.")
    items = [
        _printer_json(ctx, p)
        for p in ctx.store.printers.values()
        if (library == "ALL" or p.get("library") == library)
        and (queue.upper() == "ALL" or bool(p.get("printout_queue")) == (queue.upper() == "TRUE"))
        and (name == "ALL" or p["name"] == name)
        and (code == "ALL" or p["code"] == code)
    ]
    return Reply(paged("printer", items, ctx.args), root="printers")


def get_printer(ctx: Ctx) -> Reply:
    printer = ctx.store.printers.get(ctx.params["printer_id"])
    if printer is None:
        raise AlmaError("402899", f"Invalid Printer ID: {ctx.params['printer_id']}.")
    return Reply(_printer_json(ctx, printer), root="printer")


def _date_arg(ctx: Ctx, name: str, default: dt.date) -> dt.date:
    raw = ctx.arg(name)
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise AlmaError(
            "40166411", f"An error has occurred in setting from and/or to dates: {name}={raw}."
        ) from None


def _fee_window(ctx: Ctx) -> tuple[str, str]:
    today = dt.datetime.fromtimestamp(ctx.clock(), dt.UTC).date()
    start = _date_arg(ctx, "transaction_from_date", today)
    end = _date_arg(ctx, "transaction_to_date", start)
    # "Limit of 7 days period": strict, at most 7 calendar days counting both ends.
    if end < start or (end - start).days > 6:
        raise AlmaError(
            "40166411", "An error has occurred in setting from and/or to dates: at most 7 days."
        )
    return start.isoformat(), end.isoformat()


def list_fees(ctx: Ctx) -> Reply:
    start, end = _fee_window(ctx)
    kind = ctx.arg("transaction_type", "BOTH").upper()
    if kind not in ("BOTH", *labels.FEE_TRANSACTION_TYPES):
        raise AlmaError("40166419", f"An error has occurred in setting transaction type: {kind}.")
    library, desk = ctx.arg("received_by_circ_library"), ctx.arg("received_by_circ_desk")
    if (desk and not library) or (library and library not in ctx.store.libraries):
        raise AlmaError("40166410", "An error has occurred in setting circ library or circ desk.")
    owner = ctx.arg("owner")
    items = []
    for fee in ctx.store.fees:
        transactions = [
            t
            for t in fee.get("transactions", [])
            if start <= plain_date(t["date"]) <= end
            and (kind == "BOTH" or t["type"] == kind)
            and (not library or t.get("library") == library)
            and (not desk or t.get("circ_desk") == desk)
        ]
        if transactions and (not owner or fee.get("owner") == owner):
            items.append(_fee_json(ctx, fee, transactions))
    return Reply(paged("fee", items, ctx.args), root="fees")


def _fee_json(ctx: Ctx, fee: Record, transactions: list[Record]) -> JsonDict:
    libs = ctx.store.libraries
    owner = fee.get("owner", "")
    return {
        "id": fee["id"],
        "type": vd(fee.get("type", "OVERDUEFINE"), labels.FEE_TYPES),
        "user_primary_id": {
            "value": fee.get("user", ""),
            "link": ctx.link(f"/users/{seg(fee.get('user', ''))}"),
        },
        "owner": vd(owner, desc=libs[owner]["name"] if owner in libs else None),
        "original_amount": fee.get("amount", 0.0),
        "balance": fee.get("balance", 0.0),
        "transaction": [
            {
                "type": vd(t["type"], labels.FEE_TRANSACTION_TYPES),
                "amount": t.get("amount", 0.0),
                "transaction_time": plain_date(t["date"]) + "T12:00:00.000Z",
                "received_by": vd(t.get("library", ""), desc=None),
                "circ_desk": t.get("circ_desk", ""),
            }
            for t in transactions
        ],
    }


def run_workflow(ctx: Ctx) -> Reply:
    workflow_id = ctx.params["workflow_id"]
    test = flag(ctx.args.get("test"), "test", False)
    workflow = ctx.store.workflows.get(workflow_id)
    if workflow is None:
        raise AlmaError("450001", f"Workflow not found: {workflow_id}.")
    if not workflow.get("trigger", True):
        raise AlmaError("450003", "Workflow missing trigger node.")
    if test and not workflow.get("listening", False):
        raise AlmaError(
            "450004",
            "Workflow missing trigger configuration.  In test mode, this could mean the node"
            " is not listening for events.",
        )
    if not test and not workflow.get("active", True):
        raise AlmaError("450002", "Workflow inactive.")
    run = {
        "id": ctx.store.new_id(),
        "workflow_id": workflow_id,
        "test": test,
        "payload": ctx.body(),
    }
    ctx.store.workflow_runs.append(run)
    body = {
        "execution_id": run["id"],
        "workflow_id": workflow_id,
        "mode": "TEST" if test else "PRODUCTION",
        "status": "TRIGGERED",
    }
    return Reply(body, root="workflow_run")


ROUTES = [
    Route("GET", "/conf/general", get_general),
    Route("GET", "/conf/test", key_test),
    Route("POST", "/conf/test", key_test),
    Route("GET", "/conf/departments", list_departments),
    Route("GET", "/conf/printers", list_printers),
    Route("GET", "/conf/printers/{printer_id}", get_printer),
    Route("GET", "/conf/utilities/fee-transactions", list_fees),
    Route("POST", "/conf/workflows/{workflow_id}", run_workflow),
]
