"""An inspector's registers: the call-backs due in the person's county (the cases API's complaints at the stage
`callback`, each linking to its case page, where the call-back form is), and the county's construction sites
(intake's) with their QR posters and a form to register one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import texts
from services.console.clients import NotFound, Refused, TokenExpired, service_get, service_send
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

router = APIRouter()
NAV = [
    NavItem("/callbacks", "待回访", frozenset({"county_inspector", "bureau_head"})),
    NavItem("/sites", "工地登记", frozenset({"county_inspector", "intake_clerk"})),
]

# Why a complaint was closed, as the call-back's caller says it (services/contracts/lifecycle/enums.py).
CLOSURE_REASONS = {
    "paid_in_full": "已足额支付",
    "rejected": "不予受理",
    "forwarded": "已转送",
    "information_not_supplied": "未按期补正",
    "unfounded": "投诉不实",
    "duplicate": "重复投诉",
    "withdrawn": "已撤回",
    "already_paid": "已支付",
    "handed_off": "部门已办结",
    "referred_to_arbitration": "已转仲裁",
    "referred_to_police": "已移送公安",
    "administrative_decision": "已作出行政处理决定",
    "merged": "已并案",
    "no_arrears_found": "核查未发现欠薪",  # an early-warning case's; a complaint joining as it closed carries it
}
SITE_FIELDS = (
    "site_id",
    "name",
    "county_code",
    "address",
    "owner_name",
    "owner_credit_code",
    "general_contractor",
    "general_contractor_credit_code",
)
POSTER_TYPES = {"pdf": "application/pdf", "png": "image/png"}


def _callback_due(complaint: dict[str, Any]) -> Any:
    """The pending call-back deadline's moment, else any pending one's (None when the complaint has none)."""
    raw = complaint.get("deadlines") or []
    pending = [
        d
        for d in (raw.values() if isinstance(raw, dict) else raw)
        if isinstance(d, dict) and d.get("outcome", "pending") == "pending" and d.get("due_at")
    ]
    chosen = next((d for d in pending if "callback" in str(d.get("name", ""))), pending[0] if pending else None)
    return chosen["due_at"] if chosen else None


def _callback_row(complaint: dict[str, Any], today: Any, calendar: Any) -> dict[str, Any]:
    due = _callback_due(complaint)
    days = texts.working_days_left(due, today, calendar)
    closed = complaint.get("closed_at")
    return {
        "complaint_id": complaint["complaint_id"],
        "case_id": complaint["case_id"],
        "reason": CLOSURE_REASONS.get(complaint.get("closure_reason") or "", complaint.get("closure_reason") or "—"),
        "closed_on": texts.legal_date(closed).isoformat() if closed else "—",
        "workers": complaint.get("workers_affected"),
        "amount_owed": complaint.get("amount_owed") or "—",
        "due_date": texts.legal_date(due).isoformat() if due else "—",
        "countdown": texts.countdown(days),
        "overdue": bool(complaint.get("overdue")) or (days is not None and days < 0),
    }


@router.get("/callbacks", response_class=HTMLResponse)
async def callbacks(request: Request, session: Annotated[Session, Depends(signed_in)]) -> Response:
    console = console_of(request)
    try:
        listed = await service_get(
            console.client, f"{console.cases_url}/v1/complaints", session.token, {"stage": "callback", "limit": "200"}
        )
    except Refused:
        return page(request, "registers/not_allowed.html", {"session": session}, 404)
    today = datetime.now(texts.CHINA).date()
    rows = [_callback_row(c, today, console.calendar) for c in listed["items"]]
    return page(request, "registers/callbacks.html", {"session": session, "rows": rows, "capped": len(rows) >= 200})


def _blank_site(session: Session) -> dict[str, str]:
    return {name: "" for name in SITE_FIELDS} | {"county_code": session.county or ""}


async def _sites_page(
    request: Request,
    session: Session,
    *,
    cursor: str = "",
    form: dict[str, str] | None = None,
    refused: Refused | None = None,
    done: str = "",
) -> Response:
    console = console_of(request)
    params = {"limit": "50", **({"cursor": cursor[:500]} if cursor else {})}
    try:
        listed = await service_get(console.client, f"{console.intake_url}/v1/sites", session.token, params)
    except Refused:
        return page(request, "registers/not_allowed.html", {"session": session}, 404)
    return page(
        request,
        "registers/sites.html",
        {
            "session": session,
            "sites": listed["items"],
            "next_cursor": listed.get("next_cursor"),
            "done": done,
            "form": form or _blank_site(session),
            "key": str(uuid.uuid4()),
            "error": refused.message if refused else "",
            "field_errors": refused.field_errors if refused else {},
        },
        422 if refused else 200,
    )


@router.get("/sites", response_class=HTMLResponse)
async def sites(
    request: Request, session: Annotated[Session, Depends(signed_in)], cursor: str = "", done: str = ""
) -> Response:
    return await _sites_page(request, session, cursor=cursor, done=done)


@router.post("/sites", response_class=HTMLResponse)
async def register_site(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
    site_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    county_code: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    owner_name: Annotated[str, Form()] = "",
    owner_credit_code: Annotated[str, Form()] = "",
    general_contractor: Annotated[str, Form()] = "",
    general_contractor_credit_code: Annotated[str, Form()] = "",
) -> Response:
    if not session.csrf_matches(csrf):
        return csrf_refused()
    form = {
        "site_id": site_id.strip(),
        "name": name.strip(),
        "county_code": county_code.strip(),
        "address": address.strip(),
        "owner_name": owner_name.strip(),
        "owner_credit_code": owner_credit_code.strip(),
        "general_contractor": general_contractor.strip(),
        "general_contractor_credit_code": general_contractor_credit_code.strip(),
    }
    # Optional fields left empty are not sent (the API takes them as absent, not as empty names).
    body = {
        field: value for field, value in form.items() if value or field in ("site_id", "name", "county_code", "address")
    }
    if not form["site_id"]:
        # No id, no address to send it to: said on the form as the API says its own messages.
        missing = Refused(
            422, {"detail": "请填写工地编号。", "errors": [{"field": "site_id", "message": "请填写工地编号。"}]}
        )
        return await _sites_page(request, session, form=form, refused=missing)
    console = console_of(request)
    try:
        await service_send(
            console.client,
            "PUT",
            f"{console.intake_url}/v1/sites/{quote(form['site_id'], safe='')}",
            session.token,
            json=body,
            idempotency_key=key or None,
        )
    except (Refused, NotFound) as refused:
        problem = refused if isinstance(refused, Refused) else Refused(404, {"detail": "工地编号无效。"})
        return await _sites_page(request, session, form=form, refused=problem)
    return RedirectResponse(f"/sites?done={quote(form['site_id'], safe='')}", status_code=303)


@router.get("/sites/{site_id}/poster.{fmt}")
async def site_poster(
    request: Request, site_id: str, fmt: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    """The site's QR poster as intake renders it, passed through: intake's address need not be the browser's."""
    if fmt not in POSTER_TYPES:
        return page(request, "registers/not_allowed.html", {"session": session}, 404)
    console = console_of(request)
    url = f"{console.intake_url}/v1/sites/{quote(site_id, safe='')}/poster.{fmt}"
    answer = await console.client.get(url, headers={"Authorization": f"Bearer {session.token}"})
    if answer.status_code == 404:
        return page(request, "registers/not_allowed.html", {"session": session}, 404)
    if answer.status_code == 401:
        raise TokenExpired(url)
    answer.raise_for_status()
    disposition = f'attachment; filename="poster-{quote(site_id, safe="")}.{fmt}"'
    return Response(answer.content, media_type=POSTER_TYPES[fmt], headers={"Content-Disposition": disposition})
