"""The actions of a case's current stage, as forms on its page (acceptance, verification, service, payments,
closure, extension requests, call-back, the legal-aid and arbitration fast track) and revealing a
complainant's identity as an audited action.

Each form posts here; the action goes to the cases API with the person's own token and the form's
idempotency key (made when the page was rendered, so a resubmitted form acts once). Success answers 303 back
to the case page with a short confirmation; a refusal shows the case page again with the API's own messages
next to the form's fields. Evidence files go to intake's evidence store first (`POST /v1/evidence`); the
action names them by their sha256. A fast-track referral goes to the referrals API, which makes the referral
and its letter."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from services.console.clients import NotFound, Refused, service_get, service_send
from services.console.pages import cases
from services.console.sessions import Session
from services.console.texts import CHINA
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in, templates

router = APIRouter()
NAV: list[NavItem] = []

# What the case page says after an action went through (`?done=<action>`).
DONE = {
    "acceptance": "受理决定已提交。",
    "verification": "核实结果已记录。",
    "service": "送达已记录。",
    "payment": "支付已记录。",
    "closure": "结案已提交。",
    "extension": "延期申请已提交，等待市局审批。",
    "callback": "回访已记录。",
    "fast_track": "已转介，见下方“转介与移送”。",
    "payout": "已申请动用保证金或垫付，等待市根治欠薪办审批，见下方“垫付与保证金”。",
}

# The forms each case stage shows (complaint-level forms follow the complaint's own stage).
# Closure by hand only after a refusal to pay: before it a case closes through its own steps.
CASE_FORMS = {
    "verification": ("verification", "extension"),
    "handoff": ("extension",),
    "service": ("service", "extension"),
    "payment": ("payment", "extension"),
    "refusal": ("payment", "extension", "closure"),
}
ACCEPTANCE_STAGES = {"awaiting_acceptance", "awaiting_information"}
CALLBACK_STAGES = {"callback"}
REVEALERS = {"county_inspector", "city_office"}
# Legal aid's green channel and arbitration's fast track, once a case is accepted and until it closes; the
# referrals API takes them from inspectors and the city office only.
FAST_TRACK_STAGES = {"verification", "handoff", "service", "payment", "refusal"}
FAST_TRACKERS = {"county_inspector", "city_office"}


def _fresh_key() -> str:
    return uuid.uuid4().hex


def _refusal(request: Request, form: str | None = None) -> dict[str, Any] | None:
    """The refusal shown on `form` (its message, per-field messages and the values sent), if it was refused;
    without `form`, whichever form was (the page says so at its top too: the form may be gone with the stage)."""
    refusal: dict[str, Any] | None = getattr(request.state, "action_refusal", None)
    return refusal if refusal and (form is None or refusal["form"] == form) else None


templates.env.globals.update(
    fresh_key=_fresh_key,
    refusal_of=_refusal,
    case_forms=CASE_FORMS,
    acceptance_stages=ACCEPTANCE_STAGES,
    callback_stages=CALLBACK_STAGES,
    revealers=REVEALERS,
    done_texts=DONE,
    fast_track_stages=FAST_TRACK_STAGES,
    fast_trackers=FAST_TRACKERS,
)


def form_text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def _upload(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def _moment(value: str | None) -> str | None:
    """A date (or date and time) from the form, in China's time, as the API's ISO datetime."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the API's own validation names it
    return (moment if moment.tzinfo else moment.replace(tzinfo=CHINA)).isoformat()


class MissingField(Exception):
    """A form field the console checks itself before asking a service (a file, the reveal's reason)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


async def evidence_ref(request: Request, session: Session, form: FormData, field: str) -> str:
    """Upload the form's file to intake's evidence store; its sha256 is the reference the action carries."""
    upload = _upload(form, field)
    if upload is None:
        raise MissingField(field, "请选择要上传的照片或回执。")
    console = console_of(request)
    stored = await service_send(
        console.client,
        "POST",
        f"{console.intake_url}/v1/evidence",
        session.token,
        files={
            "file": (
                upload.filename or "evidence",
                await upload.read(),
                upload.content_type or "application/octet-stream",
            )
        },
    )
    return str(stored["sha256"])


def case_url(request: Request, case_id: str, tail: str = "") -> str:
    base = f"{console_of(request).cases_url}/v1/cases/{quote(case_id, safe='')}"
    return f"{base}/{tail}" if tail else base


def _complaint_url(request: Request, complaint_id: str, tail: str) -> str:
    return f"{console_of(request).cases_url}/v1/complaints/{quote(complaint_id, safe='')}/{tail}"


async def act(
    request: Request,
    session: Session,
    case_id: str,
    form_name: str,
    done: str,
    build: Callable[[FormData], Awaitable[tuple[str, Any]]],
    unknown: str | None = None,
) -> Response:
    """Check the CSRF token, send the action with the form's idempotency key; 303 back, or the page again.
    `unknown`: what a 404 means when the case itself is in scope (another service that has not heard of it yet)."""
    form = await request.form()
    if not session.csrf_matches(form_text(form, "csrf")):
        return csrf_refused()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k not in ("csrf", "key")}
    try:
        url, body = await build(form)
        await service_send(
            console_of(request).client, "POST", url, session.token, json=body, idempotency_key=form_text(form, "key")
        )
    except NotFound:
        if unknown is None:
            return page(request, "not_found.html", {"session": session}, 404)
        # The case page checks the case's scope again: another county's case is still the not-found page.
        return await _case_page_again(request, session, case_id, form_name, 409, unknown, {}, values)
    except MissingField as missing:
        return await _case_page_again(
            request, session, case_id, form_name, 422, missing.message, {missing.field: missing.message}, values
        )
    except Refused as refused:
        return await _case_page_again(
            request, session, case_id, form_name, refused.status, refused.message, refused.field_errors, values
        )
    return RedirectResponse(f"/cases/{quote(case_id, safe='')}?done={done}", status_code=303)


async def _case_page_again(
    request: Request,
    session: Session,
    case_id: str,
    form_name: str,
    status: int,
    message: str,
    fields: dict[str, str],
    values: dict[str, str],
) -> Response:
    request.state.action_refusal = {"form": form_name, "message": message, "fields": fields, "sent": values}
    response = await cases.case_page(request, case_id, session)
    if response.status_code == 200:
        response.status_code = status if 400 <= status < 500 else 422
    return response


# -- the complaint's actions --------------------------------------------------------------------------------


@router.post("/cases/{case_id}/complaints/{complaint_id}/acceptance", response_class=HTMLResponse)
async def acceptance(
    request: Request, case_id: str, complaint_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        missing = [line.strip() for line in (form_text(form, "missing_items") or "").splitlines() if line.strip()]
        body = {
            "decision": form_text(form, "decision") or "",
            "reason": form_text(form, "reason"),
            "explanation": form_text(form, "explanation"),
            "forward_to": form_text(form, "forward_to"),
            "missing_items": missing,
        }
        return _complaint_url(request, complaint_id, "acceptance"), {k: v for k, v in body.items() if v is not None}

    return await act(request, session, case_id, f"acceptance:{complaint_id}", "acceptance", build)


@router.post("/cases/{case_id}/complaints/{complaint_id}/callback", response_class=HTMLResponse)
async def callback(
    request: Request, case_id: str, complaint_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        body = {"satisfaction": form_text(form, "satisfaction") or "", "notes": form_text(form, "notes")}
        return _complaint_url(request, complaint_id, "callback"), {k: v for k, v in body.items() if v is not None}

    return await act(request, session, case_id, f"callback:{complaint_id}", "callback", build)


# -- the case's actions -------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/verification", response_class=HTMLResponse)
async def verification(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        body = {
            name: form_text(form, name)
            for name in ("outcome", "department", "confirmed_amount", "confirmed_workers", "notes")
        }
        body["outcome"] = body["outcome"] or ""
        return case_url(request, case_id, "verification"), {k: v for k, v in body.items() if v is not None}

    return await act(request, session, case_id, "verification", "verification", build)


@router.post("/cases/{case_id}/service", response_class=HTMLResponse)
async def service(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        method = form_text(form, "method") or ""
        # In person the signed receipt is the proof; posted at the site, the photo of it.
        kind = form_text(form, "evidence_kind") or ("receipt" if method == "in_person" else "photo")
        ref = await evidence_ref(request, session, form, "evidence")
        body = {
            "method": method,
            "evidence": [{"kind": kind, "ref": ref}],
            "served_at": _moment(form_text(form, "served_at")),
        }
        return case_url(request, case_id, "service"), {k: v for k, v in body.items() if v is not None}

    return await act(request, session, case_id, "service", "service", build)


@router.post("/cases/{case_id}/payments", response_class=HTMLResponse)
async def payment(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        ref = await evidence_ref(request, session, form, "evidence")
        body = {
            "payment_id": form_text(form, "payment_id") or "",
            "amount": form_text(form, "amount") or "",
            "purpose": form_text(form, "purpose"),
            "paid_at": _moment(form_text(form, "paid_at")),
            "evidence": [{"kind": form_text(form, "evidence_kind") or "bank_record", "ref": ref}],
        }
        return case_url(request, case_id, "payments"), {k: v for k, v in body.items() if v is not None}

    return await act(request, session, case_id, "payment", "payment", build)


@router.post("/cases/{case_id}/closure", response_class=HTMLResponse)
async def closure(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        body = {"reason": form_text(form, "reason") or "", "notes": form_text(form, "notes")}
        return case_url(request, case_id, "closure"), {k: v for k, v in body.items() if v is not None}

    return await act(request, session, case_id, "closure", "closure", build)


@router.post("/cases/{case_id}/extension-requests", response_class=HTMLResponse)
async def extension(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        return case_url(request, case_id, "extension-requests"), {"reason": form_text(form, "reason") or ""}

    return await act(request, session, case_id, "extension", "extension", build)


@router.post("/cases/{case_id}/fast-track-referrals", response_class=HTMLResponse)
async def fast_track(request: Request, case_id: str, session: Annotated[Session, Depends(signed_in)]) -> Response:
    async def build(form: FormData) -> tuple[str, Any]:
        body = {"case_id": case_id, "target": form_text(form, "target") or "", "basis": form_text(form, "basis") or ""}
        return f"{console_of(request).referrals_url}/v1/fast-track-referrals", body

    return await act(
        request,
        session,
        case_id,
        "fast_track",
        "fast_track",
        build,
        unknown="转介系统尚未收到该案件的信息，请稍后再试。",
    )


# -- revealing the complainant's identity -------------------------------------------------------------------


async def _read_identity(request: Request, session: Session, complaint_id: str, reason: str) -> dict[str, Any]:
    """Intake's answer for the complainant. The reason travels in a header (percent-encoded), not in the URL:
    request URLs are logged, and what the inspector typed stays out of the logs."""
    console = console_of(request)
    person: dict[str, Any] = await service_get(
        console.client,
        f"{console.intake_url}/v1/complaints/{quote(complaint_id, safe='')}/complainant",
        session.token,
        headers={"Read-Reason": quote(reason)},
    )
    return person


@router.post("/cases/{case_id}/complaints/{complaint_id}/complainant", response_class=HTMLResponse)
async def reveal(
    request: Request, case_id: str, complaint_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    """The complainant's identity from intake, which audits the read under the person (`person:<id>`) with the
    reason given. Shown once, on a page no browser or proxy may keep; nothing of it is logged here."""
    form = await request.form()
    if not session.csrf_matches(form_text(form, "csrf")):
        return csrf_refused()
    reason = form_text(form, "reason")
    if not reason or not 2 <= len(reason) <= 500:
        message = "请填写查看身份的理由（2 至 500 字）。"
        return await _case_page_again(
            request, session, case_id, f"reveal:{complaint_id}", 422, message, {"reason": message}, {}
        )
    console = console_of(request)
    try:
        # The case first: a complaint must be shown under the case it belongs to, within the person's scope.
        case = await service_get(console.client, case_url(request, case_id), session.token)
        if complaint_id not in {c.get("complaint_id") for c in case.get("complaints", [])}:
            raise NotFound(complaint_id)
        person = await _read_identity(request, session, complaint_id, reason)
    except NotFound:
        return page(request, "not_found.html", {"session": session}, 404)
    except Refused as refused:
        return await _case_page_again(
            request,
            session,
            case_id,
            f"reveal:{complaint_id}",
            refused.status,
            refused.message,
            refused.field_errors,
            {"reason": reason},
        )
    response = page(request, "actions/identity.html", {"session": session, "case_id": case_id, "person": person})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
