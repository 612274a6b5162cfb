"""A case's page: figures, complaints without identities, deadlines with their countdown and the timeline in
plain Chinese (its actions: pages/case_actions.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from services.console import texts
from services.console.clients import NotFound, service_get
from services.console.sessions import Session
from services.console.web import NavItem, console_of, page, signed_in

router = APIRouter()
NAV: list[NavItem] = []

OUTCOMES = {"met": "已按期完成", "expired": "已逾期", "superseded": "已变更"}


def _deadline_list(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        raw = list(raw.values())
    return [d for d in raw or [] if isinstance(d, dict)]


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    console = console_of(request)
    base = f"{console.cases_url}/v1/cases/{quote(case_id, safe='')}"
    try:
        case = await service_get(console.client, base, session.token)
        timeline = await service_get(console.client, f"{base}/timeline", session.token)
    except NotFound:
        # Missing, or another county's: the same page either way, as the API answers the same 404.
        return page(request, "not_found.html", {"session": session}, 404)
    today = datetime.now(texts.CHINA).date()
    deadlines = [
        {"name": texts.deadline_name(d.get("name", "")), "due_date": d.get("due_date", "—"),
         "countdown": texts.countdown(texts.working_days_left(d.get("due_at"), today, console.calendar))
         if d.get("outcome", "pending") == "pending" else OUTCOMES.get(d["outcome"], ""),
         "overdue": d.get("outcome") == "expired"}
        for d in _deadline_list(case.get("deadlines"))
    ]
    return page(request, "case.html", {
        "session": session, "case": case, "row": texts.queue_row(case, today, console.calendar),
        "complaints": [{**c, "stage_name": texts.complaint_stage_name(c.get("stage"))} for c in case.get("complaints", [])],
        "deadlines": deadlines, "events": timeline.get("events", []),
        "status_name": texts.STATUSES.get(case.get("status", ""), case.get("status", "")),
    })
