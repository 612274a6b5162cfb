"""The service's side of a payout's first steps (`payout_workflow.py`): the city office's decision — the deposit
drawn or the fund's advance made, or the refusal — and the bank's payout, late or recorded. Each written with its
event (and, for an agency's action, its audit row) in one transaction, once per step (`payout_records.py`).

An approval the deposit or the fund does not cover writes nothing and answers why: the payout keeps waiting for
a decision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.common import audit
from services.common.auth import Principal
from services.contracts.guarantee_funds import (
    PayoutApproved,
    PayoutOverdue,
    PayoutPaid,
    PayoutRefused,
    PayoutSource,
    PayoutStage,
)
from services.monitoring import payout_store, store
from services.monitoring.guarantee_rules import DepositBalance, deposit_refusal, fund_refusal
from services.monitoring.payout_messages import DecideOutcome, DecideStep, PaidStep, Step, StepOutcome
from services.monitoring.payout_records import (
    deposit_balance,
    deposit_follows,
    emit,
    outstanding_of,
    payout_fields,
    principal_of,
    step_write,
)
from services.monitoring.payout_store import MovementKind


class PayoutSteps:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def decide(self, step: DecideStep) -> DecideOutcome:
        async with step_write(self.pool, step.payout_id, step.step_key) as write:
            if write.done is not None:
                return DecideOutcome.model_validate(write.done)
            conn, payout = write.conn, write.payout
            decision, principal = step.decision, principal_of(step.decision.actor)
            decided = {"decided_by": principal.client_id, "decided_at": datetime.now(UTC)}
            if not decision.approve:
                payout = await payout_store.update_payout(
                    conn, payout["payout_id"], stage=PayoutStage.REFUSED, refusal_reason=decision.reason, **decided
                )
                await audit.record(
                    conn, principal, "payout.refused", payout["payout_id"], detail={"case_id": payout["case_id"]}
                )
                await emit(
                    conn,
                    payout,
                    PayoutRefused(
                        **payout_fields(payout),
                        amount=payout["amount"],
                        decided_by=principal.client_id,
                        reason=decision.reason,
                    ),
                )
                write.keep(outcome := DecideOutcome(stage=PayoutStage.REFUSED))
                return outcome
            assert step.pay_by is not None, "an approval carries the bank's due date"
            available_after, refusal = await self._draw(conn, payout, step, principal)
            if refusal is not None:
                return DecideOutcome(stage=PayoutStage.REQUESTED, refusal=refusal)  # nothing written
            payout = await payout_store.update_payout(
                conn,
                payout["payout_id"],
                stage=PayoutStage.APPROVED,
                approved_on=step.decided_on,
                pay_by=step.pay_by,
                **decided,
            )
            await audit.record(
                conn,
                principal,
                "payout.approved",
                payout["payout_id"],
                detail={"case_id": payout["case_id"], "source": payout["source"], "amount": str(payout["amount"])},
            )
            await emit(
                conn,
                payout,
                PayoutApproved(
                    **payout_fields(payout),
                    amount=payout["amount"],
                    workers_paid=payout["workers_paid"],
                    decided_by=principal.client_id,
                    approved_on=step.decided_on,
                    pay_by=step.pay_by,
                    available_after=available_after,
                ),
            )
            write.keep(
                outcome := DecideOutcome(
                    stage=PayoutStage.APPROVED, pay_by=step.pay_by, available_after=available_after
                )
            )
        return outcome

    async def _draw(
        self, conn: store.Conn, payout: dict[str, Any], step: DecideStep, principal: Principal
    ) -> tuple[Decimal, str | None]:
        """Draw the deposit or advance from the fund: (what is left after, None), or (0, why it cannot)."""
        amount = Decimal(payout["amount"])
        if payout["source"] == PayoutSource.DEPOSIT.value:
            project, balance = await deposit_balance(conn, payout["project_id"])
            refusal = deposit_refusal(payout["project_id"], balance, amount)
            if refusal is not None:
                return Decimal(0), refusal
            kind = MovementKind.DEPOSIT_DRAWN
            after = DepositBalance(balance.deposit, balance.drawn + amount, balance.topped_up)
            await deposit_follows(conn, project, after, principal, payout["payout_id"])
            available_after = after.available
        else:
            # One county's approvals one at a time: two advances must not both count on the same balance.
            await payout_store.lock_fund(conn, payout["county"])
            fund, _ = await payout_store.fund_balance(conn, payout["county"])
            refusal = fund_refusal(payout["county"], fund, amount)
            if refusal is not None:
                return Decimal(0), refusal
            kind = MovementKind.FUND_ADVANCED
            available_after = fund.available - amount
        await payout_store.insert_movement(
            conn, step.step_key, payout, kind, amount, step.decided_on, principal.client_id
        )
        return available_after, None

    async def overdue(self, step: Step) -> StepOutcome:
        async with step_write(self.pool, step.payout_id, step.step_key) as write:
            if write.done is not None:
                return StepOutcome.model_validate(write.done)
            payout = await payout_store.update_payout(write.conn, step.payout_id, overdue=True)
            await emit(
                write.conn,
                payout,
                PayoutOverdue(**payout_fields(payout), amount=payout["amount"], pay_by=payout["pay_by"]),
            )
            write.keep(outcome := StepOutcome(outstanding=outstanding_of(payout)))
        return outcome

    async def paid(self, step: PaidStep) -> StepOutcome:
        async with step_write(self.pool, step.payout_id, step.step_key) as write:
            if write.done is not None:
                return StepOutcome.model_validate(write.done)
            conn, principal = write.conn, principal_of(step.record.actor)
            payout = await payout_store.update_payout(
                conn,
                step.payout_id,
                stage=PayoutStage.PAID,
                paid_on=step.record.paid_on,
                paid_recorded_by=principal.client_id,
            )
            await audit.record(
                conn,
                principal,
                "payout.paid",
                payout["payout_id"],
                detail={"case_id": payout["case_id"], "paid_on": step.record.paid_on.isoformat()},
            )
            await emit(
                conn,
                payout,
                PayoutPaid(
                    **payout_fields(payout),
                    amount=payout["amount"],
                    workers_paid=payout["workers_paid"],
                    paid_on=step.record.paid_on,
                    recorded_by=principal.client_id,
                ),
            )
            write.keep(outcome := StepOutcome(outstanding=outstanding_of(payout)))
        return outcome
