"""Representative runs whose histories are recorded for the replay test.

Each scenario drives workflows through the unit-test harness (fake services, time-skipping server) and
returns the handles whose histories to keep, by name.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from services.contracts.lifecycle import (
    AcceptanceDecision,
    AcceptanceDecisionKind,
    CaseStage,
    CaseStatus,
    ClosureReason,
    ClosureRequest,
    ComplaintStage,
    ComplaintStatus,
    DayUnit,
    DepartmentTerms,
    HandoffResponse,
    HandoffReturn,
    LadderRung,
    LetterKind,
    PaymentPurpose,
    PaymentRecord,
    PoliceDecision,
    PoliceDecisionRecord,
    ReferralWithdrawalDecision,
    ReferralWithdrawalProposal,
    RejectionReason,
    Updates,
    VerificationOutcome,
    VerificationResult,
)
from tests.replay.case_payout_scenarios import paid_from_the_deposit
from tests.replay.case_scenarios import (
    case_grew,
    early_warning_with_arrears,
    early_warning_without_arrears,
    merged_before_verification,
    parked_and_retried,
)
from tests.replay.steps import Scenario, callback, serve
from tests.support.referral_approval import approve_referral
from tests.unit.workflows.harness import Harness


async def resolved(h: Harness) -> dict[str, Any]:
    """Two complaints, one case: ordered, served by posting, paid in two parts before the deadline."""
    first, case_id = await h.accepted_complaint(amount=Decimal(20000), workers=4)
    second, _ = await h.accepted_complaint(case_id=case_id, amount=Decimal(30000), workers=7)
    from services.contracts.lifecycle import VerificationResult

    await h.update(
        h.case(case_id),
        Updates.RECORD_VERIFICATION,
        VerificationResult(outcome=VerificationOutcome.WAGE_ARREARS, verified_by="inspector-7"),
        CaseStatus,
    )
    await serve(h, case_id)
    for payment_id, amount in (("p1", 20000), ("p2", 30000)):
        await h.update(
            h.case(case_id),
            Updates.RECORD_PAYMENT,
            PaymentRecord(payment_id=payment_id, amount=Decimal(amount), recorded_by="inspector-7"),
            CaseStatus,
        )
    await h.result(h.case(case_id))
    await callback(h, first)
    await callback(h, second)
    return {"complaint": first, "case": h.case(case_id)}


async def _referred_to_the_police(h: Harness) -> tuple[Any, str]:
    """Twelve workers owed above Henan's threshold; the deadline passes; blacklist, publication, and the
    referral on the case team's report and the bureau head's approval."""
    complaint, case_id = await h.verified_case(amount=Decimal(48000), workers=12, months=4)
    status = await serve(h, case_id)
    await h.skip_to(status.deadlines["order.payment"].fire_at)

    async def grace_running() -> CaseStatus | None:
        status = await h.case_status(case_id)
        return status if "order.late_record" in status.deadlines else None

    # The refusal steps wait a working day for a late record of an on-time payment.
    await h.skip_to((await h.eventually(grace_running)).deadlines["order.late_record"].fire_at)

    async def sanctioned() -> bool:
        status = await h.case_status(case_id)
        return status.publication_id is not None

    await h.eventually(sanctioned)
    # The referral goes out on the case team's report and the bureau head's approval.
    await approve_referral(h.case(case_id))

    async def referred() -> bool:
        return "police" in (await h.case_status(case_id)).referrals

    await h.eventually(referred)
    return complaint, case_id


async def refused_and_referred(h: Harness) -> dict[str, Any]:
    """Refused above the threshold and referred; the police open a case; the inspector closes it."""
    complaint, case_id = await _referred_to_the_police(h)
    await h.update(
        h.case(case_id),
        Updates.RECORD_POLICE_DECISION,
        PoliceDecisionRecord(decision=PoliceDecision.CASE_OPENED, police_ref="GA-1", recorded_by="inspector-7"),
        CaseStatus,
    )
    await h.update(
        h.case(case_id),
        Updates.CLOSE_CASE,
        ClosureRequest(reason=ClosureReason.REFERRED_TO_POLICE, closed_by="inspector-7"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    await callback(h, complaint)
    return {"complaint": complaint, "case": h.case(case_id)}


async def handoff_ladder(h: Harness) -> dict[str, Any]:
    """A quantity dispute handed off and never answered: every rung, then a late answer."""
    complaint, case_id = await h.verified_case(VerificationOutcome.QUANTITY_DISPUTE)

    async def exhausted() -> bool:
        return "handoff.ladder_exhausted" in h.services.notices()

    await h.advance_until(exhausted, step=timedelta(days=2), max_days=200)
    await h.update(
        h.case(case_id),
        Updates.RECORD_HANDOFF_RESPONSE,
        HandoffResponse(department="county-housing-bureau", summary="已处理", responded_by="dept-1"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    await callback(h, complaint)
    return {"case": h.case(case_id)}


async def handoff_by_directory(h: Harness) -> dict[str, Any]:
    """A handoff to a department the directory gives its own terms (5 working days, two rungs): never
    answered on time, every rung of its own ladder, then a late answer."""
    h.services.directory["county-housing-bureau"] = DepartmentTerms(
        department="county-housing-bureau",
        response_days=5,
        response_unit=DayUnit.WORKING,
        ladder=[
            LadderRung(kind=LetterKind.REMINDER, wait_working_days=2),
            LadderRung(kind=LetterKind.SUPERVISION, wait_working_days=4),
        ],
    )
    complaint, case_id = await h.verified_case(VerificationOutcome.PROJECT_PAYMENT_DISPUTE)

    async def exhausted() -> bool:
        return "handoff.ladder_exhausted" in h.services.notices()

    await h.advance_until(exhausted, step=timedelta(days=1), max_days=60)
    await h.update(
        h.case(case_id),
        Updates.RECORD_HANDOFF_RESPONSE,
        HandoffResponse(department="county-housing-bureau", summary="已处理", responded_by="dept-1"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    await callback(h, complaint)
    return {"case": h.case(case_id)}


async def escalated_then_rejected(h: Harness) -> dict[str, Any]:
    """No decision within 5 working days (reminder, escalation), then a written rejection; call-back missed."""
    from datetime import date

    complaint = await h.start_complaint(owed_until=date(2020, 1, 31))

    async def deadline() -> ComplaintStatus | None:
        status = await h.complaint_status(complaint)
        return status if "acceptance" in status.deadlines else None

    status = await h.eventually(deadline)
    await h.skip_to(status.deadlines["acceptance"].fire_at)

    async def overdue() -> bool:
        return (await h.complaint_status(complaint)).overdue

    await h.eventually(overdue)
    await h.update(
        complaint,
        Updates.DECIDE_ACCEPTANCE,
        AcceptanceDecision(
            decision=AcceptanceDecisionKind.REJECT,
            decided_by="inspector-7",
            reason=RejectionReason.VIOLATION_TOO_OLD,
            explanation="欠薪发生在 2020 年 1 月",
        ),
        ComplaintStatus,
    )

    async def finished() -> bool:
        status = await h.complaint_status(complaint)
        return status.stage is ComplaintStage.DONE

    await h.advance_until(finished, step=timedelta(days=3), max_days=60)
    await h.result(complaint)
    return {"complaint": complaint}


async def continued_as_new(h: Harness) -> dict[str, Any]:
    """A long handoff with a low history limit: the first run ends in continue-as-new."""
    config = h.config(continue_as_new_after_events=100)
    _, case_id = await h.verified_case(VerificationOutcome.PROJECT_PAYMENT_DISPUTE, config=config)

    async def exhausted() -> bool:
        return "handoff.ladder_exhausted" in h.services.notices()

    await h.advance_until(exhausted, step=timedelta(days=2), max_days=200)
    history = await h.case(case_id).fetch_history()
    first_run = history.events[0].workflow_execution_started_event_attributes.first_execution_run_id
    return {"case.first_run": h.client.get_workflow_handle(h.case(case_id).id, run_id=first_run)}


async def returned_and_handed_again(h: Harness) -> dict[str, Any]:
    """A handoff sent back by the department (退回), verified anew, handed to another department, answered."""
    complaint, case_id = await h.verified_case(VerificationOutcome.PROJECT_PAYMENT_DISPUTE)

    async def handed_off(count: int) -> bool:
        return h.services.letters().count(LetterKind.HANDOFF) == count

    await h.eventually(lambda: handed_off(1))
    await h.update(
        h.case(case_id),
        Updates.RECORD_HANDOFF_RETURN,
        HandoffReturn(department="county-housing-bureau", reason="不属于本部门职责", returned_by="dept-1"),
        CaseStatus,
    )

    async def back_in_verification() -> bool:
        return (await h.case_status(case_id)).stage is CaseStage.VERIFICATION

    await h.eventually(back_in_verification)
    await h.update(
        h.case(case_id),
        Updates.RECORD_VERIFICATION,
        VerificationResult(
            outcome=VerificationOutcome.PROJECT_PAYMENT_DISPUTE,
            verified_by="inspector-7",
            department="county-transport-bureau",
        ),
        CaseStatus,
    )
    await h.eventually(lambda: handed_off(2))
    await h.update(
        h.case(case_id),
        Updates.RECORD_HANDOFF_RESPONSE,
        HandoffResponse(department="county-transport-bureau", summary="已处理", responded_by="dept-2"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    await callback(h, complaint)
    return {"case": h.case(case_id)}


async def paid_after_referral(h: Harness) -> dict[str, Any]:
    """Referred to the police, then paid in full: the police are sent the payment's evidence and decline."""
    complaint, case_id = await _referred_to_the_police(h)
    await h.update(
        h.case(case_id),
        Updates.RECORD_PAYMENT,
        PaymentRecord(payment_id="late-1", amount=Decimal(48000), recorded_by="inspector-7"),
        CaseStatus,
    )

    async def police_told() -> bool:
        return any(e.kind == "referral.supplemented" for e in (await h.case_status(case_id)).timeline)

    await h.eventually(police_told)
    await h.update(
        h.case(case_id),
        Updates.RECORD_POLICE_DECISION,
        PoliceDecisionRecord(decision=PoliceDecision.DECLINED, recorded_by="inspector-7"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    await callback(h, complaint)
    return {"complaint": complaint, "case": h.case(case_id)}


async def withdrawn_after_payment(h: Harness) -> dict[str, Any]:
    """Referred to the police; wages and then the additional compensation paid; the withdrawal proposed and
    approved by the bureau head: the referral is withdrawn and the case closes as paid."""
    complaint, case_id = await _referred_to_the_police(h)
    await h.update(
        h.case(case_id),
        Updates.RECORD_PAYMENT,
        PaymentRecord(payment_id="wages", amount=Decimal(48000), recorded_by="inspector-7"),
        CaseStatus,
    )
    await h.update(
        h.case(case_id),
        Updates.RECORD_PAYMENT,
        PaymentRecord(
            payment_id="comp", amount=Decimal(24000), recorded_by="inspector-7", purpose=PaymentPurpose.COMPENSATION
        ),
        CaseStatus,
    )
    await h.update(
        h.case(case_id),
        Updates.PROPOSE_REFERRAL_WITHDRAWAL,
        ReferralWithdrawalProposal(proposed_by="inspector-7", reason="工资及加付赔偿金均已付清"),
        CaseStatus,
    )
    await h.update(
        h.case(case_id),
        Updates.DECIDE_REFERRAL_WITHDRAWAL,
        ReferralWithdrawalDecision(approved=True, decided_by="bureau-head-1"),
        CaseStatus,
    )
    await h.result(h.case(case_id))
    await callback(h, complaint)
    return {"case": h.case(case_id)}


SCENARIOS: dict[str, Scenario] = {
    "resolved": resolved,
    "refused_and_referred": refused_and_referred,
    "handoff_ladder": handoff_ladder,
    "escalated_then_rejected": escalated_then_rejected,
    "continued_as_new": continued_as_new,
    "returned_and_handed_again": returned_and_handed_again,
    "paid_after_referral": paid_after_referral,
    "case_grew": case_grew,
    "merged_before_verification": merged_before_verification,
    "parked_and_retried": parked_and_retried,
    "handoff_by_directory": handoff_by_directory,
    "withdrawn_after_payment": withdrawn_after_payment,
    "paid_from_the_deposit": paid_from_the_deposit,
    "early_warning_with_arrears": early_warning_with_arrears,
    "early_warning_without_arrears": early_warning_without_arrears,
}
