"""The lifecycle's requests to the cases service (notices, forwardings, orders to pay, compensation decisions,
the workflows' process reports), each recorded once per Idempotency-Key as a document with its event. `actions.py`
composes them with the inspectors' actions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from services.cases import record_store, store
from services.cases.action_base import ActionBase
from services.common.commands import request_hash, same_key
from services.common.errors import Invalid
from services.contracts.cases_events import (
    CasesEvent,
    CompensationDecided,
    ComplaintForwarded,
    NoticeRecorded,
    OrderIssued,
    ProcessReported,
)
from services.contracts.events import EventEnvelope
from services.contracts.legal_time import CHINA_TZ
from services.contracts.lifecycle import (
    AgencyNotice,
    CompensationRequest,
    ForwardRequest,
    OrderToPayRequest,
    compensation_amount,
)
from services.contracts.process_reports import ProcessReport


def _document_id(prefix: str, key: str, at: datetime) -> str:
    return f"{prefix}-{at.astimezone(CHINA_TZ):%Y%m%d}-{hashlib.sha256(key.encode()).hexdigest()[:10].upper()}"


class LifecycleRequests(ActionBase):
    """The lifecycle's requests, recorded as documents once per key."""

    async def record_document(
        self, kind: str, prefix: str, key: str, request: BaseModel, build: Any
    ) -> tuple[dict[str, Any], bool]:
        """Record a lifecycle request once per key: ({"id": ...}, whether it was created now).

        The answer is exactly the contract's `DocumentRef` (the lifecycle reads it with extra fields
        forbidden); a repeated key gets the id made the first time."""
        same_key(key, request)
        fingerprint = request_hash(request)

        async def create(conn: store.Conn) -> dict[str, Any]:
            now = datetime.now(UTC)
            document_id = _document_id(prefix, key, now)
            subject, payload = await build(conn, document_id)
            event = EventEnvelope.wrap(payload, subject=subject, producer="cases", occurred_at=now)
            await record_store.insert_document(
                conn,
                document_id=document_id,
                idempotency_key=key,
                kind=kind,
                subject=subject,
                request_hash=fingerprint,
                request=request.model_dump(mode="json"),
                event=event,
                texts=payload.agency_texts(),
            )
            return {"id": document_id}

        async with self._pool.connection() as conn:
            return await self._documents.once(conn, key, fingerprint, create, kind=kind)

    async def notice(self, key: str, notice: AgencyNotice) -> tuple[dict[str, Any], bool]:
        async def build(conn: store.Conn, document_id: str) -> tuple[str, CasesEvent]:
            kind_, _, business_id = notice.subject.partition(":")
            complaint_id = business_id if kind_ == "complaint" else None
            process_case_id = business_id if kind_ == "case" else None
            if complaint_id:
                complaint = await store.get_complaint(conn, complaint_id)
                subject = complaint["case_id"] if complaint else complaint_id
            else:
                subject = await store.case_of_process(conn, process_case_id or notice.subject)
            payload = NoticeRecorded(
                notice_id=document_id,
                workflow_id=notice.subject,
                case_id=process_case_id,
                complaint_id=complaint_id,
                county=notice.county,
                office=notice.office.value,
                kind=notice.kind,
                text=notice.text,
                due_at=notice.due_at,
                department=notice.department,
            )
            return subject, payload

        return await self.record_document("notice", "NOTICE", key, notice, build)

    async def forwarding(self, key: str, request: ForwardRequest) -> tuple[dict[str, Any], bool]:
        async def build(conn: store.Conn, document_id: str) -> tuple[str, CasesEvent]:
            complaint = await store.get_complaint(conn, request.complaint_id)
            payload = ComplaintForwarded(
                forwarding_id=document_id,
                complaint_id=request.complaint_id,
                case_id=complaint["case_id"] if complaint else None,
                county=request.county,
                forward_to=request.forward_to,
                note=request.note,
            )
            return (complaint["case_id"] if complaint else request.complaint_id), payload

        return await self.record_document("forwarding", "FWD", key, request, build)

    async def order(self, key: str, request: OrderToPayRequest) -> tuple[dict[str, Any], bool]:
        async def build(conn: store.Conn, document_id: str) -> tuple[str, CasesEvent]:
            payload = OrderIssued(
                order_id=document_id,
                case_id=request.case_id,
                county=request.county,
                employer_ref=request.employer_ref,
                project_ref=request.project_ref,
                amount_owed=request.amount_owed,
                workers=request.workers,
                pay_days=request.pay_days,
                pay_unit=request.pay_unit.value,
                amends=request.amends,
                added_amount=request.added_amount,
            )
            return await store.case_of_process(conn, request.case_id), payload

        return await self.record_document("order", "ORDER", key, request, build)

    async def compensation(self, key: str, request: CompensationRequest) -> tuple[dict[str, Any], bool]:
        async def build(conn: store.Conn, document_id: str) -> tuple[str, CasesEvent]:
            amount = compensation_amount(request.unpaid_amount, request.rate)
            payload = CompensationDecided(
                decision_id=document_id,
                case_id=request.case_id,
                county=request.county,
                employer_ref=request.employer_ref,
                unpaid_amount=request.unpaid_amount,
                rate=request.rate,
                compensation_amount=amount,
            )
            return await store.case_of_process(conn, request.case_id), payload

        return await self.record_document("compensation_decision", "COMP", key, request, build)

    async def process_report(self, key: str, report: ProcessReport) -> tuple[dict[str, Any], bool]:
        """A workflow's state, recorded once per report with its `process.reported` event (one truth)."""

        async def build(conn: store.Conn, document_id: str) -> tuple[str, CasesEvent]:
            kind_, _, business_id = report.workflow_id.partition(":")
            if kind_ == "complaint":
                complaint = await store.get_complaint(conn, business_id)
                subject = complaint["case_id"] if complaint else business_id
                county = complaint["county"] if complaint else None
            elif kind_ == "case":
                subject = await store.case_of_process(conn, business_id)
                county = None
            else:
                raise Invalid(
                    "Not a lifecycle workflow",
                    f"{report.workflow_id} is neither complaint:<id> nor case:<id>",
                    errors=[
                        {
                            "field": "workflow_id",
                            "code": "value_error",
                            "message": "must be complaint:<id> or case:<id>",
                        }
                    ],
                )
            payload = ProcessReported(
                report_id=document_id,
                workflow_id=report.workflow_id,
                kind=kind_,
                complaint_id=business_id if kind_ == "complaint" else None,
                process_case_id=business_id if kind_ == "case" else None,
                county=county,
                seq=report.seq,
                at=report.at,
                changes=report.changes,
                snapshot=report.snapshot,
            )
            return subject, payload

        return await self.record_document("process_report", "REPORT", key, report, build)
