"""An early-warning case: a case workflow started on a project's warning with no member complaint, verified by an
inspector like any case — with arrears (the figures are the inspector's, the order to pay goes to the general
contractor, nobody to call back), without (closed: no arrears found) — and joined by a complaint filed later."""

from __future__ import annotations

from decimal import Decimal

from services.contracts.lifecycle import (
    ActivityNames,
    CaseKind,
    CaseStage,
    CaseStatus,
    Classification,
    ClosureReason,
    ComplaintStatus,
    Evidence,
    EvidenceKind,
    ServiceMethod,
    ServiceRecord,
    Status,
    Updates,
    VerificationOutcome,
    VerificationResult,
    Withdrawal,
)

from .case_steps import case_in, order_is_issued, payment
from .harness import EARLY_WARNING_EMPLOYER, Harness, refused


def verification(outcome: VerificationOutcome, **figures: object) -> VerificationResult:
    return VerificationResult(outcome=outcome, verified_by="inspector-7", **figures)  # type: ignore[arg-type]


async def test_a_case_opened_on_a_warning_waits_for_verification_without_a_member(harness: Harness) -> None:
    h = harness
    case_id = await h.start_early_warning_case()
    status = await h.eventually(lambda: case_in(h, case_id, CaseStage.VERIFICATION))
    assert status.status is Status.OPEN and status.members == [] and status.workers == 0
    assert status.origin is not None and status.origin.kind is CaseKind.EARLY_WARNING
    assert status.origin.warning_ids == ["WRN-1"]
    # The investigation limit runs from the case's opening, as from a complaint case's first acceptance.
    await h.eventually(lambda: _has_deadline(h, case_id, "investigation.limit.60"))
    assert any(e.kind == "case.opened" and "预警" in e.text for e in status.timeline)


async def _has_deadline(h: Harness, case_id: str, name: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if name in status.deadlines else None


async def test_verified_with_arrears_the_contractor_is_ordered_to_pay_the_inspectors_figures(harness: Harness) -> None:
    h = harness
    case_id = await h.start_early_warning_case()
    await h.eventually(lambda: case_in(h, case_id, CaseStage.VERIFICATION))
    handle = h.case(case_id)
    # No complaint's claim to sum: the inspector's own figures are needed.
    without_figures = await refused(
        h.update(handle, Updates.RECORD_VERIFICATION, verification(VerificationOutcome.WAGE_ARREARS), CaseStatus)
    )
    assert "confirmed_amount" in without_figures
    # Nobody complained: no complainant to withdraw or to find unfounded.
    unfounded = await refused(
        h.update(handle, Updates.RECORD_VERIFICATION, verification(VerificationOutcome.UNFOUNDED), CaseStatus)
    )
    assert "no complainant" in unfounded
    await h.update(
        handle,
        Updates.RECORD_VERIFICATION,
        verification(VerificationOutcome.WAGE_ARREARS, confirmed_amount=Decimal(48000), confirmed_workers=12),
        CaseStatus,
    )
    status = await h.eventually(lambda: case_in(h, case_id, CaseStage.SERVICE))
    assert (status.amount_owed, status.workers, status.classification) == (
        Decimal(48000),
        12,
        Classification.WAGE_ARREARS,
    )
    order = (await h.eventually(lambda: _orders(h)))[0]
    assert (order.case_id, order.employer_ref, order.amount_owed, order.workers) == (
        case_id,
        EARLY_WARNING_EMPLOYER,
        Decimal(48000),
        12,
    )
    # The fake service has the order before the workflow has its answer: serve it once the workflow knows it.
    await h.eventually(lambda: order_is_issued(h, case_id))
    await h.update(
        handle,
        Updates.RECORD_SERVICE,
        ServiceRecord(
            method=ServiceMethod.IN_PERSON,
            served_by="inspector-7",
            evidence=[Evidence(kind=EvidenceKind.RECEIPT, ref="receipt-1")],
        ),
        CaseStatus,
    )
    await h.eventually(lambda: case_in(h, case_id, CaseStage.PAYMENT))
    await h.update(handle, Updates.RECORD_PAYMENT, payment("bank-1", 48000), CaseStatus)
    result = await h.result(handle)
    assert (result.status, result.closure_reason, result.outstanding) == (
        Status.CLOSED,
        ClosureReason.PAID_IN_FULL,
        Decimal(0),
    )
    # Nobody to tell of its progress, nor to call back: no message went out.
    assert h.sms.templates() == []
    assert not any(e.kind == "progress.undelivered" for e in result.timeline)


async def _orders(h: Harness) -> list[object]:
    return h.services.distinct(ActivityNames.ISSUE_ORDER_TO_PAY)


async def test_verified_without_arrears_it_closes_saying_none_were_found(harness: Harness) -> None:
    h = harness
    case_id = await h.start_early_warning_case()
    await h.eventually(lambda: case_in(h, case_id, CaseStage.VERIFICATION))
    await h.update(
        h.case(case_id), Updates.RECORD_VERIFICATION, verification(VerificationOutcome.NO_ARREARS_FOUND), CaseStatus
    )
    result = await h.result(h.case(case_id))
    # Nobody complained, so nothing was found unfounded: the case closes with the reason of its own.
    assert (result.status, result.outcome, result.classification, result.closure_reason) == (
        Status.CLOSED,
        VerificationOutcome.NO_ARREARS_FOUND,
        Classification.NO_VIOLATION,
        ClosureReason.NO_ARREARS_FOUND,
    )
    closed = [e.text for e in result.timeline if e.kind == "case.closed"]
    assert closed == ["结案（经核查未发现欠薪）：经核查未发现欠薪"], closed
    assert h.services.distinct(ActivityNames.ISSUE_ORDER_TO_PAY) == []
    assert h.sms.templates() == []


async def test_a_complaint_joining_it_is_counted_and_its_withdrawal_leaves_the_case_open(harness: Harness) -> None:
    h = harness
    case_id = await h.start_early_warning_case()
    await h.eventually(lambda: case_in(h, case_id, CaseStage.VERIFICATION))
    complaint, joined = await h.accepted_complaint(case_id=case_id, amount=Decimal(9000), workers=2)
    assert joined == case_id
    status = await h.case_status(case_id)
    assert (len(status.members), status.amount_owed, status.workers) == (1, Decimal(9000), 2)
    # With a complainant, the complaint's outcomes apply; no_arrears_found is the case's alone.
    message = await refused(
        h.update(
            h.case(case_id), Updates.RECORD_VERIFICATION, verification(VerificationOutcome.NO_ARREARS_FOUND), CaseStatus
        )
    )
    assert "complaints joined" in message
    await h.update(complaint, Updates.WITHDRAW_COMPLAINT, Withdrawal(reason="已与老板协商解决"), ComplaintStatus)
    await h.eventually(lambda: _member_left(h, case_id))
    # The case stands on its warning: the complaint's withdrawal does not close it as withdrawn.
    status = await h.case_status(case_id)
    assert (status.status, status.stage, status.members) == (Status.OPEN, CaseStage.VERIFICATION, [])
    await h.update(
        h.case(case_id), Updates.RECORD_VERIFICATION, verification(VerificationOutcome.NO_ARREARS_FOUND), CaseStatus
    )
    result = await h.result(h.case(case_id))
    assert result.outcome is VerificationOutcome.NO_ARREARS_FOUND


async def _member_left(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if not status.members and any(e.kind == "case.member_left" for e in status.timeline) else None
