"""HTTP routes of the sanctions service's two registers: the quarterly list of major violations (drafted now
or by the schedule, read as JSON or a workbook, approved and published by the city office) and the
criminal-transfer register (referrals to the police with their outcome, and statistics per county). Thin:
HTTP in, `registers_store.py` and `Sanctions.publish_quarter` out."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from services.common.auth import Principal, Role, require_roles
from services.common.commands import fingerprint_request
from services.common.exports import XLSX_MEDIA_TYPE, download, xlsx
from services.common.openapi import file_responses
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.sanctions import documents, quarter_list, registers_store
from services.sanctions.api_base import CITY, QUARTER_PATTERN, READERS, _Body, _json, sanctions

# Agency actions are fingerprinted, so that a repeated Idempotency-Key is compared with the request it came with.
router = APIRouter(prefix="/v1", dependencies=[Depends(fingerprint_request)])

REGISTER_READERS = require_roles(
    Role.city_office, Role.county_inspector, Role.police, Role.procuratorate, Role.operator
)


# --- the quarterly publication ------------------------------------------------------------------------------------


class QuarterBody(_Body):
    quarter: str = Field(pattern=QUARTER_PATTERN, examples=["2026-Q3"])


@router.post(
    "/publication-lists", tags=["publication"], summary="Draft (or redraft) a quarter's list now (city office)"
)
async def post_publication_list(request: Request, body: QuarterBody, principal: Principal = CITY) -> JSONResponse:
    list_id = await quarter_list.build_quarter_list(request.app.state.pool, request.app.state.settings, body.quarter)
    async with request.app.state.pool.connection() as conn:
        return _json(await registers_store.get_list(conn, list_id))


@router.get("/publication-lists", tags=["publication"], summary="Drafted and published lists")
async def get_publication_lists(request: Request, principal: Principal = READERS) -> JSONResponse:
    async with request.app.state.pool.connection() as conn:
        return _json({"items": await registers_store.lists(conn, published_only=False)})


@router.get(
    "/publication-lists/{list_id}.xlsx",
    tags=["publication"],
    summary="A drafted or published list as an Excel workbook",
    response_class=Response,
    responses=file_responses(XLSX_MEDIA_TYPE),
)
async def get_publication_list_xlsx(request: Request, list_id: str, principal: Principal = READERS) -> Response:
    async with request.app.state.pool.connection() as conn:
        found = await registers_store.get_list(conn, list_id)
    if found is None:
        raise Problem(404, "No such list", f"no publication list {list_id}")
    title = documents.list_title(request.app.state.settings.authority, found["quarter"])
    workbook = xlsx(
        found["quarter"],
        [[title], [label for _, label in documents.LIST_COLUMNS]],
        ([entry.get(name) for name, _ in documents.LIST_COLUMNS] for entry in found["entries"]),
    )
    return download(workbook, f"{list_id}.xlsx", XLSX_MEDIA_TYPE)


@router.post(
    "/publication-lists/{list_id}/approval",
    tags=["publication"],
    summary="Approve and publish a drafted list: record, PDF, HTML and event (city office)",
)
async def post_approval(request: Request, list_id: str, principal: Principal = CITY) -> JSONResponse:
    return _json(await sanctions(request).publish_quarter(principal, list_id))


# --- the criminal-transfer register ---------------------------------------------------------------------------------


@router.get("/criminal-transfers", tags=["register"], summary="Referrals to the police with their outcome")
async def get_transfers(
    request: Request,
    county: str | None = None,
    outcome: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = REGISTER_READERS,
) -> JSONResponse:
    county = principal.county or county
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await registers_store.transfers(
            conn, county=county, outcome=outcome, limit=limit, cursor=cursor
        )
    return _json({"items": rows, "next_cursor": next_cursor})


@router.get("/criminal-transfers/statistics", tags=["register"], summary="Referrals and outcomes per county")
async def get_transfer_statistics(
    request: Request, start: date | None = None, end: date | None = None, principal: Principal = REGISTER_READERS
) -> JSONResponse:
    async with request.app.state.pool.connection() as conn:
        rows = await registers_store.transfer_statistics(conn, start, end)
    if principal.county:
        rows = [r for r in rows if r["county"] == principal.county]
    return _json({"start": start, "end": end, "rows": rows})
