"""Recorded scenarios of cases that change shape or stop: a case that grows after verification, a case merged
into another before verification, a step a service refuses until an operator's retry, and early-warning cases
(opened on a project's warning with no complaint: verified with arrears after a complaint's process merged
into it, and verified without)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.contracts.lifecycle import (
    ActivityNames,
    CaseMergeRequest,
    CaseStage,
    CaseStatus,
    ComplaintStatus,
    FiguresConfirmation,
    PaymentRecord,
    PoliceDecision,
    PoliceDecisionRecord,
    Signals,
    Updates,
    VerificationOutcome,
    VerificationResult,
    Withdrawal,
)
from tests.replay.steps import callback, serve
from tests.support.referral_approval import approve_referral
from tests.unit.workflows.harness import Harness


async def _grown(h: Harness, case_id: str, amount: int, workers: int, total: int, total_workers: int) -> None:
    """A complaint joins the verified case; the inspector confirms the case's new totals."""
    await h.accepted_complaint(case_id=case_id, amount=Decimal(amount), workers=workers, months=2)
    await h.update(
        h.case(case_id),
        Updates.CONFIRM_FIGURES,
        FiguresConfirmation(
            confirmed_amount=Decimal(total), confirmed_workers=total_workers, confirmed_by="inspector-7"
        ),
        CaseStatus,
    )


async def case_grew(h: Harness) -> dict[str, Any]:
    """Nine workers verified; a tenth joins while the order runs (an amended order, served anew); refused on the
    whole case and referred; an eleventh joins after the refusal (an amended order whose time passes unpaid: the
    threshold assessed again); then paid in full, the police told, and declining."""
    complaint, case_id = await h.accepted_complaint(amount=Decimal(36000), workers=9, months=2)
    await h.update(
        h.case(case_id),
        Updates.RECORD_VERIFICATION,
        VerificationResult(
            outcome=VerificationOutcome.WAGE_ARREARS,
            verified_by="inspector-7",
            confirmed_amount=Decimal(36000),
            confirmed_workers=9,
        ),
        CaseStatus,
    )
    await serve(h, case_id)
    await _grown(h, case_id, 4000, 1, 40000, 10)

    async def amended() -> bool:
        status = await h.case_status(case_id)
        return status.stage is CaseStage.SERVICE and len(status.amended_orders) == 1

    await h.eventually(amended)
    status = await serve(h, case_id)
    await h.skip_to(status.deadlines["order.payment"].fire_at)

    async def with_deadline(name: str) -> CaseStatus | None:
        status = await h.case_status(case_id)
        return status if name in status.deadlines else None

    await h.skip_to(
        (await h.eventually(lambda: with_deadline("order.late_record"))).deadlines["order.late_record"].fire_at
    )

    await approve_referral(h.case(case_id))

    async def referred() -> bool:
        return "police" in (await h.case_status(case_id)).referrals

    await h.eventually(referred)
    await _grown(h, case_id, 3000, 1, 43000, 11)
    status = await h.eventually(lambda: with_deadline("order.amended_payment#2"))
    await h.skip_to(status.deadlines["order.amended_payment#2"].fire_at)

    async def reassessed() -> bool:
        status = await h.case_status(case_id)
        return status.threshold is not None and status.threshold.workers == 11

    await h.eventually(reassessed)
    await h.update(
        h.case(case_id),
        Updates.RECORD_PAYMENT,
        PaymentRecord(payment_id="all", amount=Decimal(43000), recorded_by="inspector-7"),
        CaseStatus,
    )
    await h.update(
        h.case(case_id),
        Updates.RECORD_POLICE_DECISION,
        PoliceDecisionRecord(decision=PoliceDecision.DECLINED, recorded_by="inspector-7"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    await callback(h, complaint)
    return {"case": h.case(case_id)}


async def merged_before_verification(h: Harness) -> dict[str, Any]:
    """A case not yet verified is merged into another: its complaint moves to the survivor and later leaves it."""
    _, survivor = await h.accepted_complaint(amount=Decimal(6000), workers=1)
    moved, absorbed = await h.accepted_complaint(amount=Decimal(3000), workers=2)
    await h.update(
        h.case(absorbed),
        Updates.MERGE_INTO,
        CaseMergeRequest(into_case_id=survivor, merged_by="inspector-7", reason="同一项目"),
        CaseStatus,
    )
    await h.result(h.case(absorbed))

    async def moved_in() -> bool:
        return (await h.complaint_status(moved)).case_id == survivor

    await h.eventually(moved_in)
    await h.update(moved, Updates.WITHDRAW_COMPLAINT, Withdrawal(), ComplaintStatus)

    async def left_survivor() -> bool:
        return moved_id not in (await h.case_status(survivor)).members

    moved_id = (await h.complaint_status(moved)).complaint_id
    await h.eventually(left_survivor)
    await callback(h, moved)
    return {"absorbed": h.case(absorbed), "moved": moved}


async def parked_and_retried(h: Harness) -> dict[str, Any]:
    """The cases service refuses the order to pay for good: the case parks until an operator's retry, then
    the order is issued, served and paid in time."""
    h.services.refusing.add(ActivityNames.ISSUE_ORDER_TO_PAY)
    complaint, case_id = await h.verified_case(amount=Decimal(9000), workers=2)

    async def parked() -> bool:
        return any(e.kind == "step.refused" for e in (await h.case_status(case_id)).timeline)

    await h.eventually(parked)
    h.services.refusing.clear()
    await h.case(case_id).signal(Signals.RETRY_REFUSED_STEP)
    await serve(h, case_id)
    await h.update(
        h.case(case_id),
        Updates.RECORD_PAYMENT,
        PaymentRecord(payment_id="p1", amount=Decimal(9000), recorded_by="inspector-7"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    await callback(h, complaint)
    return {"case": h.case(case_id)}


async def _verifying(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if status.stage is CaseStage.VERIFICATION and "investigation.limit.60" in status.deadlines else None


async def early_warning_with_arrears(h: Harness) -> dict[str, Any]:
    """A case opened on a project's warning, with no complaint; a complaint about the project, accepted into its
    own case, is merged into it (as the cases worker asks); the inspector confirms arrears with the case's own
    figures; the contractor is ordered, served and pays in full; the complainant is called back."""
    case_id = await h.start_early_warning_case()
    await h.eventually(lambda: _verifying(h, case_id))
    complaint, own_case = await h.accepted_complaint(amount=Decimal(12000), workers=2, months=2)
    await h.update(
        h.case(own_case),
        Updates.MERGE_INTO,
        CaseMergeRequest(into_case_id=case_id, merged_by="cases-worker", reason="投诉所涉项目有在办预警案件"),
        CaseStatus,
    )

    async def joined() -> bool:
        return (await h.case_status(case_id)).members == [(await h.complaint_status(complaint)).complaint_id]

    await h.eventually(joined)
    await h.update(
        h.case(case_id),
        Updates.RECORD_VERIFICATION,
        VerificationResult(
            outcome=VerificationOutcome.WAGE_ARREARS,
            verified_by="inspector-7",
            confirmed_amount=Decimal(30000),
            confirmed_workers=5,
        ),
        CaseStatus,
    )
    await serve(h, case_id)
    await h.update(
        h.case(case_id),
        Updates.RECORD_PAYMENT,
        PaymentRecord(payment_id="bank-1", amount=Decimal(30000), recorded_by="inspector-7"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    await callback(h, complaint)
    return {"case": h.case(case_id), "complaint": complaint}


async def early_warning_without_arrears(h: Harness) -> dict[str, Any]:
    """A case opened on a project's warning that no complaint joins: the inspection finds no arrears."""
    case_id = await h.start_early_warning_case()
    await h.eventually(lambda: _verifying(h, case_id))
    await h.update(
        h.case(case_id),
        Updates.RECORD_VERIFICATION,
        VerificationResult(outcome=VerificationOutcome.NO_ARREARS_FOUND, verified_by="inspector-7"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    return {"case": h.case(case_id)}
