"""The inboxes of the departments, the police, the procuratorate, arbitration and legal aid: what was handed or
referred to them, with due dates, and their answers.

A department clerk's inbox is the referrals service's handoffs of their department; the receiving bodies' is
its referrals to their body. The service scopes both lists and answers 404 for anything outside the person's
scope, so a handoff or referral of another agency shows the same not-found page as one that does not exist.
Letters and response files are passed through from the service with the person's token."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import texts
from services.console.clients import NotFound, Refused, TokenExpired, service_get, service_send
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

if TYPE_CHECKING:
    from services.console.app import Console

router = APIRouter()

DEPARTMENT = "department"
RECEIVERS = frozenset({"police", "procuratorate", "arbitration", "legal_aid"})
NAV = [NavItem("/inbox", "收件箱", frozenset({DEPARTMENT, *RECEIVERS}))]

HANDOFF_STATUSES = {"sent": "待签收", "acknowledged": "已签收", "responded": "已反馈", "returned": "已退回"}
REFERRAL_STATUSES = {"sent": "待决定", "accepted": "已受理", "declined": "不予受理", "withdrawn": "已撤回"}
OUTCOMES = {
    "resolved": "问题已解决",
    "under_handling": "已立案处理，限期解决",
    "no_violation": "经核查不存在所反映问题",
    "referred_onward": "已移交其他有权机关",
}
RETURN_REASONS = {
    "not_competent": "不属于本部门职责",
    "insufficient_information": "材料不全，无法办理",
    "duplicate": "重复交办",
    "other": "其他",
}
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
LETTER_KINDS = {
    "handoff": "交办函",
    "reminder": "催办函",
    "supervision": "督办函",
    "warning_letter": "警示函",
    "accountability_recommendation": "问责建议函",
    "accountability_transfer": "问责移交单",
    "issue_transfer": "问题移交单",
    "criminal_referral": "涉嫌犯罪案件移送书",
    "procuratorate_request": "商请提前介入函",
    "arbitration_referral": "仲裁速裁转办单",
    "legal_aid_referral": "法律援助转介函",
    "supplementary_notice": "补充材料函",
}
# The files of one response together: the service takes at most ten, each well under 512 KB once decoded.
MAX_FILES = 10


def _countdown(row: dict[str, Any], console: Console, done: bool) -> dict[str, Any]:
    """Due date, working days left and overdue (red) of an open handoff or referral; only the date once done."""
    today = datetime.now(texts.CHINA).date()
    days = None if done else texts.working_days_left(row.get("due_at"), today, console.calendar)
    return {
        "due_date": row.get("due_date") or "—",
        "countdown": "—" if done else texts.countdown(days),
        "overdue": days is not None and days < 0,
    }


def _handoff_row(row: dict[str, Any], console: Console) -> dict[str, Any]:
    done = row.get("status") in ("responded", "returned")
    return {
        **row,
        **_countdown(row, console, done),
        "href": f"/handoffs/{row['handoff_id']}",
        "kind": "交办",
        "ref": row["handoff_id"],
        "status_name": HANDOFF_STATUSES.get(row.get("status", ""), row.get("status")),
    }


def _referral_row(row: dict[str, Any], console: Console) -> dict[str, Any]:
    done = row.get("status") != "sent"
    return {
        **row,
        **_countdown(row, console, done),
        "href": f"/referrals/{row['referral_id']}",
        "kind": "移送",
        "ref": row["referral_id"],
        "status_name": REFERRAL_STATUSES.get(row.get("status", ""), row.get("status")),
    }


def _letters(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**letter, "kind_name": LETTER_KINDS.get(letter.get("kind", ""), letter.get("kind", ""))} for letter in rows
    ]


def _not_found(request: Request, session: Session) -> HTMLResponse:
    # Missing, or another agency's: the same page either way, as the service answers the same 404.
    return page(request, "agencies/not_found.html", {"session": session}, 404)


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request, session: Annotated[Session, Depends(signed_in)], status: str = "") -> Response:
    console = console_of(request)
    if session.role == DEPARTMENT:
        params = {"limit": "200", **({"status": status} if status in HANDOFF_STATUSES else {})}
        listed = await service_get(console.client, f"{console.referrals_url}/v1/handoffs", session.token, params)
        rows = [_handoff_row(r, console) for r in listed["items"]]
        statuses = HANDOFF_STATUSES
    elif session.role in RECEIVERS:
        params = {"limit": "200", **({"status": status} if status in REFERRAL_STATUSES else {})}
        listed = await service_get(console.client, f"{console.referrals_url}/v1/referrals", session.token, params)
        rows = [_referral_row(r, console) for r in listed["items"]]
        statuses = REFERRAL_STATUSES
    else:
        return _not_found(request, session)
    # Open items by due date first (overdue on top), then what is answered.
    rows.sort(key=lambda r: (r["countdown"] == "—", str(r.get("due_at") or "9999")))
    return page(
        request, "agencies/inbox.html", {"session": session, "rows": rows, "status": status, "statuses": statuses}
    )


# --- handoffs (department clerks) ------------------------------------------------------------------------------


def _handoff_url(console: Console, handoff_id: str) -> str:
    return f"{console.referrals_url}/v1/handoffs/{quote(handoff_id, safe='')}"


async def _handoff_page(
    request: Request,
    session: Session,
    handoff_id: str,
    *,
    error: str | None = None,
    field_errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    console = console_of(request)
    try:
        handoff = await service_get(console.client, _handoff_url(console, handoff_id), session.token)
    except NotFound:
        return _not_found(request, session)
    row = _handoff_row(handoff, console)
    return page(
        request,
        "agencies/handoff.html",
        {
            "session": session,
            "handoff": row,
            "letters": _letters(handoff.get("letters") or []),
            "files": handoff.get("files") or [],
            "outcome_name": OUTCOMES.get(handoff.get("outcome") or "", ""),
            "return_reason_name": RETURN_REASONS.get(handoff.get("return_reason") or "", ""),
            "may_answer": session.role == DEPARTMENT and handoff.get("status") in ("sent", "acknowledged"),
            "may_acknowledge": session.role == DEPARTMENT and handoff.get("status") == "sent",
            "outcomes": OUTCOMES,
            "return_reasons": RETURN_REASONS,
            "error": error,
            "field_errors": field_errors or {},
            "form": form or {},
            "key": uuid.uuid4().hex,
        },
        status_code,
    )


@router.get("/handoffs/{handoff_id}", response_class=HTMLResponse)
async def handoff_page(request: Request, handoff_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    return await _handoff_page(request, session, handoff_id)


async def _act_on_handoff(
    request: Request,
    session: Session,
    handoff_id: str,
    action: str,
    *,
    json: Any = None,
    key: str,
    form: dict[str, str] | None = None,
) -> Response:
    console = console_of(request)
    try:
        await service_send(
            console.client,
            "POST",
            f"{_handoff_url(console, handoff_id)}/{action}",
            session.token,
            json=json,
            idempotency_key=key,
        )
    except NotFound:
        return _not_found(request, session)
    except Refused as refused:
        return await _handoff_page(
            request,
            session,
            handoff_id,
            error=refused.message,
            field_errors=refused.field_errors,
            form=form,
            status_code=refused.status,
        )
    return RedirectResponse(f"/handoffs/{quote(handoff_id, safe='')}", status_code=303)


@router.post("/handoffs/{handoff_id}/acknowledgement")
async def acknowledge(
    request: Request,
    handoff_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    if not session.csrf_matches(csrf):
        return csrf_refused()
    return await _act_on_handoff(request, session, handoff_id, "acknowledgement", key=key)


@router.post("/handoffs/{handoff_id}/response")
async def respond(
    request: Request,
    handoff_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    outcome: Annotated[str, Form(max_length=40)] = "",
    summary: Annotated[str, Form(max_length=4000)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    if not session.csrf_matches(csrf):
        return csrf_refused()
    form = {"outcome": outcome, "summary": summary}
    attached = []
    # A browser sends an empty part when no file was chosen.
    for upload in [f for f in files or [] if f.filename][:MAX_FILES]:
        content = await upload.read()
        attached.append(
            {
                "name": upload.filename,
                "media_type": upload.content_type or "application/octet-stream",
                "content_base64": base64.b64encode(content).decode(),
            }
        )
    return await _act_on_handoff(
        request,
        session,
        handoff_id,
        "response",
        key=key,
        form=form,
        json={"outcome": outcome, "summary": summary, "files": attached},
    )


@router.post("/handoffs/{handoff_id}/return")
async def return_handoff(
    request: Request,
    handoff_id: str,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=40)] = "",
    explanation: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    if not session.csrf_matches(csrf):
        return csrf_refused()
    return await _act_on_handoff(
        request,
        session,
        handoff_id,
        "return",
        key=key,
        form={"reason": reason, "explanation": explanation},
        json={"reason": reason, "explanation": explanation},
    )


async def _pass_through(request: Request, session: Session, url: str) -> Response:
    """A file of the service (a letter's PDF, a response's file) as the service sent it, with the person's token."""
    console = console_of(request)
    answer = await console.client.get(url, headers={"Authorization": f"Bearer {session.token}"})
    if answer.status_code == 404:
        return _not_found(request, session)
    if answer.status_code == 401:
        raise TokenExpired(url)
    answer.raise_for_status()
    kept = {
        name: answer.headers[name]
        for name in ("content-type", "content-disposition", "x-content-sha256", "x-content-type-options")
        if name in answer.headers
    }
    return Response(answer.content, headers=kept)


@router.get("/handoffs/{handoff_id}/files/{file_id}")
async def handoff_file(
    request: Request, handoff_id: str, file_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    console = console_of(request)
    return await _pass_through(request, session, f"{_handoff_url(console, handoff_id)}/files/{quote(file_id, safe='')}")


@router.get("/letters/{letter_id}.pdf")
async def letter_pdf(request: Request, letter_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    console = console_of(request)
    return await _pass_through(request, session, f"{console.referrals_url}/v1/letters/{quote(letter_id, safe='')}/pdf")


# --- referrals (police, procuratorate, arbitration, legal aid) ---------------------------------------------------


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
        return _not_found(request, session)
    target = referral.get("target", "")
    return page(
        request,
        "agencies/referral.html",
        {
            "session": session,
            "referral": _referral_row(referral, console),
            "letters": _letters(referral.get("letters") or []),
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
        return _not_found(request, session)
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
