"""The city office's dashboard (figures per county) and the approvals waiting for it.

The dashboard reads the cases API's `GET /v1/statistics` for today, this week and this quarter, the open
overdue cases of `GET /v1/cases` counted by county and stage, and the chart of the latest report of each kind
(`GET /v1/reports`, the PNG passed through). The approvals are the pending extension requests of
`GET /v1/extension-requests`, each approved (`POST /v1/cases/{id}/extension-requests/approval`) or refused
with a reason (`…/refusal`)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import texts
from services.console.clients import NotFound, Refused, TokenExpired, service_get, service_send
from services.console.pdfs import CSV, XLSX, table_through
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

router = APIRouter()

CITY_OFFICE = "city_office"
NAV = [
    NavItem("/city", "全市概况", frozenset({CITY_OFFICE})),
    NavItem("/city/approvals", "延期审批", frozenset({CITY_OFFICE})),
]

PERIODS = {"daily": "今日", "weekly": "本周", "quarterly": "本季度"}
# The statistics' figures the dashboard shows, in its order (the API's names → the clerk's words).
FIGURES = {
    "clues_received": "收到线索",
    "accepted": "受理",
    "resolved": "办结",
    "resolved_on_time": "按时办结",
    "on_time_rate": "按时办结率",
    "amount_recovered": "追回金额（元）",
    "workers_helped": "惠及工人",
    "handoffs_overdue": "交办超期",
}
LEVELS = {"county": "区县", "city": "全市"}
# The overdue count reads at most this many open overdue cases (the API's largest page).
OVERDUE_PAGE = 200


def _not_found(request: Request, session: Session) -> HTMLResponse:
    return page(request, "city_office/not_found.html", {"session": session}, 404)


def _rate(value: Any) -> str:
    return "—" if value in (None, "") else f"{float(value) * 100:.1f}%"


def _figure_rows(rows: list[dict[str, Any]], county: str) -> list[dict[str, Any]]:
    shown = [r for r in rows if not county or (r.get("level") == "county" and r.get("area") == county)]
    return [
        {
            "area": r.get("area"),
            "level": LEVELS.get(r.get("level", ""), r.get("level")),
            "cells": [_rate(r.get(name)) if name == "on_time_rate" else r.get(name, "—") for name in FIGURES],
        }
        for r in shown
    ]


@router.get("/city", response_class=HTMLResponse)
async def dashboard(request: Request, session: Annotated[Session, Depends(signed_in)], county: str = "") -> Response:
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    console = console_of(request)
    county = county.strip() if county.strip().isdigit() else ""
    base = console.cases_url
    periods = []
    for period, name in PERIODS.items():
        figures = await service_get(console.client, f"{base}/v1/statistics", session.token, {"period": period})
        periods.append({"name": name, "label": figures.get("label"), "rows": _figure_rows(figures["rows"], county)})
    overdue_params = {"status": "open", "overdue": "true", "limit": str(OVERDUE_PAGE)}
    if county:
        overdue_params["county"] = county
    overdue = await service_get(console.client, f"{base}/v1/cases", session.token, overdue_params)
    by_stage = Counter((c.get("county", "—"), texts.stage_name(c.get("stage"))) for c in overdue["items"])
    charts = []
    for period, name in PERIODS.items():
        listed = await service_get(console.client, f"{base}/v1/reports", session.token, {"kind": period, "limit": "1"})
        for report in listed["items"]:
            charts.append(
                {
                    "name": name,
                    "report_id": report["report_id"],
                    "start": report["period_start"],
                    "end": report["period_end"],
                }
            )
    return page(
        request,
        "city_office/dashboard.html",
        {
            "session": session,
            "county": county,
            "figure_names": list(FIGURES.values()),
            "periods": periods,
            "overdue": sorted(by_stage.items()),
            "overdue_capped": bool(overdue.get("next_cursor")),
            "charts": charts,
        },
    )


@router.get("/city/reports/{report_id}/chart.png")
async def report_chart(request: Request, report_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    console = console_of(request)
    url = f"{console.cases_url}/v1/reports/{quote(report_id, safe='')}/chart.png"
    answer = await console.client.get(url, headers={"Authorization": f"Bearer {session.token}"})
    if answer.status_code == 404:
        return _not_found(request, session)
    if answer.status_code == 401:
        raise TokenExpired(url)
    answer.raise_for_status()
    return Response(answer.content, media_type="image/png")


@router.get("/city/reports/{report_id}.{fmt}")
async def report_table(
    request: Request, report_id: str, fmt: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    """A report's table as CSV (with the byte order mark Excel needs) or as an Excel workbook."""
    media_type = {"csv": CSV, "xlsx": XLSX}.get(fmt)
    if session.role != CITY_OFFICE or media_type is None:
        return _not_found(request, session)
    console = console_of(request)
    url = f"{console.cases_url}/v1/reports/{quote(report_id, safe='')}.{fmt}"
    return await table_through(
        console.client, url, session.token, f"{report_id}.{fmt}", media_type, lambda: _not_found(request, session)
    )


# --- approvals ---------------------------------------------------------------------------------------------


async def _approvals_page(
    request: Request,
    session: Session,
    *,
    error: str | None = None,
    failed_case: str = "",
    failed_decision: str = "",
    field_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    console = console_of(request)
    listed = await service_get(
        console.client, f"{console.cases_url}/v1/extension-requests", session.token, {"status": "pending"}
    )
    today = datetime.now(texts.CHINA).date()
    rows = [
        {
            **r,
            "row": texts.queue_row(r, today, console.calendar),
            "key": uuid.uuid4().hex,
            "refusal_key": uuid.uuid4().hex,
            "requested_on": str(r.get("created_at", ""))[:10],
        }
        for r in listed["items"]
    ]
    return page(
        request,
        "city_office/approvals.html",
        {
            "session": session,
            "rows": rows,
            "error": error,
            "failed_case": failed_case,
            "failed_decision": failed_decision,
            "field_errors": field_errors or {},
            "approved": request.query_params.get("approved", ""),
            "refused": request.query_params.get("refused", ""),
        },
        status_code,
    )


@router.get("/city/approvals", response_class=HTMLResponse)
async def approvals(request: Request, session: Annotated[Session, Depends(signed_in)]) -> Response:
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    return await _approvals_page(request, session)


async def _decide(
    request: Request,
    session: Session,
    case_id: str,
    decision: str,
    *,
    csrf: str,
    key: str,
    process_case_id: str,
    reason: str,
) -> Response:
    """Approve (`approval`) or refuse (`refusal`) the case's pending extension request, back to the list."""
    if not session.csrf_matches(csrf):
        return csrf_refused()
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    console = console_of(request)
    body = {k: v for k, v in (("reason", reason.strip()), ("process_case_id", process_case_id.strip())) if v}
    try:
        await service_send(
            console.client,
            "POST",
            f"{console.cases_url}/v1/cases/{quote(case_id, safe='')}/extension-requests/{decision}",
            session.token,
            json=body,
            idempotency_key=key,
        )
    except NotFound:
        return _not_found(request, session)
    except Refused as refused:
        return await _approvals_page(
            request,
            session,
            error=refused.message,
            failed_case=case_id,
            failed_decision=decision,
            field_errors=refused.field_errors,
            status_code=refused.status,
        )
    done = "approved" if decision == "approval" else "refused"
    return RedirectResponse(f"/city/approvals?{done}={quote(case_id, safe='')}", status_code=303)


@router.post("/city/approvals/{case_id}")
async def approve(
    request: Request,
    case_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    process_case_id: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return await _decide(
        request, session, case_id, "approval", csrf=csrf, key=key, process_case_id=process_case_id, reason=reason
    )


@router.post("/city/approvals/{case_id}/refusal")
async def refuse(
    request: Request,
    case_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    process_case_id: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return await _decide(
        request, session, case_id, "refusal", csrf=csrf, key=key, process_case_id=process_case_id, reason=reason
    )
