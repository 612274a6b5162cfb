"""HTTP routes of the ladder against projects (四函两单): a project's letters, one letter's record and its PDF, and
the project's ladders, read by the city office, the project's county and its industry department (another
county's or department's project is 404, as one that does not exist). The shared parts of the service's routes
are in `api.py`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.common.auth import Principal
from services.common.openapi import file_responses
from services.common.pagination import Cursor, Limit
from services.referrals.api import READERS, _jsonable, referrals

router = APIRouter(prefix="/v1", tags=["projects"])


@router.get(
    "/projects/{project_id}/letters",
    summary="The letters of the ladder against a project (警示函 … 问题移交单), oldest first",
)
async def list_project_letters(
    request: Request,
    project_id: str,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    rows, next_cursor = await referrals(request).project_letters(principal, project_id, limit=limit, cursor=cursor)
    return {"items": [_jsonable(r) for r in rows], "next_cursor": next_cursor}


@router.get(
    "/projects/{project_id}/letters/{letter_id}",
    summary="A project letter's record: number, recipient, dates, facts, hash",
)
async def get_project_letter(
    request: Request, project_id: str, letter_id: str, principal: Principal = READERS
) -> dict[str, Any]:
    return _jsonable(await referrals(request).project_letter(principal, project_id, letter_id))


@router.get(
    "/projects/{project_id}/letters/{letter_id}/pdf",
    summary="A project letter as PDF",
    response_class=Response,
    responses=file_responses("application/pdf"),
)
async def get_project_letter_pdf(
    request: Request, project_id: str, letter_id: str, principal: Principal = READERS
) -> Response:
    row, pdf = await referrals(request).project_letter_pdf(principal, project_id, letter_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{letter_id}.pdf"',
            "ETag": f'"{row["sha256"]}"',
            "X-Content-SHA256": row["sha256"],
        },
    )


@router.get(
    "/projects/{project_id}/ladders",
    summary="The project's ladders: per check, the letters issued, the next one due, and how each ended",
)
async def list_project_ladders(
    request: Request,
    project_id: str,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    rows, next_cursor = await referrals(request).project_ladders(principal, project_id, limit=limit, cursor=cursor)
    return {"items": [_jsonable(r) for r in rows], "next_cursor": next_cursor}
