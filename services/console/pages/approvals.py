"""The city office's approvals beyond extensions: the quarterly list of major violations (重大违法行为社会公布).

The page reads the sanctions API's `GET /v1/publication-lists` (drafted and published lists) with the person's
own token; a quarter is drafted (or redrafted while still a draft) by `POST /v1/publication-lists` and a draft
approved and published by `POST /v1/publication-lists/{id}/approval`. Both routes are the city office's only
and are idempotent by the list's state (a published list stays as published), so the forms carry no
Idempotency-Key. Another role, or a list that does not exist, gets the same not-found page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.clients import NotFound, Refused, service_get, service_send
from services.console.pdfs import XLSX, table_through
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

router = APIRouter()

CITY_OFFICE = "city_office"
PUBLICATION = "/approvals/publication"
NAV = [NavItem(PUBLICATION, "重大违法公布审批", frozenset({CITY_OFFICE}))]

STATUS_NAMES = {"draft": "待审批", "published": "已公布"}


def _not_found(request: Request, session: Session) -> HTMLResponse:
    return page(request, "approvals/not_found.html", {"session": session}, 404)


def _list_row(listed: dict[str, Any]) -> dict[str, Any]:
    entries = listed.get("entries") or []
    return {
        **listed,
        "status_name": STATUS_NAMES.get(listed.get("status", ""), listed.get("status")),
        "entries": entries,
        "drafted_on": str(listed.get("drafted_at") or "")[:10],
        "published_on": str(listed.get("published_at") or "")[:10],
    }


async def _publication_page(
    request: Request,
    session: Session,
    *,
    error: str | None = None,
    failed_list: str = "",
    field_errors: dict[str, str] | None = None,
    quarter: str = "",
    status_code: int = 200,
) -> Response:
    console = console_of(request)
    listed = await service_get(console.client, f"{console.sanctions_url}/v1/publication-lists", session.token)
    rows = [_list_row(item) for item in listed["items"]]
    drafts = [r for r in rows if r.get("status") == "draft"]
    return page(
        request,
        "approvals/publication.html",
        {
            "session": session,
            "drafts": drafts,
            "draft_ids": [r.get("list_id") for r in drafts],
            "published": [r for r in rows if r.get("status") == "published"],
            "error": error,
            "failed_list": failed_list,
            "field_errors": field_errors or {},
            "quarter": quarter,
            "drafted": request.query_params.get("drafted", ""),
            "approved": request.query_params.get("approved", ""),
        },
        status_code,
    )


@router.get(PUBLICATION, response_class=HTMLResponse)
async def publication(request: Request, session: Annotated[Session, Depends(signed_in)]) -> Response:
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    return await _publication_page(request, session)


@router.get(f"{PUBLICATION}/{{list_id}}.xlsx")
async def list_workbook(request: Request, list_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    """A drafted or published list as an Excel workbook, for the office's review."""
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    console = console_of(request)
    return await table_through(
        console.client,
        f"{console.sanctions_url}/v1/publication-lists/{quote(list_id, safe='')}.xlsx",
        session.token,
        f"{list_id}.xlsx",
        XLSX,
        lambda: _not_found(request, session),
    )


@router.post(f"{PUBLICATION}/drafts")
async def draft_quarter(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    quarter: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Draft (or redraft) a quarter's list now, rather than waiting for the quarterly schedule."""
    if not session.csrf_matches(csrf):
        return csrf_refused()
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    console = console_of(request)
    quarter = quarter.strip().upper()
    try:
        drafted = await service_send(
            console.client,
            "POST",
            f"{console.sanctions_url}/v1/publication-lists",
            session.token,
            json={"quarter": quarter},
        )
    except NotFound:
        return _not_found(request, session)
    except Refused as refused:
        return await _publication_page(
            request,
            session,
            error=refused.message,
            failed_list="draft",
            field_errors=refused.field_errors,
            quarter=quarter,
            status_code=refused.status,
        )
    return RedirectResponse(
        f"{PUBLICATION}?drafted={quote(str(drafted.get('list_id', quarter)), safe='')}", status_code=303
    )


@router.post(f"{PUBLICATION}/{{list_id}}/approval")
async def approve_list(
    request: Request, list_id: str, session: Annotated[Session, Depends(signed_in)], csrf: Annotated[str, Form()] = ""
) -> Response:
    """Approve a drafted list: the sanctions service publishes it (record, PDF, HTML, event)."""
    if not session.csrf_matches(csrf):
        return csrf_refused()
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    console = console_of(request)
    try:
        await service_send(
            console.client,
            "POST",
            f"{console.sanctions_url}/v1/publication-lists/{quote(list_id, safe='')}/approval",
            session.token,
        )
    except NotFound:
        return _not_found(request, session)
    except Refused as refused:
        return await _publication_page(
            request,
            session,
            error=refused.message,
            failed_list=list_id,
            field_errors=refused.field_errors,
            status_code=refused.status,
        )
    return RedirectResponse(f"{PUBLICATION}?approved={quote(list_id, safe='')}", status_code=303)
