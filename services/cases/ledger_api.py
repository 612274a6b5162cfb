"""HTTP routes of the cases ledger (reads; the case and complaint views hold no personal data): the queue
`/v1/cases` with its filters (`kind=early_warning`: the cases opened on a project's early warning) and keyset
pages, one case `/v1/cases/{id}` with its complaints, processes, extension requests and early warnings, its timeline and its documents (`/v1/documents/{id}.pdf` each as a PDF), the complaints at a
stage `/v1/complaints`, one complaint, and the extension requests waiting for the city office. What the routers
share is in `api.py`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.cases import documents_pdf, domain, ledger_queue, record_store, store, views
from services.cases.api import READERS, cases
from services.cases.settings import CasesSettings
from services.common.auth import Principal
from services.common.openapi import file_responses
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.contracts.lifecycle import CaseKind

router = APIRouter(prefix="/v1")


def _case_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    for name in ("amount_claimed", "amount_verified", "amount_recovered"):
        if view.get(name) is not None:
            view[name] = str(view[name])
    return view


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters and order, in the caller's scope; `filters` None: nothing the caller may see."""

    filters: ledger_queue.QueueFilter | None
    sort: QueueSort


QueueSort = Literal["next_deadline", "received_at", "amount_claimed"]


def queue_query(
    county: str | None = None,
    stage: Annotated[str | None, Query(description="One of " + ", ".join(domain.LEDGER_STAGES))] = None,
    status: Literal["open", "closed"] | None = None,
    overdue: bool | None = None,
    due_within_days: Annotated[int | None, Query(ge=0, le=366)] = None,
    employer: Annotated[
        str | None, Query(max_length=200, description="Employer ref, credit code or part of its name")
    ] = None,
    inspector: str | None = None,
    classification: str | None = None,
    kind: Annotated[
        CaseKind | None,
        Query(description="complaint (opened by complaints) or early_warning (opened on a project's early warning)"),
    ] = None,
    awaiting: Annotated[
        ledger_queue.Awaiting | None,
        Query(
            description="Cases with an open process waiting for: the case team's referral report, the bureau head's "
            "decision on it or on a proposed withdrawal, new totals, or a provisional deadline's date."
        ),
    ] = None,
    sort: QueueSort = "next_deadline",
    principal: Principal = READERS,
) -> QueueQuery:
    """The queue's query parameters (the list and its XLSX export take the same)."""
    if stage is not None and stage not in domain.LEDGER_STAGES:
        raise Problem(422, "Unknown stage", f"stage must be one of {', '.join(domain.LEDGER_STAGES)}")
    scope = domain.county_scope(principal)
    if scope is not None:
        if county is not None and county != scope:
            return QueueQuery(None, sort)
        county = scope
    return QueueQuery(
        ledger_queue.QueueFilter(
            county=county,
            stage=stage,
            status=status,
            overdue=overdue,
            due_within_days=due_within_days,
            employer=employer,
            inspector=inspector,
            classification=classification,
            awaiting=awaiting,
            kind=kind.value if kind else None,
        ),
        sort,
    )


@router.get("/cases", tags=["ledger"], summary="The queue: cases filtered, sorted by next deadline, paged by cursor")
async def list_cases(
    request: Request, query: Annotated[QueueQuery, Depends(queue_query)], limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    if query.filters is None:
        return {"items": [], "next_cursor": None}
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await ledger_queue.list_cases(
            conn, query.filters, sort=query.sort, limit=limit, after=cursor
        )
    return {"items": [_case_view(r) for r in rows], "next_cursor": next_cursor}


@router.get(
    "/cases/{case_id}", tags=["ledger"], summary="One case: figures, stage, deadlines, complaints (no personal data)"
)
async def get_case(request: Request, case_id: str, principal: Principal = READERS) -> dict[str, Any]:
    case = await cases(request).visible_case(principal, case_id)
    async with request.app.state.pool.connection() as conn:
        complaints = await store.case_complaints(conn, case["case_id"])
        processes = await store.case_processes(conn, case["case_id"])
        extensions = await record_store.case_extension_requests(conn, case["case_id"])
        warnings = await store.case_warnings(conn, case["case_id"])
    complaints = [views.with_suggestion(c) for c in complaints]
    for c in complaints:
        c["amount_owed"] = str(c["amount_owed"])
    for p in processes:
        if p["amount_verified"] is not None:
            p["amount_verified"] = str(p["amount_verified"])
    view = _case_view(case)
    if case_id != case["case_id"]:
        view["requested_id"] = case_id
    return {
        **view,
        "complaints": complaints,
        "processes": processes,
        "extension_requests": extensions,
        "warnings": warnings,
        "parked": views.parked_processes(complaints, processes),
    }


@router.get(
    "/complaints/{complaint_id}",
    tags=["ledger"],
    response_model=views.ComplaintView,
    summary="Where a complaint stands in the ledger, and its case",
)
async def get_complaint(request: Request, complaint_id: str, principal: Principal = READERS) -> dict[str, Any]:
    return views.with_suggestion(await cases(request).visible_complaint(principal, complaint_id))


@router.get(
    "/complaints",
    tags=["ledger"],
    summary="Complaints at a stage in the person's county (callback: the call-backs due), longest waiting first",
)
async def list_complaints(
    request: Request,
    stage: Literal["awaiting_acceptance", "awaiting_information", "in_case", "callback", "done"],
    county: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    scope = domain.county_scope(principal)
    if scope is not None:
        if county is not None and county != scope:
            return {"items": [], "next_cursor": None}
        county = scope
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await store.complaints_at_stage(conn, stage, county, limit, cursor)
    return {"items": [{**row, "amount_owed": str(row["amount_owed"])} for row in rows], "next_cursor": next_cursor}


@router.get("/cases/{case_id}/timeline", tags=["ledger"], summary="Every event of the case, in order")
async def get_timeline(request: Request, case_id: str, principal: Principal = READERS) -> dict[str, Any]:
    case = await cases(request).visible_case(principal, case_id)
    async with request.app.state.pool.connection() as conn:
        events = await store.timeline(conn, case["case_id"])
    return {"case_id": case["case_id"], "events": events}


@router.get(
    "/cases/{case_id}/documents",
    tags=["ledger"],
    summary="The case's orders to pay, compensation decisions and notices, oldest first",
)
async def list_case_documents(request: Request, case_id: str, principal: Principal = READERS) -> dict[str, Any]:
    case = await cases(request).visible_case(principal, case_id)
    async with request.app.state.pool.connection() as conn:
        rows = await record_store.case_documents(conn, case["case_id"])
    return {
        "case_id": case["case_id"],
        "documents": [
            {
                "document_id": r["document_id"],
                "kind": r["kind"],
                "title": documents_pdf.title_of(r["kind"], r["request"]),
                "created_at": r["created_at"],
                "pdf_url": f"/v1/documents/{r['document_id']}.pdf",
            }
            for r in rows
        ],
    }


@router.get(
    "/documents/{document_id}.pdf",
    tags=["ledger"],
    summary="A case's order, compensation decision or notice as PDF (the case's scope; the same 404 outside it)",
    response_class=Response,
    responses=file_responses("application/pdf"),
)
async def get_document_pdf(request: Request, document_id: str, principal: Principal = READERS) -> Response:
    async with request.app.state.pool.connection() as conn:
        document = await record_store.get_case_document(conn, document_id)
    if document is None or document["county"] is None or not domain.may_see(principal, document["county"]):
        raise Problem(404, "No such document", f"document {document_id} was not found in your scope")
    settings = request.app.state.settings
    issuer = (
        settings.document_issuer
        if isinstance(settings, CasesSettings)
        else CasesSettings.model_fields["document_issuer"].default
    )
    content = documents_pdf.compose(document, issuer=issuer, employer_name=document["employer_name"])
    # Rendering (font subsetting) takes a fraction of a second of CPU: off the event loop.
    pdf = await asyncio.to_thread(documents_pdf.render_pdf, content, created=document["created_at"])
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{document_id}.pdf"',
            # It names an employer and its arrears: for the reader, not for a shared computer's cache.
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/extension-requests",
    tags=["ledger"],
    summary="Extension requests by status (pending: the city office's approvals waiting), oldest first",
)
async def list_extension_requests(
    request: Request,
    status: Literal["pending", "approved", "refused", "failed"] = "pending",
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await record_store.extension_requests(
            conn, status=status, county=domain.county_scope(principal), limit=limit, cursor=cursor
        )
    return {"items": rows, "next_cursor": next_cursor}
