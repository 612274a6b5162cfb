"""The city office's decisions on blacklist listings (失信名单): employers' statements to review (陈述申辩复核)
and early-removal applications (信用修复) to grant or refuse.

The page reads the sanctions API with the person's own token: the listings under review
(`GET /v1/listings?stage=review`) with the employer's statements (`GET /v1/listings/{id}/statements`, in clear
and audited by the sanctions service), and the listings with an application waiting
(`GET /v1/listings?pending_application=true`) with the application's facts (`GET /v1/listings/{id}`). A review
keeps the employer on the way to the list or accepts the defence (`POST /v1/listings/{id}/review`); an
application is granted or refused with a reason (`POST /v1/listings/{id}/early-removal-applications/{app}/decision`).
Each form carries its own idempotency key, so a form sent twice acts once. Another role, or a listing that does
not exist, gets the not-found page."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.clients import NotFound, Refused, service_get, service_send
from services.console.pages.cases import LISTING_GROUNDS
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

router = APIRouter()

CITY_OFFICE = "city_office"
LISTINGS = "/city/listings"
NAV = [NavItem(LISTINGS, "列入审查", frozenset({CITY_OFFICE}))]

# The sanctions API's largest page; more waiting than this is said so on the page.
WAITING_PAGE = 200
# A grant needs a reason in the API; the clerk may leave it to this.
GRANT_REASON = "已足额支付拖欠工资、满六个月并作出信用承诺，准予提前移出失信名单"
# The review's two outcomes and the application's two decisions: the form's value → the API's boolean.
REVIEWS = {"list": True, "accept": False}
DECISIONS = {"grant": True, "refuse": False}
# What the page confirms after a decision (the query parameter of the redirect → the words).
CONFIRMATIONS = {
    "maintained": "已复核 {}：申辩理由不成立，维持列入。",
    "accepted": "已复核 {}：采纳申辩，不予列入。",
    "granted": "已准予 {} 提前移出失信名单（信用修复）。",
    "refused": "已不予准许 {} 的信用修复申请。",
}


def _not_found(request: Request, session: Session) -> HTMLResponse:
    return page(request, "listings/not_found.html", {"session": session}, 404)


def _day(value: Any) -> str:
    return str(value)[:10] if value else "—"


def _instant(value: Any) -> str:
    return str(value)[:16].replace("T", " ") if value else "—"


def _facts(listing: dict[str, Any]) -> dict[str, Any]:
    """What the clerk reads of a listing before deciding, in the page's words."""
    ground = listing.get("ground") or ""
    return {
        "listing_id": listing["listing_id"],
        "case_id": listing.get("case_id"),
        "county": listing.get("county"),
        "employer": listing.get("employer_name") or listing.get("employer_ref") or "—",
        "credit_code": listing.get("credit_code") or "—",
        "project": listing.get("project_name") or "—",
        "ground": LISTING_GROUNDS.get(ground, ground or "—"),
        "basis": listing.get("basis") or "—",
        "amount": listing.get("amount") or "—",
        "proposed_on": _day(listing.get("proposed_at")),
        "defence_due": _day(listing.get("defence_due_date")),
        "decision_number": listing.get("decision_number") or "—",
        "listed_on": _day(listing.get("listed_on")),
        "expires_on": _day(listing.get("expires_on")),
        "amount_corrected": listing.get("amount_corrected") or "—",
        "paid_in_full_on": _day(listing.get("paid_in_full_on")),
        "possible_from": _day(listing.get("early_removal_possible_from")),
    }


async def _review(request: Request, session: Session, listing_id: str) -> dict[str, Any] | None:
    """A listing under review with its statements, or None when it is reviewed already (the review is
    recorded at once; the listing's stage follows when its process reports) or gone."""
    console = console_of(request)
    url = f"{console.sanctions_url}/v1/listings/{quote(listing_id, safe='')}"
    try:
        view, statements = await asyncio.gather(
            service_get(console.client, url, session.token),
            service_get(console.client, f"{url}/statements", session.token),
        )
    except NotFound:
        return None
    if view.get("stage") != "review" or any(a.get("kind") == "review" for a in view.get("actions") or []):
        return None
    return {
        **_facts(view),
        "list_key": uuid.uuid4().hex,
        "accept_key": uuid.uuid4().hex,
        "statements": [
            {"text": s.get("text", ""), "received": _instant(s.get("received_at"))}
            for s in statements.get("statements") or []
        ],
    }


async def _application(
    request: Request, session: Session, listing_id: str, application_id: str
) -> dict[str, Any] | None:
    """A listing with its application waiting, or None when it is decided already (the decision is recorded
    at once; the listing follows when its process reports) or gone."""
    console = console_of(request)
    try:
        view = await service_get(
            console.client, f"{console.sanctions_url}/v1/listings/{quote(listing_id, safe='')}", session.token
        )
    except NotFound:
        return None
    applications = view.get("early_removal_applications") or []
    waiting = next((a for a in applications if a.get("application_id") == application_id), None)
    if waiting is None or waiting.get("status") != "pending":
        return None
    earlier = [
        {"applied": _instant(a.get("applied_at")), "reasons": a.get("refusal_reasons") or []}
        for a in applications
        if a.get("status") == "refused"
    ]
    return {
        **_facts(view),
        "application_id": application_id,
        "pledge_ref": waiting.get("pledge_ref"),
        "payment_proof_ref": waiting.get("payment_proof_ref"),
        "recorded_by": waiting.get("recorded_by"),
        "applied": _instant(waiting.get("applied_at")),
        "refusal_reasons": waiting.get("refusal_reasons") or [],
        "earlier": earlier,
        "grant_key": uuid.uuid4().hex,
        "refuse_key": uuid.uuid4().hex,
    }


async def _decisions_page(
    request: Request,
    session: Session,
    *,
    error: str | None = None,
    failed: str = "",
    failed_form: str = "",
    field_errors: dict[str, str] | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Response:
    console = console_of(request)
    base = f"{console.sanctions_url}/v1/listings"
    in_review, waiting = await asyncio.gather(
        service_get(console.client, base, session.token, {"stage": "review", "limit": str(WAITING_PAGE)}),
        service_get(console.client, base, session.token, {"pending_application": "true", "limit": str(WAITING_PAGE)}),
    )
    reviews = await asyncio.gather(*(_review(request, session, r["listing_id"]) for r in in_review["items"]))
    applications = await asyncio.gather(
        *(
            _application(request, session, r["listing_id"], r["pending_application"])
            for r in waiting["items"]
            if r.get("pending_application")
        )
    )
    confirmations = [
        text.format(request.query_params[name])
        for name, text in CONFIRMATIONS.items()
        if request.query_params.get(name)
    ]
    return page(
        request,
        "listings/decisions.html",
        {
            "session": session,
            "reviews": [r for r in reviews if r],
            "applications": [a for a in applications if a],
            "capped": len(in_review["items"]) >= WAITING_PAGE or len(waiting["items"]) >= WAITING_PAGE,
            "waiting_page": WAITING_PAGE,
            "confirmations": confirmations,
            "error": error,
            "failed": failed,
            "failed_form": failed_form,
            "field_errors": field_errors or {},
            "reason": reason,
        },
        status_code,
    )


@router.get(LISTINGS, response_class=HTMLResponse)
async def decisions(request: Request, session: Annotated[Session, Depends(signed_in)]) -> Response:
    if session.role != CITY_OFFICE:
        return _not_found(request, session)
    return await _decisions_page(request, session)


async def _send(
    request: Request,
    session: Session,
    path: str,
    body: dict[str, Any],
    *,
    key: str,
    listing_id: str,
    form: str,
    done: str,
) -> Response:
    """Send the decision to the sanctions API; back to the page with a confirmation, or the page again with the
    API's message at the listing's form."""
    console = console_of(request)
    try:
        await service_send(
            console.client,
            "POST",
            f"{console.sanctions_url}{path}",
            session.token,
            json=body,
            idempotency_key=key or None,
        )
    except NotFound:
        return _not_found(request, session)
    except Refused as refused:
        return await _decisions_page(
            request,
            session,
            error=refused.message,
            failed=listing_id,
            failed_form=form,
            field_errors=refused.field_errors,
            reason=body.get("reason", ""),
            status_code=refused.status,
        )
    return RedirectResponse(f"{LISTINGS}?{done}={quote(listing_id, safe='')}", status_code=303)


@router.post(f"{LISTINGS}/{{listing_id}}/review")
async def review(
    request: Request,
    listing_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    outcome: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The review of the employer's statement: keep the listing (`list`) or accept the defence (`accept`)."""
    if not session.csrf_matches(csrf):
        return csrf_refused()
    if session.role != CITY_OFFICE or outcome not in REVIEWS:
        return _not_found(request, session)
    list_employer = REVIEWS[outcome]
    return await _send(
        request,
        session,
        f"/v1/listings/{quote(listing_id, safe='')}/review",
        {"list_employer": list_employer, "reason": reason.strip()},
        key=key,
        listing_id=listing_id,
        form=outcome,
        done="maintained" if list_employer else "accepted",
    )


@router.post(f"{LISTINGS}/{{listing_id}}/applications/{{application_id}}/decision")
async def decide_application(
    request: Request,
    listing_id: str,
    application_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    decision: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Grant (`grant`, the reason may be left to the usual words) or refuse (`refuse`, a reason needed) an
    early-removal application."""
    if not session.csrf_matches(csrf):
        return csrf_refused()
    if session.role != CITY_OFFICE or decision not in DECISIONS:
        return _not_found(request, session)
    grant = DECISIONS[decision]
    reason = reason.strip() or (GRANT_REASON if grant else "")
    path = (
        f"/v1/listings/{quote(listing_id, safe='')}/early-removal-applications/"
        f"{quote(application_id, safe='')}/decision"
    )
    return await _send(
        request,
        session,
        path,
        {"grant": grant, "reason": reason},
        key=key,
        listing_id=listing_id,
        form=decision,
        done="granted" if grant else "refused",
    )
