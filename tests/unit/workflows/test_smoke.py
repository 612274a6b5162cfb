from __future__ import annotations

from decimal import Decimal

from services.contracts.lifecycle import (
    CaseStage,
    CaseStatus,
    ClosureReason,
    Evidence,
    EvidenceKind,
    PaymentRecord,
    ServiceMethod,
    ServiceRecord,
    Updates,
)

from .harness import Harness


async def test_paid_before_deadline(harness: Harness) -> None:
    h = harness
    complaint, case_id = await h.verified_case()
    case = h.case(case_id)
    await h.eventually(lambda: _stage(h, case_id, CaseStage.SERVICE, order=True))
    await h.update(
        case,
        Updates.RECORD_SERVICE,
        ServiceRecord(
            method=ServiceMethod.IN_PERSON,
            served_by="inspector-7",
            evidence=[Evidence(kind=EvidenceKind.RECEIPT, ref="file-1")],
        ),
        CaseStatus,
    )
    await h.update(
        case,
        Updates.RECORD_PAYMENT,
        PaymentRecord(payment_id="p1", amount=Decimal(9000), recorded_by="inspector-7"),
        CaseStatus,
    )
    result = await case.result()
    assert result.closure_reason is ClosureReason.PAID_IN_FULL
    status = await h.eventually(lambda: _complaint_closed(h, complaint))
    print(status.timeline)


async def _stage(h: Harness, case_id: str, stage: CaseStage, order: bool = False) -> bool:
    s = await h.case_status(case_id)
    return s.stage is stage and (not order or s.order_id is not None)


async def _complaint_closed(h: Harness, handle):
    s = await h.complaint_status(handle)
    return s if s.closure_reason else None
