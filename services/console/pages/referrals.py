"""A referral's page (移送, `/referrals/<id>`): the referral and its letters, and for the body it was sent to (the
police, the procuratorate, arbitration or legal aid), its decision as a form, named as that body names it (立案,
同意提前介入, 受理, 受理并指派 and their refusals). The decision is sent on to the referrals API with the person's
token; a refused one shows the API's message on the page. The inbox and what this page shares with a
handoff's are in pages/agencies.py."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.clients import NotFound, Refused, service_get, service_send
from services.console.pages.agencies import letter_list, not_found_page, referral_row
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

if TYPE_CHECKING:
    from services.console.app import Console

router = APIRouter()
NAV: list[NavItem] = []

DECLINE_REASONS = {
    "insufficient_evidence": "证据不足",
    "below_threshold": "未达立案标准",
    "paid_before_case_opened": "立案前已全额支付",
    "not_competent": "不属于本机关管辖",
    "other": "其他",
}
# What acceptance and refusal are called by each receiving body.
DECISIONS = {
    "police": {"accepted": "立案", "declined": "不予立案"},
    "procuratorate": {"accepted": "同意提前介入", "declined": "不予介入"},
    "arbitration": {"accepted": "受理", "declined": "不予受理"},
    "legal_aid": {"accepted": "受理并指派", "declined": "不予受理"},
}


def _referral_url(console: Console, referral_id: str) -> str:
    return f"{console.referrals_url}/v1/referrals/{quote(referral_id, safe='')}"


async def _referral_page(
    request: Request,
    session: Session,
    referral_id: str,
    *,
    error: str | None = None,
    field_errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    console = console_of(request)
    try:
        referral = await service_get(console.client, _referral_url(console, referral_id), session.token)
    except NotFound:
        return not_found_page(request, session)
    target = referral.get("target", "")
    return page(
        request,
        "agencies/referral.html",
        {
            "session": session,
            "referral": referral_row(referral, console),
            "letters": letter_list(referral.get("letters") or []),
            "decisions": DECISIONS.get(target, DECISIONS["arbitration"]),
            "decline_reasons": DECLINE_REASONS,
            "may_decide": session.role == target and referral.get("status") == "sent",
            "needs_assignee": target == "legal_aid",
            "error": error,
            "field_errors": field_errors or {},
            "form": form or {},
            "key": uuid.uuid4().hex,
        },
        status_code,
    )


@router.get("/referrals/{referral_id}", response_class=HTMLResponse)
async def referral_page(
    request: Request, referral_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    return await _referral_page(request, session, referral_id)


@router.post("/referrals/{referral_id}/decision")
async def decide(
    request: Request,
    referral_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    decision: Annotated[str, Form(max_length=20)] = "",
    decision_ref: Annotated[str, Form(max_length=100)] = "",
    decline_reason: Annotated[str, Form(max_length=40)] = "",
    reasons: Annotated[str, Form(max_length=4000)] = "",
    assigned_to: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not session.csrf_matches(csrf):
        return csrf_refused()
    form = {
        "decision": decision,
        "decision_ref": decision_ref,
        "decline_reason": decline_reason,
        "reasons": reasons,
        "assigned_to": assigned_to,
    }
    body: dict[str, str] = {"decision": decision}
    for name in ("decision_ref", "decline_reason", "reasons", "assigned_to"):
        if form[name].strip():
            body[name] = form[name].strip()
    console = console_of(request)
    try:
        await service_send(
            console.client,
            "POST",
            f"{_referral_url(console, referral_id)}/decision",
            session.token,
            json=body,
            idempotency_key=key,
        )
    except NotFound:
        return not_found_page(request, session)
    except Refused as refused:
        return await _referral_page(
            request,
            session,
            referral_id,
            error=refused.message,
            field_errors=refused.field_errors,
            form=form,
            status_code=refused.status,
        )
    return RedirectResponse(f"/referrals/{quote(referral_id, safe='')}", status_code=303)
