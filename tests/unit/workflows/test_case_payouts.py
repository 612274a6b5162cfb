"""Paying a refused case's workers from the wage deposit or the emergency fund (workflows/case/guarantee_payout.py):
the inspector's decision asks the monitoring service (a fake `monitoring.request_payout` on its task queue),
and what became of the payout is recorded on the case without counting as the employer's payment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
from temporalio.worker import Worker

from services.contracts.case_payouts import (
    CasePayoutMessages,
    CasePayouts,
    PayoutDecision,
    PayoutOutcome,
    PayoutOutcomeKind,
)
from services.contracts.guarantee_funds import (
    PayoutSource,
    PayoutStage,
)
from services.contracts.lifecycle import (
    CaseStage,
    CaseStatus,
    ClosureReason,
    ClosureRequest,
    Status,
    TaskQueues,
    Updates,
)
from services.contracts.lifecycle.names import ActivityNames

from .case_steps import pass_payment_deadline, payment, served_case
from .fake_monitoring import FakeMonitoring
from .harness import Harness, refused


@pytest.fixture
async def monitoring(harness: Harness) -> AsyncIterator[FakeMonitoring]:
    fake = FakeMonitoring()
    worker = Worker(harness.client, task_queue=TaskQueues.MONITORING, activities=[fake.request_payout])
    async with worker:
        yield fake


def decision(decision_id: str, amount: int, *, source: PayoutSource = PayoutSource.DEPOSIT) -> PayoutDecision:
    return PayoutDecision(
        decision_id=decision_id,
        source=source,
        amount=Decimal(amount),
        workers_paid=12,
        project_id="PRJ-1" if source is PayoutSource.DEPOSIT else None,
        decided_by="inspector-7",
    )


async def payouts(h: Harness, case_id: str) -> CasePayouts:
    return await h.case(case_id).query(CasePayoutMessages.PAYOUTS, result_type=CasePayouts)


async def refused_case(h: Harness, amount: int = 48000) -> tuple[str, CaseStatus]:
    _, case_id, status = await served_case(h, amount=amount, workers=12, months=2)
    return case_id, await pass_payment_deadline(h, case_id, status)


async def test_a_refused_case_pays_its_workers_from_the_deposit_without_the_employer_paying(
    harness: Harness, monitoring: FakeMonitoring
) -> None:
    h = harness
    case_id, status = await refused_case(h)
    assert status.stage is CaseStage.REFUSAL and status.outstanding == 48000
    sanctions_before = len(h.services.requests(ActivityNames.START_BLACKLIST_PROCEDURE))

    answer = await h.update(h.case(case_id), CasePayoutMessages.DECIDE_PAYOUT, decision("D-1", 48000), CasePayouts)
    assert [(p.decision_id, p.payout_id) for p in answer.items] == [("D-1", f"PO-{case_id}-1")]
    request = monitoring.requests[0]
    assert (request.case_id, request.county, request.project_id, request.source) == (
        case_id,
        "130402",
        "PRJ-1",
        PayoutSource.DEPOSIT,
    )
    assert request.amount == 48000 and request.workers_paid == 12 and request.requested_by == "inspector-7"
    assert request.idempotency_key == f"case:{case_id}:payout:D-1"
    status = await h.case_status(case_id)
    assert any(e.kind == "payout.requested" and "PO-" in e.text for e in status.timeline)
    # The same decision again (a retried request) asks for nothing new and answers as the first time.
    again = await h.update(h.case(case_id), CasePayoutMessages.DECIDE_PAYOUT, decision("D-1", 48000), CasePayouts)
    assert again == answer
    assert len(monitoring.requests) == 1
    figures = await payouts(h, case_id)
    assert [p.stage for p in figures.items] == [PayoutStage.REQUESTED]
    assert figures.committed == 48000 and figures.uncovered == 0 and figures.paid_amount == 0
    payout_id = figures.items[0].payout_id
    assert payout_id == f"PO-{case_id}-1"

    approved = PayoutOutcome(payout_id=payout_id, outcome=PayoutOutcomeKind.APPROVED, amount=Decimal(48000))
    await h.update(h.case(case_id), CasePayoutMessages.RECORD_PAYOUT_OUTCOME, approved, CaseStatus)
    paid = PayoutOutcome(
        payout_id=payout_id,
        outcome=PayoutOutcomeKind.PAID,
        amount=Decimal(48000),
        workers_paid=12,
        paid_on=date(2020, 1, 2),
    )
    status = await h.update(h.case(case_id), CasePayoutMessages.RECORD_PAYOUT_OUTCOME, paid, CaseStatus)
    # Told again (a redelivered event): recorded once.
    status = await h.update(h.case(case_id), CasePayoutMessages.RECORD_PAYOUT_OUTCOME, paid, CaseStatus)
    assert [e.kind for e in status.timeline].count("payout.paid") == 1
    assert [e.kind for e in status.timeline].count("payout.approved") == 1

    figures = await payouts(h, case_id)
    assert figures.paid_amount == 48000 and figures.workers_paid == 12
    assert figures.items[0].stage is PayoutStage.PAID and figures.items[0].paid_on == date(2020, 1, 2)
    # The workers are paid, the employer is not: its debt, the refusal's steps and the case stay as they were.
    assert status.status is Status.OPEN and status.stage is CaseStage.REFUSAL
    assert status.amount_paid == 0 and status.outstanding == 48000
    assert status.compensation_decision_id is not None
    assert len(h.services.requests(ActivityNames.START_BLACKLIST_PROCEDURE)) == sanctions_before
    assert h.services.requests(ActivityNames.REPORT_CORRECTION) == []
    message = await refused(
        h.update(
            h.case(case_id),
            Updates.CLOSE_CASE,
            ClosureRequest(reason=ClosureReason.PAID_IN_FULL, closed_by="inspector-7"),
            CaseStatus,
        )
    )
    assert "outstanding" in message
    # Nothing is left for a further payout.
    assert "exceeds" in await refused(
        h.update(h.case(case_id), CasePayoutMessages.DECIDE_PAYOUT, decision("D-2", 1), CasePayouts)
    )
    # The inspector closes the case on the administrative decision, as any refused case.
    await h.update(
        h.case(case_id),
        Updates.CLOSE_CASE,
        ClosureRequest(reason=ClosureReason.ADMINISTRATIVE_DECISION, closed_by="inspector-7"),
        CaseStatus,
    )
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.ADMINISTRATIVE_DECISION


async def test_a_refused_payout_frees_its_amount_and_the_employer_later_paying_still_counts(
    harness: Harness, monitoring: FakeMonitoring
) -> None:
    h = harness
    case_id, _ = await refused_case(h, amount=6000)
    fund = decision("D-1", 4000, source=PayoutSource.EMERGENCY_FUND)
    await h.update(h.case(case_id), CasePayoutMessages.DECIDE_PAYOUT, fund, CasePayouts)
    assert monitoring.requests[0].project_id is None
    assert "2000" in await refused(
        h.update(h.case(case_id), CasePayoutMessages.DECIDE_PAYOUT, decision("D-2", 2500), CasePayouts)
    )
    payout_id = (await payouts(h, case_id)).items[0].payout_id
    assert payout_id is not None
    outcome = PayoutOutcome(payout_id=payout_id, outcome=PayoutOutcomeKind.REFUSED, amount=Decimal(4000))
    status = await h.update(h.case(case_id), CasePayoutMessages.RECORD_PAYOUT_OUTCOME, outcome, CaseStatus)
    assert any(e.kind == "payout.refused" for e in status.timeline)
    assert (await payouts(h, case_id)).uncovered == 6000
    # An unknown payout is refused.
    other = PayoutOutcome(payout_id="PO-nope", outcome=PayoutOutcomeKind.APPROVED, amount=Decimal(1))
    assert "no payout" in await refused(
        h.update(h.case(case_id), CasePayoutMessages.RECORD_PAYOUT_OUTCOME, other, CaseStatus)
    )
    # The employer paying after the refusal is its own payment, as before.
    await h.update(h.case(case_id), Updates.RECORD_PAYMENT, payment("late", 6000), CaseStatus)
    result = await h.result(h.case(case_id))
    assert result.closure_reason is ClosureReason.PAID_IN_FULL


async def test_a_payout_is_refused_before_the_refusal_stage_and_when_the_service_refuses_it(
    harness: Harness, monitoring: FakeMonitoring
) -> None:
    h = harness
    _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
    message = await refused(
        h.update(h.case(case_id), CasePayoutMessages.DECIDE_PAYOUT, decision("D-1", 1000), CasePayouts)
    )
    assert "stage refusal" in message
    assert monitoring.requests == []
    await pass_payment_deadline(h, case_id, status)
    monitoring.refusing = "项目不在登记册中 (no such project in the register)"
    message = await refused(
        h.update(h.case(case_id), CasePayoutMessages.DECIDE_PAYOUT, decision("D-1", 1000), CasePayouts)
    )
    assert "no such project" in message
    # Nothing was kept of the refused request: the amount is free again.
    assert (await payouts(h, case_id)).items == []
    monitoring.refusing = None
    await h.update(h.case(case_id), CasePayoutMessages.DECIDE_PAYOUT, decision("D-3", 48000), CasePayouts)
    assert (await payouts(h, case_id)).committed == 48000
