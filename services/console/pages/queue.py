"""The inspector's queue: the open cases of the person's scope, sorted by next deadline, with the working days
left as a countdown and overdue rows in red; filters by stage, classification, kind (a complaint's case or an
early warning's), employer, assignee and overdue,
kept in the URL (the next page's link and the table's periodic refresh keep them), and the API's cursor for the
next page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from services.console import texts
from services.console.clients import service_get
from services.console.pdfs import XLSX, table_through
from services.console.sessions import Session
from services.console.web import NavItem, console_of, page, signed_in

router = APIRouter()
# The case queue is the inspectors', bureau heads' and the city office's work (the cases API lists cases to them
# only; a window clerk registers complaints and sites, and lands on the site register).
NAV = [NavItem("/queue", "案件队列", frozenset({"county_inspector", "bureau_head", "city_office"}))]

# The tracks a verified case follows (services/contracts/lifecycle/enums.py `Classification`).
CLASSIFICATIONS = {
    "wage_arrears": "拖欠工资",
    "non_wage_dispute": "非工资类（移交部门）",
    "arbitration": "劳动争议（仲裁）",
    "no_violation": "无违法事实",
    "administrative": "程序性办结",
}
# What a case may wait for a person to do (the cases API's `awaiting` filter).
AWAITING = {
    "referral_report": "待提交移送报告",
    "referral_decision": "待负责人审批移送",
    "withdrawal_decision": "待审批撤回移送",
    "figures": "待重新确认金额与人数",
    "deadline_confirmation": "待确认暂定期限",
}
MINE = "mine"


def _filters(
    stage: str, classification: str, employer: str, assignee: str, overdue: str, awaiting: str = "", kind: str = ""
) -> dict[str, str]:
    """The filters as the page's URL keeps them: only the ones set, and only values the page offers."""
    chosen = {
        "stage": stage if stage in texts.STAGES else "",
        "classification": classification if classification in CLASSIFICATIONS else "",
        "awaiting": awaiting if awaiting in AWAITING else "",
        "kind": kind if kind in texts.CASE_KINDS else "",
        "employer": employer.strip()[:200],
        "assignee": MINE if assignee == MINE else "",
        "overdue": "1" if overdue else "",
    }
    return {name: value for name, value in chosen.items() if value}


def _api_params(filters: dict[str, str], session: Session, cursor: str) -> dict[str, str]:
    params = {"status": "open", "sort": "next_deadline", "limit": "50"}
    for name in ("stage", "classification", "employer", "awaiting", "kind"):
        if name in filters:
            params[name] = filters[name]
    if filters.get("assignee") == MINE:
        # The cases API names an assigned person as its tokens name them.
        params["inspector"] = f"person:{session.person_id}"
    if "overdue" in filters:
        params["overdue"] = "true"
    if cursor:
        params["cursor"] = cursor
    return params


def _queue_url(filters: dict[str, str], cursor: str = "") -> str:
    query = urlencode({**filters, **({"cursor": cursor} if cursor else {})})
    return "/queue" + (f"?{query}" if query else "")


@router.get("/queue.xlsx")
async def queue_workbook(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    stage: str = "",
    classification: str = "",
    employer: str = "",
    assignee: str = "",
    overdue: str = "",
    awaiting: str = "",
    kind: str = "",
) -> Response:
    """The queue with its filters as an Excel workbook (the cases API's `GET /v1/cases.xlsx`)."""
    console = console_of(request)
    filters = _filters(stage, classification, employer, assignee, overdue, awaiting, kind)
    params = {k: v for k, v in _api_params(filters, session, "").items() if k != "limit"}
    return await table_through(
        console.client,
        f"{console.cases_url}/v1/cases.xlsx",
        session.token,
        "案件队列.xlsx",
        XLSX,
        lambda: page(request, "not_found.html", {"session": session}, 404),
        params,
    )


@router.get("/queue", response_class=HTMLResponse)
async def queue(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    stage: str = "",
    classification: str = "",
    employer: str = "",
    assignee: str = "",
    overdue: str = "",
    awaiting: str = "",
    kind: str = "",
    cursor: str = "",
) -> Response:
    console = console_of(request)
    filters = _filters(stage, classification, employer, assignee, overdue, awaiting, kind)
    listed = await service_get(
        console.client, f"{console.cases_url}/v1/cases", session.token, _api_params(filters, session, cursor)
    )
    today = datetime.now(texts.CHINA).date()
    rows = [texts.queue_row(case, today, console.calendar) for case in listed["items"]]
    next_page = _queue_url(filters, listed["next_cursor"]) if listed.get("next_cursor") else None
    return page(
        request,
        "queue.html",
        {
            "session": session,
            "rows": rows,
            "filters": filters,
            "classifications": CLASSIFICATIONS,
            "awaiting_names": AWAITING,
            "kind_names": texts.CASE_KINDS,
            "next_page": next_page,
            "refresh_url": _queue_url(filters, cursor),
            "workbook_url": "/queue.xlsx" + (f"?{urlencode(filters)}" if filters else ""),
        },
    )
