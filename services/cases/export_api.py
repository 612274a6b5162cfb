"""The queue as an Excel workbook (`GET /v1/cases.xlsx`): the cases of the list's filters and order, as the
queue shows them to the caller (the same query parameters, the same county scope), for the city office's and
the counties' own tables. At most `EXPORT_LIMIT` cases: past it the answer says so in `X-Export-Truncated`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.cases import ledger_queue
from services.cases.ledger_api import QueueQuery, queue_query
from services.common.exports import XLSX_MEDIA_TYPE, download, xlsx
from services.common.openapi import file_responses

router = APIRouter(prefix="/v1")

EXPORT_LIMIT = 10_000
# The ledger's columns in the workbook, with their header in Chinese under the field name.
COLUMNS = (
    ("case_id", "案件编号"),
    ("county", "区县"),
    ("employer_name", "用人单位"),
    ("employer_credit_code", "统一社会信用代码"),
    ("project_name", "项目"),
    ("stage", "阶段"),
    ("status", "状态"),
    ("classification", "案件类别"),
    ("complaint_count", "投诉件数"),
    ("workers_affected", "涉及人数"),
    ("amount_claimed", "主张金额（元）"),
    ("amount_verified", "核实金额（元）"),
    ("amount_recovered", "已追回（元）"),
    ("next_deadline", "最近期限"),
    ("overdue", "逾期"),
    ("assigned_inspector", "承办人"),
    ("received_at", "收到时间"),
    ("closed_at", "结案时间"),
)


async def _cases(request: Request, query: QueueQuery) -> tuple[list[dict[str, Any]], bool]:
    """The cases of the query, up to the limit (one read of the queue's own query); and whether more were left
    out."""
    if query.filters is None:
        return [], False
    async with request.app.state.pool.connection() as conn:
        found, more = await ledger_queue.list_cases(
            conn, query.filters, sort=query.sort, limit=EXPORT_LIMIT, after=None
        )
    return found, more is not None


@router.get(
    "/cases.xlsx",
    tags=["ledger"],
    summary="The queue with its filters as an Excel workbook",
    response_class=Response,
    responses=file_responses(XLSX_MEDIA_TYPE),
)
async def export_cases(request: Request, query: Annotated[QueueQuery, Depends(queue_query)]) -> Response:
    cases, truncated = await _cases(request, query)
    workbook = xlsx(
        "案件",
        [[name for name, _ in COLUMNS], [label for _, label in COLUMNS]],
        ([case.get(name) for name, _ in COLUMNS] for case in cases),
    )
    response = download(workbook, "anxin-cases.xlsx", XLSX_MEDIA_TYPE)
    if truncated:
        response.headers["X-Export-Truncated"] = str(EXPORT_LIMIT)
    return response
