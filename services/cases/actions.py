"""Inspector actions: checked against the ledger (scope) and the live process (a Temporal Update with a
validator), answered at once, then recorded with their event in one transaction.

The lifecycle's requests (notices, forwardings, orders, compensation decisions) are recorded here too,
idempotently by their Idempotency-Key.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from services.cases import domain, store
from services.common import audit
from services.common.auth import Principal
from services.common.commands import (
    REQUEST_FINGERPRINT,
    ActionLog,
    KeyedRecords,
    in_scope,
    request_hash,
    same_key,
)
from services.common.errors import Invalid, Refused
from services.common.process_gateway import ProcessGateway
from services.contracts.cases_events import (
    AcceptanceDecided,
    ActionRecorded,
    CallbackRecorded,
    CasesEvent,
    ClosureRecorded,
    CompensationDecided,
    ComplaintForwarded,
    EvidenceView,
    ExtensionApproved,
    ExtensionRequested,
    InspectorAssigned,
    NoticeRecorded,
    OrderIssued,
    PartiesRecorded,
    Party,
    PaymentRecorded,
    ProcessReported,
    ProcessSnapshot,
    ServiceRecorded,
    VerificationRecorded,
)
from services.contracts.events import EventEnvelope
from services.contracts.lifecycle import (
    CLASSIFICATION_OF,
    AcceptanceDecision,
    AgencyNotice,
    CallbackRecord,
    CaseStatus,
    Classification,
    ClosureRequest,
    CompensationRequest,
    ComplaintStatus,
    ExtensionApproval,
    ForwardRequest,
    OrderToPayRequest,
    PaymentRecord,
    Queries,
    ServiceRecord,
    Status,
    Updates,
    VerificationResult,
    case_workflow_id,
    compensation_amount,
    complaint_workflow_id,
)
from services.contracts.process_reports import ProcessReport, snapshot_of

M = TypeVar("M", bound=BaseModel)


def contract_model(model: type[M], **values: Any) -> M:
    """Build a contract model from the request; its own rules (e.g. a rejection needs a reason) → 422."""
    try:
        return model(**values)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "code": e["type"],
                   "message": e["msg"].removeprefix("Value error, ")} for e in exc.errors()]
        raise Invalid("The request is not valid", "; ".join(e["message"] for e in errors), errors=errors) from None




def _document_id(prefix: str, key: str, at: datetime) -> str:
    return f"{prefix}-{at.astimezone(domain.CHINA_TZ):%Y%m%d}-{hashlib.sha256(key.encode()).hexdigest()[:10].upper()}"


class Cases:
    """The service's commands; one instance per API process."""

    def __init__(self, pool: AsyncConnectionPool, client: Client) -> None:
        self._pool = pool
        self._process = ProcessGateway(client, status_query=Queries.STATUS)
        self._documents = KeyedRecords(store.find_document, answer=lambda row: {"id": row["document_id"]})
        self._actions = ActionLog(pool, store.find_action)

    @property
    def pool(self) -> AsyncConnectionPool:
        return self._pool

    @property
    def processes(self) -> ProcessGateway:
        """The case and complaint workflows, reached through Temporal."""
        return self._process

    # --- reads with scope -----------------------------------------------------------------------------

    async def visible_case(self, principal: Principal, case_id: str) -> dict[str, Any]:
        return await in_scope(self._pool, store.get_case, case_id, "case",
                              lambda case: domain.may_see(principal, case["county"]))

    async def visible_complaint(self, principal: Principal, complaint_id: str) -> dict[str, Any]:
        return await in_scope(self._pool, store.get_complaint, complaint_id, "complaint",
                              lambda complaint: domain.may_see(principal, complaint["county"]))

    # --- the lifecycle's requests ----------------------------------------------------------------------

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
            await store.insert_document(
                conn, document_id=document_id, idempotency_key=key, kind=kind, subject=subject,
                request_hash=fingerprint, request=request.model_dump(mode="json"), event=event,
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
                notice_id=document_id, workflow_id=notice.subject, case_id=process_case_id, complaint_id=complaint_id,
                county=notice.county, office=notice.office.value, kind=notice.kind, text=notice.text,
                due_at=notice.due_at, department=notice.department,
            )
            return subject, payload

        return await self.record_document("notice", "NOTICE", key, notice, build)

    async def forwarding(self, key: str, request: ForwardRequest) -> tuple[dict[str, Any], bool]:
        async def build(conn: store.Conn, document_id: str) -> tuple[str, CasesEvent]:
            complaint = await store.get_complaint(conn, request.complaint_id)
            payload = ComplaintForwarded(
                forwarding_id=document_id, complaint_id=request.complaint_id,
                case_id=complaint["case_id"] if complaint else None, county=request.county,
                forward_to=request.forward_to, note=request.note,
            )
            return (complaint["case_id"] if complaint else request.complaint_id), payload

        return await self.record_document("forwarding", "FWD", key, request, build)

    async def order(self, key: str, request: OrderToPayRequest) -> tuple[dict[str, Any], bool]:
        async def build(conn: store.Conn, document_id: str) -> tuple[str, CasesEvent]:
            payload = OrderIssued(
                order_id=document_id, case_id=request.case_id, county=request.county,
                employer_ref=request.employer_ref, project_ref=request.project_ref, amount_owed=request.amount_owed,
                workers=request.workers, pay_days=request.pay_days, pay_unit=request.pay_unit.value,
                amends=request.amends, added_amount=request.added_amount,
            )
            return await store.case_of_process(conn, request.case_id), payload

        return await self.record_document("order", "ORDER", key, request, build)

    async def compensation(self, key: str, request: CompensationRequest) -> tuple[dict[str, Any], bool]:
        async def build(conn: store.Conn, document_id: str) -> tuple[str, CasesEvent]:
            amount = compensation_amount(request.unpaid_amount, request.rate)
            payload = CompensationDecided(
                decision_id=document_id, case_id=request.case_id, county=request.county,
                employer_ref=request.employer_ref, unpaid_amount=request.unpaid_amount, rate=request.rate,
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
                raise Invalid("Not a lifecycle workflow", f"{report.workflow_id} is neither complaint:<id> nor case:<id>",
                              errors=[{"field": "workflow_id", "code": "value_error",
                                       "message": "must be complaint:<id> or case:<id>"}])
            payload = ProcessReported(
                report_id=document_id, workflow_id=report.workflow_id, kind=kind_,
                complaint_id=business_id if kind_ == "complaint" else None,
                process_case_id=business_id if kind_ == "case" else None, county=county,
                seq=report.seq, at=report.at, changes=report.changes, snapshot=report.snapshot,
            )
            return subject, payload

        return await self.record_document("process_report", "REPORT", key, report, build)

    # --- inspector actions ----------------------------------------------------------------------------

    async def _record_action(
        self,
        *,
        principal: Principal,
        kind: str,
        case: dict[str, Any],
        complaint_id: str | None,
        workflow_id: str | None,
        idempotency_key: str | None,
        request: dict[str, Any],
        payload: ActionRecorded,
    ) -> dict[str, Any]:
        action_id = payload.action_id
        event = EventEnvelope.wrap(payload, subject=case["case_id"], producer="cases")
        response = {"action_id": action_id, "accepted": True, "kind": kind, "case_id": case["case_id"],
                    "complaint_id": complaint_id, "workflow_id": workflow_id,
                    "process": payload.process.model_dump(mode="json") if payload.process else None}
        async with self._pool.connection() as conn, conn.transaction():
            await store.insert_action(
                conn, action_id=action_id, idempotency_key=idempotency_key, kind=kind, case_id=case["case_id"],
                complaint_id=complaint_id, workflow_id=workflow_id, actor=principal.client_id, request=request,
                response=response, event=event, request_fingerprint=REQUEST_FINGERPRINT.get(),
                texts=payload.agency_texts(),
            )
            await audit.record(conn, principal, f"case.{kind}", complaint_id or case["case_id"],
                               detail={"action_id": action_id, "case_id": case["case_id"]})
        return response

    async def repeated_action(self, principal: Principal, idempotency_key: str | None) -> dict[str, Any] | None:
        return await self._actions.repeated(
            idempotency_key, principal, lambda action: self.visible_case(principal, action["case_id"]))

    async def decide_acceptance(
        self, principal: Principal, complaint_id: str, body: dict[str, Any], idempotency_key: str | None
    ) -> dict[str, Any]:
        complaint = await self.visible_complaint(principal, complaint_id)
        decision = contract_model(AcceptanceDecision, decided_by=principal.client_id, **body)
        workflow_id = complaint_workflow_id(complaint_id)
        action_id = f"A-{uuid.uuid4().hex[:16].upper()}"
        status = await self._process.update(workflow_id, Updates.DECIDE_ACCEPTANCE, decision,
                                            update_id=idempotency_key or action_id, result_type=ComplaintStatus)
        after = await self._process.settled_status(workflow_id, ComplaintStatus, status)
        case = await self.visible_case(principal, complaint["case_id"])
        payload = AcceptanceDecided(
            action_id=action_id, case_id=case["case_id"], complaint_id=complaint_id,
            process_case_id=None, county=complaint["county"], actor=principal.client_id,
            process=snapshot_of(workflow_id, after), decision=decision.decision.value,
            reason=decision.reason.value if decision.reason else None, forward_to=decision.forward_to,
            missing_items_count=len(decision.missing_items),
        )
        return await self._record_action(
            principal=principal, kind=f"acceptance.{decision.decision.value}",
            case=case, complaint_id=complaint_id, workflow_id=workflow_id, idempotency_key=idempotency_key,
            request=decision.model_dump(mode="json"), payload=payload,
        )

    async def record_callback(
        self, principal: Principal, complaint_id: str, body: dict[str, Any], idempotency_key: str | None
    ) -> dict[str, Any]:
        complaint = await self.visible_complaint(principal, complaint_id)
        record = contract_model(CallbackRecord, called_by=principal.client_id, **body)
        workflow_id = complaint_workflow_id(complaint_id)
        action_id = f"A-{uuid.uuid4().hex[:16].upper()}"
        status = await self._process.update(workflow_id, Updates.RECORD_CALLBACK, record,
                                            update_id=idempotency_key or action_id, result_type=ComplaintStatus)
        case = await self.visible_case(principal, complaint["case_id"])
        payload = CallbackRecorded(
            action_id=action_id, case_id=case["case_id"], complaint_id=complaint_id, county=complaint["county"],
            actor=principal.client_id, process=snapshot_of(workflow_id, status),
            satisfaction=record.satisfaction.value,
        )
        return await self._record_action(
            principal=principal, kind="callback", case=case,
            complaint_id=complaint_id, workflow_id=workflow_id, idempotency_key=idempotency_key,
            request=record.model_dump(mode="json"), payload=payload,
        )

    async def _case_update(
        self,
        principal: Principal,
        case_id: str,
        requested_process: str | None,
        update: str,
        arg: BaseModel,
        idempotency_key: str | None,
    ) -> tuple[dict[str, Any], str, str, ProcessSnapshot]:
        case = await self.visible_case(principal, case_id)
        process_case_id = self._target(case, requested_process)
        workflow_id = case_workflow_id(process_case_id)
        update_id = idempotency_key or f"A-{uuid.uuid4().hex[:16].upper()}"
        status = await self._process.update(workflow_id, update, arg, update_id=update_id, result_type=CaseStatus)
        after = await self._process.settled_status(workflow_id, CaseStatus, status)
        return case, process_case_id, workflow_id, snapshot_of(workflow_id, after)

    @staticmethod
    def _target(case: dict[str, Any], requested: str | None) -> str:
        return domain.target_process(list(case["process_case_ids"]), requested)

    def _common(self, principal: Principal, case: dict[str, Any], process_case_id: str,
                snapshot: ProcessSnapshot) -> dict[str, Any]:
        return {"action_id": f"A-{uuid.uuid4().hex[:16].upper()}", "case_id": case["case_id"],
                "process_case_id": process_case_id, "county": case["county"], "actor": principal.client_id,
                "process": snapshot}

    async def record_verification(
        self, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
    ) -> dict[str, Any]:
        result = contract_model(VerificationResult, verified_by=principal.client_id, **body)
        if result.department is not None and CLASSIFICATION_OF[result.outcome] is Classification.NON_WAGE_DISPUTE:
            await self._check_handoff_department(result.department)
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, process, Updates.RECORD_VERIFICATION, result, key)
        payload = VerificationRecorded(
            **self._common(principal, case, pid, snapshot), outcome=result.outcome.value,
            classification=CLASSIFICATION_OF[result.outcome].value, department=result.department,
            confirmed_amount=result.confirmed_amount, confirmed_workers=result.confirmed_workers,
        )
        return await self._record_action(
            principal=principal, kind="verification", case=case,
            complaint_id=None, workflow_id=workflow_id, idempotency_key=key, request=result.model_dump(mode="json"),
            payload=payload,
        )

    async def _check_handoff_department(self, department: str) -> None:
        async with self._pool.connection() as conn:
            known = await store.handoff_departments(conn)
        # An empty directory: the referrals service has not published one yet; it still checks the handoff.
        if known and department not in known:
            raise Invalid("Unknown department",
                          f"department {department!r} does not take handoffs (known: {', '.join(sorted(known))})")

    async def record_service(
        self, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
    ) -> dict[str, Any]:
        record = contract_model(ServiceRecord, served_by=principal.client_id, **body)
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, process, Updates.RECORD_SERVICE, record, key)
        payload = ServiceRecorded(
            **self._common(principal, case, pid, snapshot), method=record.method.value,
            evidence=[EvidenceView(kind=e.kind.value, ref=e.ref) for e in record.evidence], served_at=record.served_at,
        )
        return await self._record_action(
            principal=principal, kind="service", case=case, complaint_id=None,
            workflow_id=workflow_id, idempotency_key=key, request=record.model_dump(mode="json"), payload=payload,
        )

    async def record_payment(
        self, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
    ) -> dict[str, Any]:
        record = contract_model(PaymentRecord, recorded_by=principal.client_id, **body)
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, process, Updates.RECORD_PAYMENT, record, key)
        payload = PaymentRecorded(
            **self._common(principal, case, pid, snapshot), payment_id=record.payment_id, amount=record.amount,
            paid_at=record.paid_at, evidence=[EvidenceView(kind=e.kind.value, ref=e.ref) for e in record.evidence],
            purpose=record.purpose.value,
        )
        return await self._record_action(
            principal=principal, kind="payment", case=case, complaint_id=None,
            workflow_id=workflow_id, idempotency_key=key, request=record.model_dump(mode="json"), payload=payload,
        )

    async def close_case(
        self, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
    ) -> dict[str, Any]:
        request = contract_model(ClosureRequest, closed_by=principal.client_id, **body)
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, process, Updates.CLOSE_CASE, request, key)
        payload = ClosureRecorded(**self._common(principal, case, pid, snapshot), reason=request.reason.value)
        return await self._record_action(
            principal=principal, kind="closure", case=case, complaint_id=None,
            workflow_id=workflow_id, idempotency_key=key, request=request.model_dump(mode="json"), payload=payload,
        )

    async def request_extension(
        self, principal: Principal, case_id: str, reason: str, process: str | None, key: str | None
    ) -> dict[str, Any]:
        case = await self.visible_case(principal, case_id)
        pid = self._target(case, process)
        workflow_id = case_workflow_id(pid)
        status = await self._process.require_status(workflow_id, CaseStatus)
        # The same conditions the process's approval validator checks, so a request that can never be
        # approved is refused now rather than at approval.
        if status.status is not Status.OPEN:
            raise Refused("The process refused the action", f"案件已结案，不能延期 (the case is {status.status.value})")
        if status.extension_approved:
            raise Refused("The process refused the action",
                          "办案期限已延长过一次 (the investigation limit was already extended once)")
        if status.investigation_overdue:
            raise Refused("The process refused the action",
                          "办案期限已届满，延期须在届满前申请 (an extension must be requested before the limit passes)")
        request_id = f"EXT-{uuid.uuid4().hex[:12].upper()}"
        snapshot = snapshot_of(workflow_id, status)
        payload = ExtensionRequested(**self._common(principal, case, pid, snapshot), request_id=request_id,
                                     reason=reason)
        async with self._pool.connection() as conn, conn.transaction():
            if await store.pending_extension(conn, pid) is not None:
                raise Refused("An extension request is pending",
                              "已有待批准的延期申请 (an extension request for this case is already pending)")
            await store.insert_extension_request(conn, request_id=request_id, case_id=case["case_id"],
                                                 process_case_id=pid, requested_by=principal.client_id, reason=reason)
        try:
            response = await self._record_action(
                principal=principal, kind="extension.requested", case=case,
                complaint_id=None, workflow_id=workflow_id, idempotency_key=key,
                request={"reason": reason, "request_id": request_id}, payload=payload,
            )
        except Exception:
            async with self._pool.connection() as conn:
                await store.decide_extension(conn, request_id, "system", "failed")
            raise
        return {**response, "request_id": request_id, "status": "pending"}

    async def approve_extension(
        self, principal: Principal, case_id: str, reason: str | None, process: str | None, key: str | None
    ) -> dict[str, Any]:
        case = await self.visible_case(principal, case_id)
        pid = self._target(case, process)
        async with self._pool.connection() as conn:
            pending = await store.pending_extension(conn, pid)
        if pending is None:
            raise Refused("No extension request", "没有待批准的延期申请 (no extension request is pending for this case)")
        approval = contract_model(ExtensionApproval, approved_by=principal.client_id,
                                  reason=reason or pending["reason"])
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, pid, Updates.APPROVE_EXTENSION, approval, key)
        payload = ExtensionApproved(**self._common(principal, case, pid, snapshot),
                                    request_id=pending["request_id"], reason=approval.reason)
        async with self._pool.connection() as conn:
            await store.decide_extension(conn, pending["request_id"], principal.client_id, "approved")
        response = await self._record_action(
            principal=principal, kind="extension.approved", case=case,
            complaint_id=None, workflow_id=workflow_id, idempotency_key=key,
            request=approval.model_dump(mode="json"), payload=payload,
        )
        return {**response, "request_id": pending["request_id"], "status": "approved"}

    async def assign(self, principal: Principal, case_id: str, inspector: str) -> dict[str, Any]:
        case = await self.visible_case(principal, case_id)
        payload = InspectorAssigned(
            action_id=f"A-{uuid.uuid4().hex[:16].upper()}", case_id=case["case_id"], county=case["county"],
            actor=principal.client_id, inspector=inspector,
        )
        return await self._record_action(
            principal=principal, kind="assignment", case=case,
            complaint_id=None, workflow_id=None, idempotency_key=None, request={"inspector": inspector},
            payload=payload,
        )

    async def record_parties(self, principal: Principal, case_id: str, parties: list[dict[str, Any]]) -> dict[str, Any]:
        """The employer's contractors and the project owner (总包/分包/建设单位), as the inspector found them."""
        case = await self.visible_case(principal, case_id)
        payload = PartiesRecorded(
            action_id=f"A-{uuid.uuid4().hex[:16].upper()}", case_id=case["case_id"], county=case["county"],
            actor=principal.client_id, contractors=[Party(**p) for p in parties],
        )
        return await self._record_action(
            principal=principal, kind="parties", case=case,
            complaint_id=None, workflow_id=None, idempotency_key=None, request={"contractors": parties},
            payload=payload,
        )

