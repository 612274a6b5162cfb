"""A case that grows: after verification a later complaint reopens the figures, the inspector confirms new
totals, an amended order follows, and the criminal threshold is judged on the whole case at every refusal;
before verification a merge moves one case's complaints into another's process."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.contracts.lifecycle import (
    ActivityNames,
    CaseMergeRequest,
    CaseStage,
    CaseStatus,
    ClosureReason,
    ComplaintStatus,
    Evidence,
    EvidenceKind,
    FiguresConfirmation,
    ServiceMethod,
    ServiceRecord,
    Status,
    Updates,
    VerificationOutcome,
    VerificationResult,
    Withdrawal,
)
from services.contracts.process_reports import ProcessSnapshot

from .case_steps import case_escalated, pass_payment_deadline, payment, with_deadline
from .harness import Harness, refused

SERVICE = ServiceRecord(
    method=ServiceMethod.IN_PERSON,
    served_by="inspector-7",
    evidence=[Evidence(kind=EvidenceKind.RECEIPT, ref="receipt-1")],
)


async def confirmed_case(h: Harness, amount: int, workers: int) -> tuple[Any, str]:
    """A case verified as wage arrears with its figures confirmed by the inspector."""
    handle, case_id = await h.accepted_complaint(amount=amount, workers=workers, months=2)
    await h.update(
        h.case(case_id),
        Updates.RECORD_VERIFICATION,
        VerificationResult(
            outcome=VerificationOutcome.WAGE_ARREARS,
            verified_by="inspector-7",
            confirmed_amount=Decimal(amount),
            confirmed_workers=workers,
        ),
        CaseStatus,
    )
    return handle, case_id


async def serve(h: Harness, case_id: str) -> CaseStatus:
    await h.eventually(lambda: _in_stage(h, case_id, CaseStage.SERVICE))
    await h.update(h.case(case_id), Updates.RECORD_SERVICE, SERVICE, CaseStatus)
    return await h.eventually(lambda: _payment_running(h, case_id))


async def _reported(h: Harness, case_id: str, check: Any) -> ProcessSnapshot | None:
    """The case workflow's latest report to the ledger, once `check` holds for its snapshot."""
    reports = h.services.reports.get(f"case:{case_id}")
    snapshot = h.services.last_report(f"case:{case_id}").snapshot if reports else None
    return snapshot if snapshot is not None and check(snapshot) else None


async def _in_stage(h: Harness, case_id: str, stage: CaseStage) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if status.stage is stage and status.order_id else None


async def _payment_running(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    deadline = status.deadlines.get("order.payment")
    return status if deadline is not None and deadline.outcome == "pending" else None


def confirm(amount: int, workers: int) -> FiguresConfirmation:
    return FiguresConfirmation(
        confirmed_amount=Decimal(amount), confirmed_workers=workers, confirmed_by="inspector-7", notes="新增投诉核实"
    )


async def test_a_tenth_worker_joining_after_verification_amends_the_order_and_reaches_the_threshold(
    harness: Harness,
) -> None:
    h = harness
    # Nine workers owed ¥36,000 in all: below both tests (10 workers; ¥5,000 each).
    _, case_id = await confirmed_case(h, amount=36000, workers=9)
    await serve(h, case_id)
    # A tenth worker's complaint joins while the order runs: counted at its claim until confirmed.
    await h.accepted_complaint(case_id=case_id, amount=4000, workers=1, months=2)
    status = await h.case_status(case_id)
    late = [m for m in status.members if m in status.unconfirmed_members]
    assert len(late) == 1 and status.amount_owed == 40000 and status.workers == 10
    assert any(e.kind == "case.figures_reopened" for e in status.timeline)
    # The ledger hears that the case waits for its new totals (the console shows the form from it).
    await h.eventually(lambda: _reported(h, case_id, lambda s: s.unconfirmed_members == late))

    # The inspector confirms the new totals: an amended order for the added ¥4,000, served anew.
    await h.update(h.case(case_id), Updates.CONFIRM_FIGURES, confirm(40000, 10), CaseStatus)
    status = await h.eventually(lambda: _in_stage(h, case_id, CaseStage.SERVICE))
    orders = h.services.distinct(ActivityNames.ISSUE_ORDER_TO_PAY)
    assert len(orders) == 2 and orders[1].amends == status.order_id and orders[1].added_amount == 4000
    assert orders[1].amount_owed == 40000 and orders[1].workers == 10
    assert len(status.amended_orders) == 1 and status.amended_orders[0] != status.order_id
    assert status.deadlines["order.payment@1"].outcome == "superseded"
    assert status.unconfirmed_members == []

    # Served and unpaid: the refusal judges the whole case, which now reaches the threshold.
    status = await serve(h, case_id)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.threshold is not None and status.threshold.reached and status.threshold.workers == 10
    assert status.referral_approval is not None and status.referral_approval.outcome == "awaiting_report"
    reported = await h.eventually(lambda: _reported(h, case_id, lambda s: s.referral_approval == "awaiting_report"))
    assert reported.unconfirmed_members == [] and reported.referral_withdrawal is None


async def test_new_totals_after_the_refusal_bring_an_amended_order_and_a_new_assessment(harness: Harness) -> None:
    h = harness
    _, case_id = await confirmed_case(h, amount=36000, workers=9)
    status = await serve(h, case_id)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.threshold is not None and not status.threshold.reached
    assert status.referral_approval is None

    await h.accepted_complaint(case_id=case_id, amount=4000, workers=1, months=2)
    await h.update(h.case(case_id), Updates.CONFIRM_FIGURES, confirm(40000, 10), CaseStatus)
    status = await h.eventually(lambda: with_deadline(h, case_id, "order.amended_payment#1"))
    assert status.stage is CaseStage.REFUSAL and len(status.amended_orders) == 1
    amended = h.services.distinct(ActivityNames.ISSUE_ORDER_TO_PAY)[1]
    assert amended.added_amount == 4000 and amended.amount_owed == 40000

    # The amended order's time passes unpaid: the threshold is assessed again, on the whole case.
    await h.skip_to(status.deadlines["order.amended_payment#1"].fire_at)

    async def reassessed() -> CaseStatus | None:
        s = await h.case_status(case_id)
        return s if s.threshold is not None and s.threshold.reached else None

    status = await h.eventually(reassessed)
    assert status.deadlines["order.amended_payment#1"].outcome == "expired"
    assert any(e.kind == "order.amended_deadline_passed" for e in status.timeline)
    assert (await h.eventually(lambda: case_escalated(h, case_id))).referral_approval is not None
    # One compensation decision: it stands for the refusal of the first order.
    assert len(h.services.distinct(ActivityNames.DECIDE_ADDITIONAL_COMPENSATION)) == 1


async def test_a_late_complaint_keeps_the_case_open_until_its_worker_is_paid(harness: Harness) -> None:
    h = harness
    _, case_id = await confirmed_case(h, amount=6000, workers=1)
    await serve(h, case_id)
    await h.accepted_complaint(case_id=case_id, amount=3000, workers=1, months=2)
    # The first worker's wages paid: not "paid in full" while the later worker's claim is open.
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("first", 6000), CaseStatus)
    status = await h.case_status(case_id)
    assert status.status is Status.OPEN and status.outstanding == 3000
    # Figures below what was paid are refused; the confirmed totals, paid, close the case.
    assert "below the 6000" in await refused(
        h.update(h.case(case_id), Updates.CONFIRM_FIGURES, confirm(5000, 2), CaseStatus)
    )
    await h.update(h.case(case_id), Updates.CONFIRM_FIGURES, confirm(8500, 2), CaseStatus)
    status = await h.eventually(lambda: _in_stage(h, case_id, CaseStage.SERVICE))
    assert status.outstanding == 2500
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("second", 2500), CaseStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL and result.amount_paid == 8500


async def test_figures_are_confirmed_anew_only_once_the_order_stages_began(harness: Harness) -> None:
    h = harness
    _, case_id = await h.accepted_complaint(amount=6000, workers=1)
    message = await refused(h.update(h.case(case_id), Updates.CONFIRM_FIGURES, confirm(6000, 1), CaseStatus))
    assert "in the verification outcome" in message


async def test_merging_a_case_before_verification_moves_its_complaints_to_the_surviving_process(
    harness: Harness,
) -> None:
    h = harness
    _, survivor = await h.accepted_complaint(amount=6000, workers=1)
    moved, absorbed = await h.accepted_complaint(amount=3000, workers=2)
    moved_id = (await h.complaint_status(moved)).complaint_id
    merge = CaseMergeRequest(into_case_id=survivor, merged_by="inspector-7", reason="同一项目同一用人单位")
    assert "into itself" in await refused(
        h.update(h.case(absorbed), Updates.MERGE_INTO, merge.model_copy(update={"into_case_id": absorbed}), CaseStatus)
    )
    await h.update(h.case(absorbed), Updates.MERGE_INTO, merge, CaseStatus)

    result = await h.result(h.case(absorbed))
    assert result.closure_reason is ClosureReason.MERGED and result.members == []
    status = await h.eventually(lambda: _has_member(h, survivor, moved_id))
    assert status.workers == 3 and status.amount_owed == 9000

    async def follows_survivor() -> Any:
        s = await h.complaint_status(moved)
        return s if s.case_id == survivor and s.status is Status.OPEN else None

    await h.eventually(follows_survivor)
    # A withdrawal now leaves the surviving case.
    await h.update(moved, Updates.WITHDRAW_COMPLAINT, Withdrawal(), ComplaintStatus)

    async def left() -> CaseStatus | None:
        s = await h.case_status(survivor)
        return s if moved_id not in s.members else None

    assert (await h.eventually(left)).workers == 1


async def test_a_verified_case_is_not_merged_into_another_process(harness: Harness) -> None:
    h = harness
    _, survivor = await h.accepted_complaint(amount=6000, workers=1)
    _, verified = await h.verified_case(amount=3000, workers=1)
    message = await refused(
        h.update(
            h.case(verified),
            Updates.MERGE_INTO,
            CaseMergeRequest(into_case_id=survivor, merged_by="inspector-7", reason="合并"),
            CaseStatus,
        )
    )
    assert "only a case not yet verified" in message


async def _has_member(h: Harness, case_id: str, complaint_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if complaint_id in status.members else None
