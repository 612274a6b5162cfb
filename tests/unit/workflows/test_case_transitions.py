"""The case around its order to pay: the reminder when the order is not served and the evidence service by posting
needs, the transitions the case refuses with a reason, a withdrawn complaint leaving its case, a step its service
refused waiting for an operator's retry, and a mass incident reported after refusal starting the sanctions."""

from __future__ import annotations

import pytest

from services.contracts.lifecycle import (
    ActivityNames,
    CaseStage,
    CaseStatus,
    ClosureReason,
    ClosureRequest,
    Evidence,
    EvidenceKind,
    MassIncidentReport,
    PoliceDecision,
    PoliceDecisionRecord,
    ServiceMethod,
    ServiceRecord,
    Signals,
    Status,
    Updates,
    VerificationOutcome,
    VerificationResult,
)

from .case_steps import (
    case_in,
    complaint_closed,
    order_is_issued,
    pass_payment_deadline,
    payment,
    served_case,
    with_deadline,
)
from .harness import Harness, refused, search_attributes


async def test_order_not_served_reminds_the_inspector(harness: Harness) -> None:
    h = harness
    _, case_id = await h.verified_case()
    status = await h.eventually(lambda: with_deadline(h, case_id, "service.reminder"))
    await h.skip_to(status.deadlines["service.reminder"].fire_at)
    await h.eventually(lambda: _has_notice(h, "order.not_served"))
    # Paying before service closes the case too.
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("p", 9000), CaseStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL and not result.served


async def _has_notice(h: Harness, kind: str) -> bool:
    return kind in h.services.notices()


async def test_service_by_posting_needs_photo_or_video() -> None:
    with pytest.raises(ValueError, match="photo or a video"):
        ServiceRecord(
            method=ServiceMethod.POSTING,
            served_by="inspector-7",
            evidence=[Evidence(kind=EvidenceKind.RECEIPT, ref="r")],
        )
    ServiceRecord(
        method=ServiceMethod.POSTING,
        served_by="inspector-7",
        evidence=[Evidence(kind=EvidenceKind.VIDEO, ref="v")],
    )
    with pytest.raises(ValueError, match="receipt"):
        ServiceRecord(
            method=ServiceMethod.IN_PERSON,
            served_by="i",
            evidence=[Evidence(kind=EvidenceKind.PHOTO, ref="p")],
        )


async def test_impossible_case_transitions_are_refused_with_a_reason(harness: Harness) -> None:
    h = harness
    _, case_id = await h.accepted_complaint()
    case = h.case(case_id)
    service = ServiceRecord(
        method=ServiceMethod.POSTING,
        served_by="inspector-7",
        evidence=[Evidence(kind=EvidenceKind.PHOTO, ref="photo-1")],
    )
    assert "this needs stage service" in await refused(h.update(case, Updates.RECORD_SERVICE, service, CaseStatus))
    assert "needs stage service/payment/refusal" in await refused(
        h.update(case, Updates.RECORD_PAYMENT, payment("p", 100), CaseStatus)
    )
    assert "closes through its own steps" in await refused(
        h.update(
            case,
            Updates.CLOSE_CASE,
            ClosureRequest(reason=ClosureReason.PAID_IN_FULL, closed_by="i"),
            CaseStatus,
        )
    )
    police = PoliceDecisionRecord(decision=PoliceDecision.CASE_OPENED, recorded_by="i")
    assert "needs stage refusal" in await refused(h.update(case, Updates.RECORD_POLICE_DECISION, police, CaseStatus))
    verification = VerificationResult(outcome=VerificationOutcome.WAGE_ARREARS, verified_by="i")
    await h.update(case, Updates.RECORD_VERIFICATION, verification, CaseStatus)
    message = await refused(h.update(case, Updates.RECORD_VERIFICATION, verification, CaseStatus))
    assert "already recorded" in message or "needs stage verification" in message
    await h.eventually(lambda: order_is_issued(h, case_id))
    assert "exceeds" in await refused(h.update(case, Updates.RECORD_PAYMENT, payment("big", 10**6), CaseStatus))
    await h.update(case, Updates.RECORD_PAYMENT, payment("p1", 100), CaseStatus)
    assert "already recorded" in await refused(h.update(case, Updates.RECORD_PAYMENT, payment("p1", 100), CaseStatus))
    await h.update(case, Updates.RECORD_SERVICE, service, CaseStatus)
    message = await refused(h.update(case, Updates.RECORD_SERVICE, service, CaseStatus))
    assert "already served" in message or "needs stage service" in message
    with pytest.raises(ValueError, match="department"):
        VerificationResult(outcome=VerificationOutcome.QUANTITY_DISPUTE, verified_by="i")


async def test_a_withdrawn_complaint_leaves_its_case(harness: Harness) -> None:
    from services.contracts.lifecycle import ComplaintStatus, Withdrawal

    h = harness
    first, case_id = await h.accepted_complaint(amount=5000)
    second, _ = await h.accepted_complaint(case_id=case_id, amount=7000)
    await h.update(first, Updates.WITHDRAW_COMPLAINT, Withdrawal(), ComplaintStatus)
    closed = await h.eventually(lambda: complaint_closed(h, first))
    assert closed.closure_reason is ClosureReason.WITHDRAWN
    status = await h.eventually(lambda: _members(h, case_id, 1))
    assert status.amount_owed == 7000
    await h.update(second, Updates.WITHDRAW_COMPLAINT, Withdrawal(), ComplaintStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.WITHDRAWN


async def _members(h: Harness, case_id: str, count: int) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if len(status.members) == count else None


async def test_a_step_refused_by_its_service_waits_for_an_operator_retry(harness: Harness) -> None:
    h = harness
    h.services.refusing.add(ActivityNames.ISSUE_ORDER_TO_PAY)
    _, case_id = await h.verified_case()
    status = await h.eventually(lambda: _stuck(h, case_id))
    assert status.order_id is None and status.status is Status.OPEN
    assert (await search_attributes(h.case(case_id)))["AnxinOverdue"] is True
    h.services.refusing.clear()
    await h.case(case_id).signal(Signals.RETRY_REFUSED_STEP)
    status = await h.eventually(lambda: case_in(h, case_id, CaseStage.SERVICE, order_id="ORDER-1"))
    assert [e.kind for e in status.timeline if e.kind.startswith("step.")] == ["step.refused", "step.retried"]


async def _stuck(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if any(e.kind == "step.refused" for e in status.timeline) else None


async def test_mass_incident_reported_after_refusal_starts_the_sanctions(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=3000, workers=1, months=1)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.blacklist_procedure_id is None
    await h.case(case_id).signal(
        Signals.MASS_INCIDENT_REPORTED, MassIncidentReport(reported_by="inspector-7", summary="工人堵路讨薪")
    )
    status = await h.eventually(lambda: _sanctioned(h, case_id))
    assert status.referrals == {}
    assert len(h.services.distinct(ActivityNames.DECIDE_ADDITIONAL_COMPENSATION)) == 1


async def _sanctioned(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    # Both steps: the listing is proposed first, the publication mark a moment later.
    return status if status.blacklist_procedure_id and status.publication_id else None
