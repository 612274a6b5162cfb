"""A handoff's page (交办, `/handoffs/<id>`): the handoff with its letters and the files of its response, and
for the department it was handed to, its answers as forms: acknowledge (签收), respond with an outcome, a summary
and files (反馈办理结果), or return it (退回). Each is sent on to the referrals API with the person's token; a
refused one shows the API's message on the page. The inbox and what this page shares with a referral's are in
pages/agencies.py."""

from __future__ import annotations

import base64
import uuid
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.clients import NotFound, Refused, service_get, service_send
from services.console.pages.agencies import DEPARTMENT, handoff_row, letter_list, not_found_page, pass_through
from services.console.sessions import Session
from services.console.web import NavItem, console_of, csrf_refused, page, signed_in

if TYPE_CHECKING:
    from services.console.app import Console

router = APIRouter()
NAV: list[NavItem] = []

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
# The files of one response together: the service takes at most ten, each well under 512 KB once decoded.
MAX_FILES = 10


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
        return not_found_page(request, session)
    row = handoff_row(handoff, console)
    return page(
        request,
        "agencies/handoff.html",
        {
            "session": session,
            "handoff": row,
            "letters": letter_list(handoff.get("letters") or []),
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
        return not_found_page(request, session)
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


@router.get("/handoffs/{handoff_id}/files/{file_id}")
async def handoff_file(
    request: Request, handoff_id: str, file_id: str, session: Annotated[Session, Depends(signed_in)]
) -> Response:
    console = console_of(request)
    return await pass_through(request, session, f"{_handoff_url(console, handoff_id)}/files/{quote(file_id, safe='')}")
