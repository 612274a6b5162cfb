"""HTTP routes of a department's handoffs (交办): its inbox, one handoff with its letters, the acknowledgement
(签收), the response with files and the return (退回), each answer going to the case process first; the files
of a response as downloads. The shared parts of the service's routes are in `api.py`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from services.common.auth import Principal, Role, require_roles
from services.common.downloads import OPAQUE, SAFE_MEDIA_TYPES, attachment
from services.common.openapi import file_responses
from services.common.pagination import Cursor, Limit
from services.contracts.referrals_events import HandoffOutcome, HandoffStatus, ReturnReason
from services.referrals.api import READERS, _Body, _jsonable, referrals

router = APIRouter(prefix="/v1")

DEPARTMENT = require_roles(Role.department)


class AttachedFile(_Body):
    name: str = Field(min_length=1, max_length=200)
    media_type: str = Field("application/pdf", max_length=100)
    content_base64: str = Field(min_length=4, max_length=700_000)


class ResponseBody(_Body):
    outcome: HandoffOutcome
    summary: str = Field(min_length=2, max_length=4000)
    files: list[AttachedFile] = Field(default_factory=list, max_length=10)


class ReturnBody(_Body):
    reason: ReturnReason
    explanation: str = Field(min_length=2, max_length=4000)


@router.get("/handoffs", tags=["handoffs"], summary="Handoffs: a department's inbox (its own only), or by county")
async def list_handoffs(
    request: Request,
    status: HandoffStatus | None = None,
    case_id: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    rows, next_cursor = await referrals(request).handoffs(
        principal, status=status.value if status else None, case_id=case_id, limit=limit, cursor=cursor
    )
    return {"items": [_jsonable(r) for r in rows], "next_cursor": next_cursor}


@router.get("/handoffs/{handoff_id}", tags=["handoffs"], summary="A handoff with its letters")
async def get_handoff(request: Request, handoff_id: str, principal: Principal = READERS) -> dict[str, Any]:
    return _jsonable(await referrals(request).handoff(principal, handoff_id))


@router.post("/handoffs/{handoff_id}/acknowledgement", tags=["handoffs"], summary="Acknowledge receipt (签收)")
async def acknowledge(request: Request, handoff_id: str, principal: Principal = DEPARTMENT) -> dict[str, Any]:
    return _jsonable(await referrals(request).acknowledge(principal, handoff_id))


@router.post(
    "/handoffs/{handoff_id}/response",
    tags=["handoffs"],
    summary="Report the outcome with files (办理结果反馈); the case process decides anew",
)
async def respond(
    request: Request, handoff_id: str, body: ResponseBody, principal: Principal = DEPARTMENT
) -> dict[str, Any]:
    files = [f.model_dump() for f in body.files]
    return _jsonable(await referrals(request).respond(principal, handoff_id, body.outcome, body.summary, files))


@router.post(
    "/handoffs/{handoff_id}/return",
    tags=["handoffs"],
    summary="Return the handoff with a reason (退回); the case process decides anew",
)
async def return_handoff(
    request: Request, handoff_id: str, body: ReturnBody, principal: Principal = DEPARTMENT
) -> dict[str, Any]:
    return _jsonable(await referrals(request).return_handoff(principal, handoff_id, body.reason, body.explanation))


@router.get(
    "/handoffs/{handoff_id}/files/{file_id}",
    tags=["handoffs"],
    summary="A file of a response, as a download (its type as sent only if it cannot carry script)",
    response_class=Response,
    responses=file_responses(*sorted(SAFE_MEDIA_TYPES), OPAQUE),
)
async def get_handoff_file(request: Request, handoff_id: str, file_id: str, principal: Principal = READERS) -> Response:
    row = await referrals(request).handoff_file(principal, handoff_id, file_id)
    return attachment(
        bytes(row["content"]),
        name=row["name"],
        media_type=row["media_type"],
        headers={"X-Content-SHA256": row["sha256"]},
    )
