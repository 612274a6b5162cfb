"""A case's page: figures, complaints without identities, deadlines with their countdown, the timeline in plain
Chinese, the case's letters and documents (opened as PDFs through the console), its referrals and its blacklist
listings (its actions: pages/case_actions.py).

The orders to pay, compensation decisions and notices are the cases service's, the letters and referrals the
referrals service's, the listings and their documents the sanctions service's, each read with the person's own
token, so those services' scope rules decide what is shown. A service that does not answer leaves its part of
the page saying so; the rest of the case is still shown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from services.console import texts
from services.console.clients import NotFound, Refused, service_get
from services.console.pages.agencies import LETTER_KINDS, REFERRAL_STATUSES
from services.console.pages.referrals import DECISIONS, DECLINE_REASONS
from services.console.pdfs import pdf_through
from services.console.sessions import Session
from services.console.web import NavItem, console_of, page, signed_in

router = APIRouter()
NAV: list[NavItem] = []

OUTCOMES = {"met": "已按期完成", "expired": "已逾期", "superseded": "已变更"}
REFERRAL_TARGETS = {
    "police": "公安机关",
    "procuratorate": "检察院",
    "arbitration": "劳动人事争议仲裁院",
    "legal_aid": "法律援助中心",
}
LISTING_STAGES = {
    "notice": "事先告知",
    "defence": "陈述申辩期",
    "review": "申辩复核",
    "listed": "已列入失信名单",
    "not_listed": "不予列入",
    "removed": "已移出",
}
LISTING_GROUNDS = {"criminal_threshold": "拒不支付且达到刑事立案标准", "mass_incident": "引发群体性或极端事件"}
REFERRAL_REPORT = "case.referral_report_submitted"
# The sanctions API lists a scope's listings newest first, without a case filter: the case's are among these.
LISTINGS_READ = 200


def deadline_list(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        raw = list(raw.values())
    return [d for d in raw or [] if isinstance(d, dict)]


def _not_found(request: Request, session: Session) -> HTMLResponse:
    # Missing, or another county's: the same page either way, as the APIs answer the same 404.
    return page(request, "not_found.html", {"session": session}, 404)


async def _part(call: Awaitable[Any]) -> tuple[Any, str | None]:
    """A part of the page from another service: its answer, or what the page says instead. A role the service
    does not answer (403) sees nothing of the part; a service down or failing, that it cannot be read now."""
    try:
        return await call, None
    except (NotFound, Refused):
        return None, "hidden"
    except httpx.HTTPError:
        return None, "unavailable"


def _referral_row(row: dict[str, Any]) -> dict[str, Any]:
    target = row.get("target", "")
    decision = DECISIONS.get(target, DECISIONS["arbitration"]).get(row.get("decision") or "", "")
    return {
        **row,
        "target_name": REFERRAL_TARGETS.get(target, target),
        "status_name": REFERRAL_STATUSES.get(row.get("status", ""), row.get("status", "")),
        "decision_name": decision,
        "decline_reason_name": DECLINE_REASONS.get(row.get("decline_reason") or "", ""),
    }


def _listing_row(row: dict[str, Any]) -> dict[str, Any]:
    documents = [
        (kind, row[field])
        for kind, field in (("事先告知书", "notice_document_id"), ("决定书", "decision_document_id"))
        if row.get(field)
    ]
    return {
        **row,
        "stage_name": LISTING_STAGES.get(row.get("stage", ""), row.get("stage", "")),
        "ground_name": LISTING_GROUNDS.get(row.get("ground") or "", row.get("ground") or "—"),
        "documents": [{"kind_name": kind, "document_id": doc} for kind, doc in documents],
    }


def _document_row(row: dict[str, Any]) -> dict[str, Any]:
    created = row.get("created_at")
    issued_on = datetime.fromisoformat(created).astimezone(texts.CHINA).date().isoformat() if created else "—"
    return {**row, "issued_on": issued_on}


def _warning_row(row: dict[str, Any]) -> dict[str, Any]:
    """An early warning behind the case (the monitoring service's monthly check of its project)."""
    return {
        **row,
        "check_name": texts.WARNING_CHECKS.get(row.get("check") or "", row.get("check") or "—"),
        "level_name": texts.WARNING_LEVELS.get(row.get("level") or "", row.get("level") or "—"),
        "resolution_name": texts.WARNING_RESOLUTIONS.get(row.get("resolution") or "", "未解除"),
    }


def _payout_row(row: dict[str, Any]) -> dict[str, Any]:
    """A payout of the case as the cases service's ledger keeps it (from the monitoring service's events)."""
    return {
        **row,
        "source_name": texts.PAYOUT_SOURCES.get(row.get("source") or "", row.get("source") or "—"),
        "stage_name": texts.PAYOUT_STAGES.get(row.get("stage") or "", row.get("stage") or "—"),
    }


async def _papers(request: Request, session: Session, case_id: str) -> dict[str, Any]:
    """The case's letters, referrals and listings, read from the referrals and sanctions APIs side by side."""
    console = console_of(request)
    by_case = {"case_id": case_id}
    (letters, letters_gap), (referrals, referrals_gap), (listings, listings_gap) = await asyncio.gather(
        _part(service_get(console.client, f"{console.referrals_url}/v1/letters", session.token, by_case)),
        _part(
            service_get(
                console.client, f"{console.referrals_url}/v1/referrals", session.token, {**by_case, "limit": "100"}
            )
        ),
        _part(
            service_get(
                console.client, f"{console.sanctions_url}/v1/listings", session.token, {"limit": str(LISTINGS_READ)}
            )
        ),
    )
    return {
        "letters": [
            {**letter, "kind_name": LETTER_KINDS.get(letter.get("kind", ""), letter.get("kind", ""))}
            for letter in (letters or {}).get("items", [])
        ],
        "letters_gap": letters_gap,
        "referrals": [_referral_row(r) for r in (referrals or {}).get("items", [])],
        "referrals_gap": referrals_gap,
        "listings": [_listing_row(r) for r in (listings or {}).get("items", []) if r.get("case_id") == case_id],
        "listings_gap": listings_gap,
    }


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    console = console_of(request)
    base = f"{console.cases_url}/v1/cases/{quote(case_id, safe='')}"
    try:
        case = await service_get(console.client, base, session.token)
        timeline, (documents, documents_gap), (payouts, payouts_gap), papers = await asyncio.gather(
            service_get(console.client, f"{base}/timeline", session.token),
            _part(service_get(console.client, f"{base}/documents", session.token)),
            _part(service_get(console.client, f"{base}/payouts", session.token)),
            _papers(request, session, str(case.get("case_id") or case_id)),
        )
    except NotFound:
        return _not_found(request, session)
    today = datetime.now(texts.CHINA).date()
    deadlines = [
        {
            "name": texts.deadline_name(d.get("name", "")),
            "due_date": d.get("due_date", "—"),
            "countdown": texts.countdown(texts.working_days_left(d.get("due_at"), today, console.calendar))
            if d.get("outcome", "pending") == "pending"
            else OUTCOMES.get(d["outcome"], ""),
            "overdue": d.get("outcome") == "expired",
        }
        for d in deadline_list(case.get("deadlines"))
    ]
    events = timeline.get("events", [])
    return page(
        request,
        "case.html",
        {
            "session": session,
            "case": case,
            "row": texts.queue_row(case, today, console.calendar),
            # What the bureau head reads before deciding on a referral: the case team's latest report.
            "referral_report": next((e for e in reversed(events) if e.get("type") == REFERRAL_REPORT), None),
            "complaints": [
                {**c, "stage_name": texts.complaint_stage_name(c.get("stage"))} for c in case.get("complaints", [])
            ],
            "deadlines": deadlines,
            "events": events,
            "status_name": texts.STATUSES.get(case.get("status", ""), case.get("status", "")),
            "case_documents": [_document_row(d) for d in (documents or {}).get("documents", [])],
            "case_documents_gap": documents_gap,
            "kind_name": texts.CASE_KINDS.get(case.get("kind") or "complaint", case.get("kind")),
            "warnings": [_warning_row(w) for w in case.get("warnings") or []],
            "payouts": [_payout_row(p) for p in (payouts or {}).get("items", [])],
            "payouts_gap": payouts_gap,
            **papers,
        },
    )


# -- the case's letters and documents, as PDFs ------------------------------------------------------------------


@router.get("/cases/{case_id}/letters/{letter_id}.pdf")
async def letter_pdf(
    request: Request, case_id: str, letter_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    """A letter of the case (交办函, the ladder's letters, referral letters) from the referrals API. Its record
    first: a letter is opened under the case it belongs to, as the referrals API shows it to the person."""
    console = console_of(request)
    url = f"{console.referrals_url}/v1/letters/{quote(letter_id, safe='')}"
    try:
        letter = await service_get(console.client, url, session.token)
    except (NotFound, Refused):
        return _not_found(request, session)
    if letter.get("case_id") != case_id:
        return _not_found(request, session)
    return await pdf_through(
        console.client, f"{url}/pdf", session.token, letter_id, lambda: _not_found(request, session)
    )


@router.get("/cases/{case_id}/documents/{document_id}.pdf")
async def document_pdf(
    request: Request, case_id: str, document_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    """A listing's document (事先告知书, 决定书) from the sanctions API, which answers only within the person's
    scope and withholds a document naming responsible persons from those who may not read them."""
    console = console_of(request)
    return await pdf_through(
        console.client,
        f"{console.sanctions_url}/v1/documents/{quote(document_id, safe='')}",
        session.token,
        document_id,
        lambda: _not_found(request, session),
    )


@router.get("/cases/{case_id}/case-documents/{document_id}.pdf")
async def case_document_pdf(
    request: Request, case_id: str, document_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    """An order to pay, compensation decision or notice of the case from the cases API, which answers only within
    the person's scope (the same 404 for another county's document and for none). As a letter, it is opened under
    the case it belongs to only: the case's list first."""
    console = console_of(request)
    try:
        listed = await service_get(
            console.client, f"{console.cases_url}/v1/cases/{quote(case_id, safe='')}/documents", session.token
        )
    except (NotFound, Refused):
        return _not_found(request, session)
    if document_id not in {d.get("document_id") for d in listed.get("documents", [])}:
        return _not_found(request, session)
    return await pdf_through(
        console.client,
        f"{console.cases_url}/v1/documents/{quote(document_id, safe='')}.pdf",
        session.token,
        document_id,
        lambda: _not_found(request, session),
    )
