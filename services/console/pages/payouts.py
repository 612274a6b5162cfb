"""Paying workers from the project's wage deposit or the county's emergency fund (动用工资保证金 / 应急周转金先行垫付)
as the monitoring service keeps it: the payouts the cases asked for, filtered by county, stage and source and
paged by the API's cursor; a payout's page with the money it moved and, per role and stage, its forms — the city
office's approval or refusal (with its reason), the bank's payment date, the general contractor's top-ups of a
deposit, the employer's repayments of an advance, and the city office's write-off of an advance that can no
longer be recovered (核销).

Everything is read and sent with the person's own token (`GET /v1/payouts`, `GET /v1/payouts/{id}`,
`POST /v1/payouts/{id}/decision|payment|top-ups|recoveries|write-off`), so the service's scope rules decide: a county's
people their county's payouts, the city office all. Each form carries its own idempotency key (the service's
Update id: sent twice, recorded once). A refusal — a deposit or fund that does not cover the amount, a payout
decided already — shows the page again with the service's own message at that form."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import texts
from services.console.clients import NotFound, Refused, service_get, service_send
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

router = APIRouter()

CITY_OFFICE = "city_office"
# The monitoring API's keepers of payouts: a county's inspectors and bureau head, the city office.
KEEPERS = frozenset({"county_inspector", "bureau_head", CITY_OFFICE})
NAV = [NavItem("/payouts", "垫付与保证金", KEEPERS)]

# What the payout's page says after a form went through (`?done=`).
DONE = {
    "approved": "已批准：保证金已动用或周转金已垫付，等待银行支付。",
    "refused": "已决定不予动用。",
    "paid": "银行支付日期已记录。",
    "topped_up": "保证金补足已记录。",
    "recovered": "追回垫付款已记录。",
    "written_off": "已核销：剩余垫付款计为周转金损失，不再催告追偿。",
}
PAGE_SIZE = "50"


def _not_found(request: Request, session: Session) -> HTMLResponse:
    return page(request, "payouts/not_found.html", {"session": session}, 404)


def payout_row(payout: dict[str, Any]) -> dict[str, Any]:
    """A payout with its Chinese names, for the list and the page."""
    return {
        **payout,
        "source_name": texts.PAYOUT_SOURCES.get(payout.get("source", ""), payout.get("source", "")),
        "stage_name": texts.PAYOUT_STAGES.get(payout.get("stage", ""), payout.get("stage", "")),
        "requested_on": str(payout.get("requested_at") or "")[:10] or "—",
    }


def forms_for(role: str, payout: dict[str, Any]) -> list[str]:
    """The forms the payout's page offers the person: the city office decides a requested payout; the city office
    or the payout's county (the service checks the county) record the bank's payment of an approved one; once
    paid, the deposit's top-ups or the advance's recoveries while anything is outstanding — and, for an advance,
    the city office's write-off of what is left."""
    stage, outstanding = payout.get("stage"), str(payout.get("outstanding") or "0")
    forms: list[str] = []
    if role not in KEEPERS:
        return forms
    if stage == "requested" and role == CITY_OFFICE:
        forms.append("decision")
    if stage == "approved":
        forms.append("payment")
    if stage == "paid" and outstanding not in ("0", "0.00"):
        forms.append("top_up" if payout.get("source") == "deposit" else "recovery")
        if payout.get("source") == "emergency_fund" and role == CITY_OFFICE:
            forms.append("write_off")
    return forms


@router.get("/payouts", response_class=HTMLResponse)
async def payouts(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    county: str = "",
    stage: str = "",
    source: str = "",
    cursor: str = "",
) -> Response:
    if session.role not in KEEPERS:
        return _not_found(request, session)
    filters = {
        "county": county.strip()[:6] if county.strip().isdigit() else "",
        "stage": stage if stage in texts.PAYOUT_STAGES else "",
        "source": source if source in texts.PAYOUT_SOURCES else "",
    }
    chosen = {k: v for k, v in filters.items() if v}
    console = console_of(request)
    params = {"limit": PAGE_SIZE, **chosen, **({"cursor": cursor[:500]} if cursor else {})}
    listed = await service_get(console.client, f"{console.monitoring_url}/v1/payouts", session.token, params)
    next_cursor = listed.get("next_cursor")
    return page(
        request,
        "payouts/list.html",
        {
            "session": session,
            "rows": [payout_row(p) for p in listed["items"]],
            "filters": filters,
            "stages": texts.PAYOUT_STAGES,
            "sources": texts.PAYOUT_SOURCES,
            "next_page": f"/payouts?{urlencode({**chosen, 'cursor': next_cursor})}" if next_cursor else "",
        },
    )


async def _payout_page(
    request: Request, session: Session, payout_id: str, *, refusal: dict[str, Any] | None = None, status: int = 200
) -> Response:
    if session.role not in KEEPERS:
        return _not_found(request, session)
    console = console_of(request)
    url = f"{console.monitoring_url}/v1/payouts/{quote(payout_id, safe='')}"
    try:
        payout = await service_get(console.client, url, session.token)
    except NotFound:
        return _not_found(request, session)
    movements = [
        {**m, "kind_name": texts.MOVEMENT_KINDS.get(m.get("kind", ""), m.get("kind", ""))}
        for m in payout.get("movements", [])
    ]
    return page(
        request,
        "payouts/payout.html",
        {
            "session": session,
            "payout": payout_row(payout),
            "movements": movements,
            "forms": forms_for(session.role, payout),
            "keys": {
                name: uuid.uuid4().hex for name in ("approve", "refuse", "payment", "top_up", "recovery", "write_off")
            },
            "write_off_bases": texts.WRITE_OFF_BASES,
            "refusal": refusal,
            "done": DONE.get(request.query_params.get("done", ""), ""),
        },
        status,
    )


@router.get("/payouts/{payout_id}", response_class=HTMLResponse)
async def payout_page(request: Request, payout_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    return await _payout_page(request, session, payout_id)


async def _act(
    request: Request,
    session: Session,
    payout_id: str,
    *,
    form: str,
    tail: str,
    body: dict[str, Any],
    csrf: str,
    key: str,
    done: str,
) -> Response:
    """Send one of the payout's actions with the form's key; 303 back to the payout, or its page again with the
    service's message at the form (what was typed kept)."""
    if not session.csrf_matches(csrf):
        return csrf_refused()
    if session.role not in KEEPERS:
        return _not_found(request, session)
    console = console_of(request)
    url = f"{console.monitoring_url}/v1/payouts/{quote(payout_id, safe='')}/{tail}"
    try:
        await service_send(console.client, "POST", url, session.token, json=body, idempotency_key=key or None)
    except NotFound:
        return _not_found(request, session)
    except Refused as refused:
        sent = {k: str(v) for k, v in body.items() if v is not None}
        refusal = {"form": form, "message": refused.message, "fields": refused.field_errors, "sent": sent}
        return await _payout_page(request, session, payout_id, refusal=refusal, status=refused.status)
    return RedirectResponse(f"/payouts/{quote(payout_id, safe='')}?done={done}", status_code=303)


Text = Annotated[str, Form(max_length=1000)]
Key = Annotated[str, Form(max_length=64)]


@router.post("/payouts/{payout_id}/decision", response_class=HTMLResponse)
async def decide(
    request: Request,
    payout_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Key = "",
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Text = "",
) -> Response:
    """The city office's decision: `approve` (the deposit drawn or the advance made) or `refuse` with a reason."""
    body = {"decision": decision, "reason": reason.strip() or None}
    done = "approved" if decision == "approve" else "refused"
    form = "approve" if decision == "approve" else "refuse"
    return await _act(request, session, payout_id, form=form, tail="decision", body=body, csrf=csrf, key=key, done=done)


@router.post("/payouts/{payout_id}/payment", response_class=HTMLResponse)
async def payment(
    request: Request,
    payout_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Key = "",
    paid_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    body = {"paid_on": paid_on.strip()}
    return await _act(
        request, session, payout_id, form="payment", tail="payment", body=body, csrf=csrf, key=key, done="paid"
    )


@router.post("/payouts/{payout_id}/top-ups", response_class=HTMLResponse)
async def top_up(
    request: Request,
    payout_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Key = "",
    topped_up_on: Annotated[str, Form(max_length=10)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A top-up of the deposit the payout drew; no amount: all that is outstanding."""
    body = {"topped_up_on": topped_up_on.strip(), "amount": amount.strip() or None}
    return await _act(
        request, session, payout_id, form="top_up", tail="top-ups", body=body, csrf=csrf, key=key, done="topped_up"
    )


@router.post("/payouts/{payout_id}/recoveries", response_class=HTMLResponse)
async def recovery(
    request: Request,
    payout_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Key = "",
    recovered_on: Annotated[str, Form(max_length=10)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    body = {"recovered_on": recovered_on.strip(), "amount": amount.strip()}
    return await _act(
        request,
        session,
        payout_id,
        form="recovery",
        tail="recoveries",
        body=body,
        csrf=csrf,
        key=key,
        done="recovered",
    )


@router.post("/payouts/{payout_id}/write-off", response_class=HTMLResponse)
async def write_off(
    request: Request,
    payout_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Key = "",
    basis: Annotated[str, Form(max_length=40)] = "",
    reason: Text = "",
) -> Response:
    """The city office writes off what is left of an advance (the service refuses anyone else, and a payout that
    is not an advance paid out with something owed)."""
    body = {"basis": basis, "reason": reason.strip()}
    return await _act(
        request,
        session,
        payout_id,
        form="write_off",
        tail="write-off",
        body=body,
        csrf=csrf,
        key=key,
        done="written_off",
    )
