"""Recorded scenario of a refused case whose workers are paid from the project's wage deposit
(workflows/case/guarantee_payout.py): the inspector's decision asks the (fake) monitoring service, the payout is
approved and paid, and the inspector closes the case on the administrative decision."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from temporalio.worker import Worker

from services.contracts.case_payouts import (
    CasePayoutMessages,
    CasePayouts,
    PayoutDecision,
    PayoutOutcome,
    PayoutOutcomeKind,
)
from services.contracts.guarantee_funds import PayoutSource
from services.contracts.lifecycle import (
    CaseStatus,
    ClosureReason,
    ClosureRequest,
    TaskQueues,
    Updates,
)
from tests.unit.workflows.case_steps import pass_payment_deadline, served_case
from tests.unit.workflows.fake_monitoring import FakeMonitoring
from tests.unit.workflows.harness import Harness


async def paid_from_the_deposit(h: Harness) -> dict[str, Any]:
    monitoring = FakeMonitoring()
    async with Worker(h.client, task_queue=TaskQueues.MONITORING, activities=[monitoring.request_payout]):
        _, case_id, status = await served_case(h, amount=48000, workers=12, months=2)
        await pass_payment_deadline(h, case_id, status)
        decision = PayoutDecision(
            decision_id="PD-1",
            source=PayoutSource.DEPOSIT,
            amount=Decimal(30000),
            workers_paid=8,
            project_id="PRJ-1",
            decided_by="inspector-7",
        )
        payouts = await h.update(h.case(case_id), CasePayoutMessages.DECIDE_PAYOUT, decision, CasePayouts)
        payout_id = payouts.items[0].payout_id
        assert payout_id is not None
        for outcome in (
            PayoutOutcome(payout_id=payout_id, outcome=PayoutOutcomeKind.APPROVED, amount=Decimal(30000)),
            PayoutOutcome(
                payout_id=payout_id,
                outcome=PayoutOutcomeKind.PAID,
                amount=Decimal(30000),
                workers_paid=8,
                paid_on=date(2020, 1, 2),
            ),
        ):
            await h.update(h.case(case_id), CasePayoutMessages.RECORD_PAYOUT_OUTCOME, outcome, CaseStatus)
        await h.update(
            h.case(case_id),
            Updates.CLOSE_CASE,
            ClosureRequest(reason=ClosureReason.ADMINISTRATIVE_DECISION, closed_by="inspector-7"),
            CaseStatus,
        )
        await h.result(h.case(case_id))
    return {"case": h.case(case_id)}
