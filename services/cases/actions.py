"""Inspector actions: checked against the ledger (scope) and the live process (a Temporal Update with a
validator), answered at once, then recorded with their event in one transaction.

The lifecycle's requests (notices, forwardings, orders, compensation decisions), recorded idempotently by their
Idempotency-Key, are in `lifecycle_requests.py`; what the commands share (the engines, the reads with scope, the
Update to a live process, an action recorded with its event) in `action_base.py`. This module composes them
with the inspectors' actions. More actions, as functions over `Cases`: `extension_actions.py`,
`figure_actions.py`, `referral_actions.py`, `regrouping.py`.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.cases import record_store, store
from services.cases.lifecycle_requests import LifecycleRequests
from services.common.auth import Principal
from services.common.errors import Invalid, Refused
from services.contracts.case_decision_events import ExtensionApproved, ExtensionRequested
from services.contracts.case_ledger_events import InspectorAssigned, PartiesRecorded, Party
from services.contracts.cases_events import (
    AcceptanceDecided,
    CallbackRecorded,
    ClosureRecorded,
    EvidenceView,
    PaymentRecorded,
    ServiceRecorded,
    VerificationRecorded,
)
from services.contracts.lifecycle import (
    CLASSIFICATION_OF,
    AcceptanceDecision,
    CallbackRecord,
    CaseStatus,
    Classification,
    ClosureRequest,
    ComplaintStatus,
    ExtensionApproval,
    PaymentRecord,
    ServiceRecord,
    Status,
    Updates,
    VerificationResult,
    case_workflow_id,
    complaint_workflow_id,
)
from services.contracts.process_reports import snapshot_of

M = TypeVar("M", bound=BaseModel)


def contract_model(model: type[M], **values: Any) -> M:
    """Build a contract model from the request; its own rules (e.g. a rejection needs a reason) → 422."""
    try:
        return model(**values)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or "body",
                "code": e["type"],
                "message": e["msg"].removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        raise Invalid("The request is not valid", "; ".join(e["message"] for e in errors), errors=errors) from None


class Cases(LifecycleRequests):
    """The service's commands; one instance per API process."""

    async def decide_acceptance(
        self, principal: Principal, complaint_id: str, body: dict[str, Any], idempotency_key: str | None
    ) -> dict[str, Any]:
        complaint = await self.visible_complaint(principal, complaint_id)
        decision = contract_model(AcceptanceDecision, decided_by=principal.client_id, **body)
        workflow_id = complaint_workflow_id(complaint_id)
        action_id = f"A-{uuid.uuid4().hex[:16].upper()}"
        status = await self._process.update(
            workflow_id,
            Updates.DECIDE_ACCEPTANCE,
            decision,
            update_id=idempotency_key or action_id,
            result_type=ComplaintStatus,
        )
        after = await self._process.settled_status(workflow_id, ComplaintStatus, status)
        case = await self.visible_case(principal, complaint["case_id"])
        payload = AcceptanceDecided(
            action_id=action_id,
            case_id=case["case_id"],
            complaint_id=complaint_id,
            process_case_id=None,
            county=complaint["county"],
            actor=principal.client_id,
            process=snapshot_of(workflow_id, after),
            decision=decision.decision.value,
            reason=decision.reason.value if decision.reason else None,
            forward_to=decision.forward_to,
            missing_items_count=len(decision.missing_items),
        )
        return await self._record_action(
            principal=principal,
            kind=f"acceptance.{decision.decision.value}",
            case=case,
            complaint_id=complaint_id,
            workflow_id=workflow_id,
            idempotency_key=idempotency_key,
            request=decision.model_dump(mode="json"),
            payload=payload,
        )

    async def record_callback(
        self, principal: Principal, complaint_id: str, body: dict[str, Any], idempotency_key: str | None
    ) -> dict[str, Any]:
        complaint = await self.visible_complaint(principal, complaint_id)
        record = contract_model(CallbackRecord, called_by=principal.client_id, **body)
        workflow_id = complaint_workflow_id(complaint_id)
        action_id = f"A-{uuid.uuid4().hex[:16].upper()}"
        status = await self._process.update(
            workflow_id,
            Updates.RECORD_CALLBACK,
            record,
            update_id=idempotency_key or action_id,
            result_type=ComplaintStatus,
        )
        case = await self.visible_case(principal, complaint["case_id"])
        payload = CallbackRecorded(
            action_id=action_id,
            case_id=case["case_id"],
            complaint_id=complaint_id,
            county=complaint["county"],
            actor=principal.client_id,
            process=snapshot_of(workflow_id, status),
            satisfaction=record.satisfaction.value,
        )
        return await self._record_action(
            principal=principal,
            kind="callback",
            case=case,
            complaint_id=complaint_id,
            workflow_id=workflow_id,
            idempotency_key=idempotency_key,
            request=record.model_dump(mode="json"),
            payload=payload,
        )

    async def record_verification(
        self, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
    ) -> dict[str, Any]:
        result = contract_model(VerificationResult, verified_by=principal.client_id, **body)
        if result.department is not None and CLASSIFICATION_OF[result.outcome] is Classification.NON_WAGE_DISPUTE:
            await self._check_handoff_department(result.department)
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, process, Updates.RECORD_VERIFICATION, result, key
        )
        payload = VerificationRecorded(
            **self._common(principal, case, pid, snapshot),
            outcome=result.outcome.value,
            classification=CLASSIFICATION_OF[result.outcome].value,
            department=result.department,
            confirmed_amount=result.confirmed_amount,
            confirmed_workers=result.confirmed_workers,
        )
        return await self._record_action(
            principal=principal,
            kind="verification",
            case=case,
            complaint_id=None,
            workflow_id=workflow_id,
            idempotency_key=key,
            request=result.model_dump(mode="json"),
            payload=payload,
        )

    async def _check_handoff_department(self, department: str) -> None:
        async with self._pool.connection() as conn:
            known = await store.handoff_departments(conn)
        # An empty directory: the referrals service has not published one yet; it still checks the handoff.
        if known and department not in known:
            raise Invalid(
                "Unknown department",
                f"department {department!r} does not take handoffs (known: {', '.join(sorted(known))})",
            )

    async def record_service(
        self, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
    ) -> dict[str, Any]:
        record = contract_model(ServiceRecord, served_by=principal.client_id, **body)
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, process, Updates.RECORD_SERVICE, record, key
        )
        payload = ServiceRecorded(
            **self._common(principal, case, pid, snapshot),
            method=record.method.value,
            evidence=[EvidenceView(kind=e.kind.value, ref=e.ref) for e in record.evidence],
            served_at=record.served_at,
        )
        return await self._record_action(
            principal=principal,
            kind="service",
            case=case,
            complaint_id=None,
            workflow_id=workflow_id,
            idempotency_key=key,
            request=record.model_dump(mode="json"),
            payload=payload,
        )

    async def record_payment(
        self, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
    ) -> dict[str, Any]:
        record = contract_model(PaymentRecord, recorded_by=principal.client_id, **body)
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, process, Updates.RECORD_PAYMENT, record, key
        )
        payload = PaymentRecorded(
            **self._common(principal, case, pid, snapshot),
            payment_id=record.payment_id,
            amount=record.amount,
            paid_at=record.paid_at,
            evidence=[EvidenceView(kind=e.kind.value, ref=e.ref) for e in record.evidence],
            purpose=record.purpose.value,
        )
        return await self._record_action(
            principal=principal,
            kind="payment",
            case=case,
            complaint_id=None,
            workflow_id=workflow_id,
            idempotency_key=key,
            request=record.model_dump(mode="json"),
            payload=payload,
        )

    async def close_case(
        self, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
    ) -> dict[str, Any]:
        request = contract_model(ClosureRequest, closed_by=principal.client_id, **body)
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, process, Updates.CLOSE_CASE, request, key
        )
        payload = ClosureRecorded(**self._common(principal, case, pid, snapshot), reason=request.reason.value)
        return await self._record_action(
            principal=principal,
            kind="closure",
            case=case,
            complaint_id=None,
            workflow_id=workflow_id,
            idempotency_key=key,
            request=request.model_dump(mode="json"),
            payload=payload,
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
            raise Refused(
                "The process refused the action",
                "办案期限已延长过一次 (the investigation limit was already extended once)",
            )
        if status.investigation_overdue:
            raise Refused(
                "The process refused the action",
                "办案期限已届满，延期须在届满前申请 (an extension must be requested before the limit passes)",
            )
        request_id = f"EXT-{uuid.uuid4().hex[:12].upper()}"
        snapshot = snapshot_of(workflow_id, status)
        payload = ExtensionRequested(
            **self._common(principal, case, pid, snapshot), request_id=request_id, reason=reason
        )
        async with self._pool.connection() as conn, conn.transaction():
            if await record_store.pending_extension(conn, pid) is not None:
                raise Refused(
                    "An extension request is pending",
                    "已有待批准的延期申请 (an extension request for this case is already pending)",
                )
            await record_store.insert_extension_request(
                conn,
                request_id=request_id,
                case_id=case["case_id"],
                process_case_id=pid,
                requested_by=principal.client_id,
                reason=reason,
            )
        try:
            response = await self._record_action(
                principal=principal,
                kind="extension.requested",
                case=case,
                complaint_id=None,
                workflow_id=workflow_id,
                idempotency_key=key,
                request={"reason": reason, "request_id": request_id},
                payload=payload,
            )
        except Exception:
            async with self._pool.connection() as conn:
                await record_store.decide_extension(conn, request_id, "system", "failed")
            raise
        return {**response, "request_id": request_id, "status": "pending"}

    async def approve_extension(
        self, principal: Principal, case_id: str, reason: str | None, process: str | None, key: str | None
    ) -> dict[str, Any]:
        case = await self.visible_case(principal, case_id)
        pid = self._target(case, process)
        async with self._pool.connection() as conn:
            pending = await record_store.pending_extension(conn, pid)
        if pending is None:
            raise Refused(
                "No extension request", "没有待批准的延期申请 (no extension request is pending for this case)"
            )
        approval = contract_model(
            ExtensionApproval, approved_by=principal.client_id, reason=reason or pending["reason"]
        )
        case, pid, workflow_id, snapshot = await self._case_update(
            principal, case_id, pid, Updates.APPROVE_EXTENSION, approval, key
        )
        payload = ExtensionApproved(
            **self._common(principal, case, pid, snapshot), request_id=pending["request_id"], reason=approval.reason
        )
        async with self._pool.connection() as conn:
            await record_store.decide_extension(conn, pending["request_id"], principal.client_id, "approved")
        response = await self._record_action(
            principal=principal,
            kind="extension.approved",
            case=case,
            complaint_id=None,
            workflow_id=workflow_id,
            idempotency_key=key,
            request=approval.model_dump(mode="json"),
            payload=payload,
        )
        return {**response, "request_id": pending["request_id"], "status": "approved"}

    async def assign(self, principal: Principal, case_id: str, inspector: str) -> dict[str, Any]:
        case = await self.visible_case(principal, case_id)
        payload = InspectorAssigned(
            action_id=f"A-{uuid.uuid4().hex[:16].upper()}",
            case_id=case["case_id"],
            county=case["county"],
            actor=principal.client_id,
            inspector=inspector,
        )
        return await self._record_action(
            principal=principal,
            kind="assignment",
            case=case,
            complaint_id=None,
            workflow_id=None,
            idempotency_key=None,
            request={"inspector": inspector},
            payload=payload,
        )

    async def record_parties(self, principal: Principal, case_id: str, parties: list[dict[str, Any]]) -> dict[str, Any]:
        """The employer's contractors and the project owner (总包/分包/建设单位), as the inspector found them."""
        case = await self.visible_case(principal, case_id)
        payload = PartiesRecorded(
            action_id=f"A-{uuid.uuid4().hex[:16].upper()}",
            case_id=case["case_id"],
            county=case["county"],
            actor=principal.client_id,
            contractors=[Party(**p) for p in parties],
        )
        return await self._record_action(
            principal=principal,
            kind="parties",
            case=case,
            complaint_id=None,
            workflow_id=None,
            idempotency_key=None,
            request={"contractors": parties},
            payload=payload,
        )
