"""The case after its verification: the outcomes that close it, the non-wage disputes handed off to a department,
and wage arrears given an order to pay on the whole case."""

from __future__ import annotations

import pytest

from services.contracts.lifecycle import (
    SA_CLASSIFICATION,
    SA_STAGE,
    ActivityNames,
    CaseStage,
    CaseStatus,
    Classification,
    ClosureReason,
    LetterKind,
    Status,
    Updates,
    VerificationOutcome,
    VerificationResult,
)

from .case_steps import DEPARTMENT, case_in, complainant_told, complaint_closed, letters_issued
from .harness import Harness, search_attributes


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (VerificationOutcome.UNFOUNDED, ClosureReason.UNFOUNDED),
        (VerificationOutcome.DUPLICATE, ClosureReason.DUPLICATE),
        (VerificationOutcome.WITHDRAWN, ClosureReason.WITHDRAWN),
        (VerificationOutcome.ALREADY_PAID, ClosureReason.ALREADY_PAID),
        (VerificationOutcome.FORWARDED, ClosureReason.FORWARDED),
        (VerificationOutcome.LABOUR_DISPUTE, ClosureReason.REFERRED_TO_ARBITRATION),
    ],
)
async def test_outcomes_that_close_the_case(
    harness: Harness, outcome: VerificationOutcome, reason: ClosureReason
) -> None:
    h = harness
    complaint, case_id = await h.verified_case(outcome)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is reason and result.status is Status.CLOSED
    assert result.outcome is outcome
    referrals = h.services.distinct(ActivityNames.MAKE_REFERRAL)
    if outcome is VerificationOutcome.LABOUR_DISPUTE:
        assert result.classification is Classification.ARBITRATION
        assert [r.target for r in referrals] == ["arbitration"]
    else:
        assert referrals == []
    status = await h.eventually(lambda: complaint_closed(h, complaint))
    assert status.closure_reason is reason
    await h.eventually(lambda: _has_templates(h, ["case.verified", "complaint.closed"]))


async def _has_templates(h: Harness, wanted: list[str]) -> bool:
    templates = h.sms.templates()
    return all(t in templates for t in wanted)


@pytest.mark.parametrize("outcome", [VerificationOutcome.PROJECT_PAYMENT_DISPUTE, VerificationOutcome.QUANTITY_DISPUTE])
async def test_non_wage_disputes_are_handed_off(harness: Harness, outcome: VerificationOutcome) -> None:
    h = harness
    _, case_id = await h.verified_case(outcome)
    status = await h.eventually(lambda: case_in(h, case_id, CaseStage.HANDOFF))
    assert status.classification is Classification.NON_WAGE_DISPUTE
    await h.eventually(lambda: letters_issued(h, [LetterKind.HANDOFF]))
    letter = h.services.distinct(ActivityNames.ISSUE_LETTER)[0]
    assert letter.department == DEPARTMENT
    assert letter.idempotency_key == f"case:{case_id}:letter:handoff"
    attributes = await search_attributes(h.case(case_id))
    assert attributes[SA_CLASSIFICATION.name] == "non_wage_dispute"
    assert attributes[SA_STAGE.name] == "handoff"


async def test_wage_arrears_get_an_order_to_pay_on_the_whole_case(harness: Harness) -> None:
    h = harness
    first, case_id = await h.accepted_complaint(amount=20000, workers=4)
    second, _ = await h.accepted_complaint(case_id=case_id, amount=30000, workers=7)
    await h.update(
        h.case(case_id),
        Updates.RECORD_VERIFICATION,
        VerificationResult(outcome=VerificationOutcome.WAGE_ARREARS, verified_by="inspector-7"),
        CaseStatus,
    )
    status = await h.eventually(lambda: case_in(h, case_id, CaseStage.SERVICE, order_id="ORDER-1"))
    assert status.workers == 11 and status.amount_owed == 50000
    order = h.services.distinct(ActivityNames.ISSUE_ORDER_TO_PAY)[0]
    assert order.amount_owed == 50000 and order.workers == 11 and order.pay_days == 7
    # Both complainants hear of the order, each through their own complaint.
    for handle in (first, second):
        complaint_id = (await h.complaint_status(handle)).complaint_id
        await h.eventually(lambda c=complaint_id: complainant_told(h, c, "case.order_issued"))
