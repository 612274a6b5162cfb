"""Withdrawing a criminal referral after payment: a proposal the bureau head approves, possible only once the
wages and the additional compensation are both paid (法释〔2013〕3号 art. 6) and before the police decide."""

from __future__ import annotations

from decimal import Decimal

from services.contracts.lifecycle import (
    ActivityNames,
    CaseStatus,
    ClosureReason,
    PaymentPurpose,
    PaymentRecord,
    ReferralWithdrawalDecision,
    ReferralWithdrawalProposal,
    Status,
    Updates,
)

from .case_steps import pass_payment_deadline, payment, refer_with_approval, served_case
from .harness import Harness, refused

PROPOSAL = ReferralWithdrawalProposal(proposed_by="inspector-7", reason="工资及加付赔偿金均已付清")


def compensation(payment_id: str, amount: int) -> PaymentRecord:
    return PaymentRecord(
        payment_id=payment_id, amount=Decimal(amount), recorded_by="inspector-7", purpose=PaymentPurpose.COMPENSATION
    )


async def _supplemented(h: Harness, case_id: str) -> CaseStatus | None:
    status = await h.case_status(case_id)
    return status if any(e.kind == "referral.supplemented" for e in status.timeline) else None


async def test_a_referral_is_withdrawn_on_approval_once_wages_and_compensation_are_paid(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    status = await pass_payment_deadline(h, case_id, status)
    assert status.compensation_amount == 24000 and status.compensation_paid == 0
    assert "police" in (await refer_with_approval(h, case_id)).referrals
    case = h.case(case_id)
    # Compensation cannot be overpaid, and it does not count as wages.
    assert "exceeds the 24000" in await refused(
        h.update(case, Updates.RECORD_PAYMENT, compensation("c0", 30000), CaseStatus)
    )
    await h.update(case, Updates.RECORD_PAYMENT, payment("wages", 48000), CaseStatus)
    await h.eventually(lambda: _supplemented(h, case_id))
    # The wages alone are not enough.
    assert "compensation has 24000" in await refused(
        h.update(case, Updates.PROPOSE_REFERRAL_WITHDRAWAL, PROPOSAL, CaseStatus)
    )
    status = await h.update(case, Updates.RECORD_PAYMENT, compensation("comp", 24000), CaseStatus)
    assert status.amount_paid == 48000 and status.compensation_paid == 24000 and status.status is Status.OPEN

    await h.update(case, Updates.PROPOSE_REFERRAL_WITHDRAWAL, PROPOSAL, CaseStatus)
    assert "awaits the bureau head" in await refused(
        h.update(case, Updates.PROPOSE_REFERRAL_WITHDRAWAL, PROPOSAL, CaseStatus)
    )
    assert "own proposal" in await refused(
        h.update(
            case,
            Updates.DECIDE_REFERRAL_WITHDRAWAL,
            ReferralWithdrawalDecision(approved=True, decided_by="inspector-7"),
            CaseStatus,
        )
    )

    async def head_told() -> bool:
        return "referral.withdrawal_proposed" in h.services.notices()

    await h.eventually(head_told)
    await h.update(
        case,
        Updates.DECIDE_REFERRAL_WITHDRAWAL,
        ReferralWithdrawalDecision(approved=True, decided_by="bureau-head-1"),
        CaseStatus,
    )
    result = await h.result(case)
    assert result.closure_reason is ClosureReason.PAID_IN_FULL and result.police_referral_withdrawn
    withdrawn = {r.referral_id for r in h.services.distinct(ActivityNames.WITHDRAW_REFERRAL)}
    assert withdrawn == {result.referrals["police"], result.referrals["procuratorate"]}


async def test_a_refused_withdrawal_leaves_the_referral_to_the_police(harness: Harness) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    await pass_payment_deadline(h, case_id, status)
    await refer_with_approval(h, case_id)
    case = h.case(case_id)
    await h.update(case, Updates.RECORD_PAYMENT, payment("wages", 48000), CaseStatus)
    await h.update(case, Updates.RECORD_PAYMENT, compensation("comp", 24000), CaseStatus)
    await h.update(case, Updates.PROPOSE_REFERRAL_WITHDRAWAL, PROPOSAL, CaseStatus)
    status = await h.update(
        case,
        Updates.DECIDE_REFERRAL_WITHDRAWAL,
        ReferralWithdrawalDecision(approved=False, decided_by="bureau-head-1", reason="公安机关已在审查，由其依法决定"),
        CaseStatus,
    )
    assert status.status is Status.OPEN and not status.police_referral_withdrawn
    assert status.referral_withdrawal is not None and status.referral_withdrawal.decision is not None
    assert h.services.requests(ActivityNames.WITHDRAW_REFERRAL) == []
