"""HTTP routes of the cases service's figures: `/v1/statistics` (a day, week or quarter, by county and city, as
JSON, CSV or a workbook), `/v1/reports` (produced by the schedules or on request, with their CSV, workbook and
chart) and, for the public without a token, `/v1/public/statistics` (each county's resolved-on-time figures
for a quarter). What the routers share is in `api.py`."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from services.cases import domain, periods, record_store, report_figures, reports
from services.cases.api import CITY, READERS, _Body
from services.common.auth import Principal
from services.common.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_for_excel, download, xlsx
from services.common.openapi import file_responses
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem

router = APIRouter(prefix="/v1")


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
        rows, next_cursor = await record_store.list_reports(conn, kind, limit, cursor)
    return {"items": rows, "next_cursor": next_cursor}


async def _report(request: Request, report_id: str) -> dict[str, Any]:
    async with request.app.state.pool.connection() as conn:
        report = await record_store.get_report(conn, report_id)
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
