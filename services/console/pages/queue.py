"""The inspector's queue: the open cases of the person's scope, sorted by next deadline, with the working days
left as a countdown and overdue rows in red; a filter by stage, and the API's cursor for the next page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from services.console import texts
from services.console.clients import service_get
from services.console.sessions import Session
from services.console.web import NavItem, console_of, page, signed_in

router = APIRouter()
NAV = [NavItem("/queue", "案件队列")]


@router.get("/queue", response_class=HTMLResponse)
async def queue(request: Request, session: Annotated[Session, Depends(signed_in)], stage: str = "",
                cursor: str = "") -> Response:
    console = console_of(request)
    params = {"status": "open", "sort": "next_deadline", "limit": "50"}
    if stage in texts.STAGES:
        params["stage"] = stage
    if cursor:
        params["cursor"] = cursor
    listed = await service_get(console.client, f"{console.cases_url}/v1/cases", session.token, params)
    today = datetime.now(texts.CHINA).date()
    rows = [texts.queue_row(case, today, console.calendar) for case in listed["items"]]
    next_page = (f"/queue?stage={quote(stage)}&cursor={quote(listed['next_cursor'])}"
                 if listed.get("next_cursor") else None)
    return page(request, "queue.html", {"session": session, "rows": rows, "stage": stage, "next_page": next_page})
