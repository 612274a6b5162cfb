"""HTTP routes of the cases service: thin, HTTP in, domain call, store, workflow call out.

- `/v1/notices`, `/v1/forwardings`, `/v1/orders`, `/v1/compensation-decisions`, `/v1/process-reports`:
  what the lifecycle's activities ask for or report, idempotent by `Idempotency-Key`.
- `/v1/complaints/{id}/...` and `/v1/cases/{id}/...`: inspector actions, answered at once (their routes:
  services/cases/action_api.py).
- `/v1/cases`, `/v1/cases/{id}`, `/v1/cases/{id}/timeline`: the ledger, its queue and timelines;
  `/v1/extension-requests`: the extension requests waiting for the city office (or decided).
- `/v1/cases/{id}/documents`, `/v1/documents/{id}.pdf`: the case's orders, compensation decisions and notices,
  and each one as a PDF.
- `/v1/statistics`, `/v1/reports`: figures, CSV and charts.
- `/v1/public/statistics`: the public, without a token: each county's resolved-on-time figures for a quarter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from services.cases import documents_pdf, domain, periods, report_figures, reports, store, views
from services.cases.actions import Cases
from services.cases.settings import CasesSettings
from services.common.auth import LIFECYCLE_CALLER, Principal, Role, require_roles
from services.common.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_for_excel, download, xlsx
from services.common.openapi import (
    CREATED_OR_REPEATED,
    created_or_repeated,
    file_responses,
    idempotency_key,
)
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.contracts.lifecycle import (
    AgencyNotice,
    CompensationRequest,
    ForwardRequest,
    OrderToPayRequest,
)
from services.contracts.process_reports import ProcessReport

router = APIRouter(prefix="/v1")

READERS = require_roles(*domain.READ_ROLES)
ACTORS = require_roles(*domain.ACT_ROLES)
CITY = require_roles(Role.city_office)
BUREAU_HEAD = require_roles(Role.bureau_head)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def cases(request: Request) -> Cases:
    return request.app.state.cases  # type: ignore[no-any-return]


async def once(
    request: Request, key: str | None, principal: Principal, act: Callable[[Cases], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """An inspector action; with an Idempotency-Key this client already used for this request, the answer it got
    the first time (services/common/commands.py, `ActionLog`)."""
    commands = cases(request)
    repeated = await commands.repeated_action(principal, key)
    return repeated if repeated is not None else await act(commands)


# --- the lifecycle's requests --------------------------------------------------------------------------


@router.post(
    "/notices",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Record a notice to an office (reminder, overdue, warning)",
)
async def post_notice(request: Request, notice: AgencyNotice, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).notice(idempotency_key(key), notice))


@router.post(
    "/process-reports",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Record a workflow's state as it reported it (one report per change)",
)
async def post_process_report(request: Request, body: ProcessReport, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).process_report(idempotency_key(key), body))


@router.post(
    "/forwardings",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Forward a complaint to the competent office (转送)",
)
async def post_forwarding(request: Request, body: ForwardRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).forwarding(idempotency_key(key), body))


@router.post(
    "/orders",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Issue an order to pay by a deadline (限期改正指令书)",
)
async def post_order(request: Request, body: OrderToPayRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).order(idempotency_key(key), body))


@router.post(
    "/compensation-decisions",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Decide additional compensation (加付赔偿金)",
)
async def post_compensation(request: Request, body: CompensationRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).compensation(idempotency_key(key), body))


# --- inspector actions -----------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the ledger -------------------------------------------------------------------------------------------


def _case_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    for name in ("amount_claimed", "amount_verified", "amount_recovered"):
        if view.get(name) is not None:
            view[name] = str(view[name])
    return view


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters and order, in the caller's scope; `filters` None: nothing the caller may see."""

    filters: store.QueueFilter | None
    sort: QueueSort


QueueSort = Literal["next_deadline", "received_at", "amount_claimed"]


def queue_query(
    county: str | None = None,
    stage: Annotated[str | None, Query(description="One of " + ", ".join(domain.LEDGER_STAGES))] = None,
    status: Literal["open", "closed"] | None = None,
    overdue: bool | None = None,
    due_within_days: Annotated[int | None, Query(ge=0, le=366)] = None,
    employer: Annotated[
        str | None, Query(max_length=200, description="Employer ref, credit code or part of its name")
    ] = None,
    inspector: str | None = None,
    classification: str | None = None,
    awaiting: Annotated[
        store.Awaiting | None,
        Query(
            description="Cases with an open process waiting for: the case team's referral report, the bureau head's "
            "decision on it or on a proposed withdrawal, new totals, or a provisional deadline's date."
        ),
    ] = None,
    sort: QueueSort = "next_deadline",
    principal: Principal = READERS,
) -> QueueQuery:
    """The queue's query parameters (the list and its XLSX export take the same)."""
    if stage is not None and stage not in domain.LEDGER_STAGES:
        raise Problem(422, "Unknown stage", f"stage must be one of {', '.join(domain.LEDGER_STAGES)}")
    scope = domain.county_scope(principal)
    if scope is not None:
        if county is not None and county != scope:
            return QueueQuery(None, sort)
        county = scope
    return QueueQuery(
        store.QueueFilter(
            county=county,
            stage=stage,
            status=status,
            overdue=overdue,
            due_within_days=due_within_days,
            employer=employer,
            inspector=inspector,
            classification=classification,
            awaiting=awaiting,
        ),
        sort,
    )


@router.get("/cases", tags=["ledger"], summary="The queue: cases filtered, sorted by next deadline, paged by cursor")
async def list_cases(
    request: Request, query: Annotated[QueueQuery, Depends(queue_query)], limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    if query.filters is None:
        return {"items": [], "next_cursor": None}
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await store.list_cases(conn, query.filters, sort=query.sort, limit=limit, after=cursor)
    return {"items": [_case_view(r) for r in rows], "next_cursor": next_cursor}


@router.get(
    "/cases/{case_id}", tags=["ledger"], summary="One case: figures, stage, deadlines, complaints (no personal data)"
)
async def get_case(request: Request, case_id: str, principal: Principal = READERS) -> dict[str, Any]:
    case = await cases(request).visible_case(principal, case_id)
    async with request.app.state.pool.connection() as conn:
        complaints = await store.case_complaints(conn, case["case_id"])
        processes = await store.case_processes(conn, case["case_id"])
        extensions = await store.case_extension_requests(conn, case["case_id"])
    complaints = [views.with_suggestion(c) for c in complaints]
    for c in complaints:
        c["amount_owed"] = str(c["amount_owed"])
    for p in processes:
        if p["amount_verified"] is not None:
            p["amount_verified"] = str(p["amount_verified"])
    view = _case_view(case)
    if case_id != case["case_id"]:
        view["requested_id"] = case_id
    return {
        **view,
        "complaints": complaints,
        "processes": processes,
        "extension_requests": extensions,
        "parked": views.parked_processes(complaints, processes),
    }


@router.get(
    "/complaints/{complaint_id}",
    tags=["ledger"],
    response_model=views.ComplaintView,
    summary="Where a complaint stands in the ledger, and its case",
)
async def get_complaint(request: Request, complaint_id: str, principal: Principal = READERS) -> dict[str, Any]:
    return views.with_suggestion(await cases(request).visible_complaint(principal, complaint_id))


@router.get(
    "/complaints",
    tags=["ledger"],
    summary="Complaints at a stage in the person's county (callback: the call-backs due), longest waiting first",
)
async def list_complaints(
    request: Request,
    stage: Literal["awaiting_acceptance", "awaiting_information", "in_case", "callback", "done"],
    county: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    scope = domain.county_scope(principal)
    if scope is not None:
        if county is not None and county != scope:
            return {"items": [], "next_cursor": None}
        county = scope
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await store.complaints_at_stage(conn, stage, county, limit, cursor)
    return {"items": [{**row, "amount_owed": str(row["amount_owed"])} for row in rows], "next_cursor": next_cursor}


@router.get("/cases/{case_id}/timeline", tags=["ledger"], summary="Every event of the case, in order")
async def get_timeline(request: Request, case_id: str, principal: Principal = READERS) -> dict[str, Any]:
    case = await cases(request).visible_case(principal, case_id)
    async with request.app.state.pool.connection() as conn:
        events = await store.timeline(conn, case["case_id"])
    return {"case_id": case["case_id"], "events": events}


@router.get(
    "/cases/{case_id}/documents",
    tags=["ledger"],
    summary="The case's orders to pay, compensation decisions and notices, oldest first",
)
async def list_case_documents(request: Request, case_id: str, principal: Principal = READERS) -> dict[str, Any]:
    case = await cases(request).visible_case(principal, case_id)
    async with request.app.state.pool.connection() as conn:
        rows = await store.case_documents(conn, case["case_id"])
    return {
        "case_id": case["case_id"],
        "documents": [
            {
                "document_id": r["document_id"],
                "kind": r["kind"],
                "title": documents_pdf.title_of(r["kind"], r["request"]),
                "created_at": r["created_at"],
                "pdf_url": f"/v1/documents/{r['document_id']}.pdf",
            }
            for r in rows
        ],
    }


@router.get(
    "/documents/{document_id}.pdf",
    tags=["ledger"],
    summary="A case's order, compensation decision or notice as PDF (the case's scope; the same 404 outside it)",
    response_class=Response,
    responses=file_responses("application/pdf"),
)
async def get_document_pdf(request: Request, document_id: str, principal: Principal = READERS) -> Response:
    async with request.app.state.pool.connection() as conn:
        document = await store.get_case_document(conn, document_id)
    if document is None or document["county"] is None or not domain.may_see(principal, document["county"]):
        raise Problem(404, "No such document", f"document {document_id} was not found in your scope")
    settings = request.app.state.settings
    issuer = (
        settings.document_issuer
        if isinstance(settings, CasesSettings)
        else CasesSettings.model_fields["document_issuer"].default
    )
    content = documents_pdf.compose(document, issuer=issuer, employer_name=document["employer_name"])
    # Rendering (font subsetting) takes a fraction of a second of CPU: off the event loop.
    pdf = await asyncio.to_thread(documents_pdf.render_pdf, content, created=document["created_at"])
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{document_id}.pdf"',
            # It names an employer and its arrears: for the reader, not for a shared computer's cache.
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/extension-requests",
    tags=["ledger"],
    summary="Extension requests by status (pending: the city office's approvals waiting), oldest first",
)
async def list_extension_requests(
    request: Request,
    status: Literal["pending", "approved", "refused", "failed"] = "pending",
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await store.extension_requests(
            conn, status=status, county=domain.county_scope(principal), limit=limit, cursor=cursor
        )
    return {"items": rows, "next_cursor": next_cursor}


# --- statistics and reports ---------------------------------------------------------------------------------


@router.get(
    "/statistics",
    tags=["reports"],
    summary="Figures for a day, week or quarter, by county and city",
    responses=file_responses("text/csv", XLSX_MEDIA_TYPE),
)  # or JSON, the default
async def statistics(
    request: Request,
    period: Literal["daily", "weekly", "quarterly"] = "quarterly",
    label: Annotated[str | None, Query(description="2026-11-28, 2026-W48 or 2026-Q4; default: the current one")] = None,
    format: Literal["json", "csv", "xlsx"] = "json",
    principal: Principal = READERS,
) -> Any:
    try:
        chosen = (
            periods.parse_period(period, label)
            if label
            else periods.period_containing(period, domain.legal_date(datetime.now(UTC)))
        )
    except ValueError as exc:
        raise Problem(422, "Invalid period", str(exc)) from None
    scope = domain.county_scope(principal)
    async with request.app.state.pool.connection() as conn:
        figures = await reports.figures(conn, chosen, scope)
    if format == "csv":
        return download(
            csv_for_excel(report_figures.report_csv(chosen, figures["rows"])),
            f"anxin-{chosen.label}.csv",
            CSV_MEDIA_TYPE,
        )
    if format == "xlsx":
        return download(report_xlsx(chosen.label, figures["rows"]), f"anxin-{chosen.label}.xlsx", XLSX_MEDIA_TYPE)
    return figures


class ReportOrder(_Body):
    kind: Literal["daily", "weekly", "quarterly"]
    period: str = Field(description="2026-11-28, 2026-W48 or 2026-Q4")


@router.post("/reports", tags=["reports"], status_code=201, summary="Produce a report now (city office)")
async def produce_report(request: Request, body: ReportOrder, principal: Principal = CITY) -> dict[str, Any]:
    try:
        chosen = periods.parse_period(body.kind, body.period)
    except ValueError as exc:
        raise Problem(422, "Invalid period", str(exc)) from None
    return await reports.produce(request.app.state.pool, chosen)


@router.get("/reports", tags=["reports"], summary="Reports produced (by the schedules or on request)")
async def list_reports(
    request: Request,
    kind: Literal["daily", "weekly", "quarterly"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await store.list_reports(conn, kind, limit, cursor)
    return {"items": rows, "next_cursor": next_cursor}


async def _report(request: Request, report_id: str) -> dict[str, Any]:
    async with request.app.state.pool.connection() as conn:
        report = await store.get_report(conn, report_id)
    if report is None:
        raise Problem(404, "No such report", f"report {report_id} has not been produced")
    return report


def report_xlsx(label: str, rows: list[dict[str, Any]]) -> bytes:
    return xlsx(f"欠薪线索办理情况 {label}", report_figures.REPORT_HEADERS, report_figures.report_table(label, rows))


# Declared before `/reports/{report_id}`, which would otherwise take the `.csv` suffix into the id.
@router.get(
    "/reports/{report_id}.csv",
    tags=["reports"],
    summary="A report as CSV (city office)",
    response_class=Response,
    responses=file_responses("text/csv"),
)
async def get_report_csv(request: Request, report_id: str, principal: Principal = CITY) -> Response:
    report = await _report(request, report_id)
    return download(csv_for_excel(report["csv"]), f"{report_id}.csv", CSV_MEDIA_TYPE)


@router.get(
    "/reports/{report_id}.xlsx",
    tags=["reports"],
    summary="A report as an Excel workbook (city office)",
    response_class=Response,
    responses=file_responses(XLSX_MEDIA_TYPE),
)
async def get_report_xlsx(request: Request, report_id: str, principal: Principal = CITY) -> Response:
    report = await _report(request, report_id)
    figures = report["figures"]
    return download(report_xlsx(figures.get("label", report_id), figures["rows"]), f"{report_id}.xlsx", XLSX_MEDIA_TYPE)


@router.get(
    "/reports/{report_id}/chart.png",
    tags=["reports"],
    summary="A report's chart (PNG, city office)",
    response_class=Response,
    responses=file_responses("image/png"),
)
async def get_report_chart(request: Request, report_id: str, principal: Principal = CITY) -> Response:
    report = await _report(request, report_id)
    if not report["chart_png"]:
        raise Problem(404, "No chart", f"report {report_id} has no chart")
    return Response(bytes(report["chart_png"]), media_type="image/png")


@router.get("/reports/{report_id}", tags=["reports"], summary="A report's figures (JSON)")
async def get_report(request: Request, report_id: str, principal: Principal = READERS) -> dict[str, Any]:
    report = await _report(request, report_id)
    figures = report["figures"]
    scope = domain.county_scope(principal)
    if scope is not None:
        rows = [r for r in figures["rows"] if r["level"] == "county" and r["area"] == scope]
        empty = {"level": "county", "area": scope, **report_figures.Figures().as_dict()}
        figures = {**figures, "rows": rows or [empty]}
    return {
        "report_id": report["report_id"],
        "kind": report["kind"],
        "period_start": report["period_start"],
        "period_end": report["period_end"],
        "produced_at": report["produced_at"],
        **figures,
        "csv_url": f"/v1/reports/{report_id}.csv",
        "chart_url": f"/v1/reports/{report_id}/chart.png",
    }


# --- the public ------------------------------------------------------------------------------------------------

# What the transparency page publishes: counts and the on-time rate per area, nothing about a case or a person.
PUBLIC_FIGURES = ("accepted", "resolved", "resolved_on_time", "on_time_rate")
# An anonymous caller is answered from a copy at most this old: however many ask, a process counts a quarter
# once a minute (the public's other routes are rate limited; this one costs one count per minute instead).
PUBLIC_ANSWER_SECONDS = 60.0


@router.get(
    "/public/statistics",
    tags=["public"],
    summary="Each county's accepted, resolved and resolved-on-time complaints for a quarter (no token)",
)
async def public_statistics(
    request: Request,
    quarter: Annotated[
        str | None, Query(pattern=r"^20\d{2}-Q[1-4]$", description="2026-Q3; default: the last complete quarter")
    ] = None,
) -> JSONResponse:
    today = domain.legal_date(datetime.now(UTC))
    chosen = periods.parse_period("quarterly", quarter) if quarter else periods.previous_period("quarterly", today)
    if chosen.start > today:
        raise Problem(422, "Invalid period", f"quarter {chosen.label} has not begun")
    kept: dict[str, tuple[float, dict[str, Any]]] = request.app.state.__dict__.setdefault("public_statistics", {})
    now = time.monotonic()
    copy = kept.get(chosen.label)
    if copy is None or now - copy[0] > PUBLIC_ANSWER_SECONDS:
        async with request.app.state.pool.connection() as conn:
            figures = await reports.figures(conn, chosen)
        rows = [{"level": r["level"], "area": r["area"], **{f: r[f] for f in PUBLIC_FIGURES}} for r in figures["rows"]]
        copy = (now, {"label": chosen.label, "start": figures["start"], "end": figures["end"], "rows": rows})
        kept[chosen.label] = copy
    return JSONResponse(copy[1], headers={"Cache-Control": f"public, max-age={int(PUBLIC_ANSWER_SECONDS)}"})
