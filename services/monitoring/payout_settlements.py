"""The service's side of a payout's last steps (`payout_workflow.py`): the deposit's top-up demanded from the
general contractor, the reminders while the top-up or the advance is outstanding, and each top-up or recovery
recorded, until the payout is settled — or, for an advance the employer will never repay, what is left of it
written off by the city office. Each written with its event (and, for an agency's action, its audit row) in one
transaction, once per step (`payout_records.py`). A top-up or a recovery of more than is outstanding, or a
write-off with nothing left to write off, writes nothing and answers why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from psycopg_pool import AsyncConnectionPool

from services.common import audit
from services.contracts.guarantee_funds import (
    DepositToppedUp,
    DepositTopUpDemanded,
    DepositTopUpReminded,
    FundAdvanceWrittenOff,
    FundRecoveryRecorded,
    FundRecoveryReminded,
    GuaranteeFundEvent,
    PayoutSource,
    PayoutStage,
)
from services.monitoring import payout_store
from services.monitoring.guarantee_rules import settlement_refusal, write_off_refusal
from services.monitoring.payout_messages import (
    SettlementOutcome,
    SettlementStep,
    Step,
    StepOutcome,
    WriteOffOutcome,
    WriteOffStep,
)
from services.monitoring.payout_records import (
    contractor_of,
    deposit_balance,
    deposit_follows,
    emit,
    outstanding_of,
    payout_fields,
    principal_of,
    step_write,
)
from services.monitoring.payout_store import MovementKind

TOP_UP, RECOVERY = "补足保证金", "收回垫付资金"


class PayoutSettlements:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def demand_top_up(self, step: Step) -> StepOutcome:
        async with step_write(self.pool, step.payout_id, step.step_key) as write:
            if write.done is not None:
                return StepOutcome.model_validate(write.done)
            assert step.due_date is not None, "a demand names its due date"
            payout = await payout_store.update_payout(write.conn, step.payout_id, top_up_due=step.due_date)
            outstanding = outstanding_of(payout)
            await emit(
                write.conn,
                payout,
                DepositTopUpDemanded(
                    **payout_fields(payout),
                    general_contractor=await contractor_of(write.conn, payout),
                    amount=outstanding,
                    due_date=step.due_date,
                ),
            )
            write.keep(outcome := StepOutcome(outstanding=outstanding))
        return outcome

    async def remind(self, step: Step) -> StepOutcome:
        """The next reminder of a top-up (deposit) or of the advance (fund), while something is outstanding."""
        async with step_write(self.pool, step.payout_id, step.step_key) as write:
            if write.done is not None:
                return StepOutcome.model_validate(write.done)
            conn, payout = write.conn, write.payout
            outstanding = outstanding_of(payout)
            if outstanding > 0:
                payout = await payout_store.update_payout(conn, step.payout_id, reminders=step.reminder)
                event: GuaranteeFundEvent
                if payout["source"] == PayoutSource.DEPOSIT.value:
                    event = DepositTopUpReminded(
                        **payout_fields(payout),
                        general_contractor=await contractor_of(conn, payout),
                        outstanding=outstanding,
                        due_date=payout["top_up_due"],
                        reminder=step.reminder,
                    )
                else:
                    event = FundRecoveryReminded(
                        **payout_fields(payout),
                        advanced=payout["amount"],
                        outstanding=outstanding,
                        paid_on=payout["paid_on"],
                        reminder=step.reminder,
                    )
                await emit(conn, payout, event)
            write.keep(outcome := StepOutcome(outstanding=outstanding, sent=outstanding > 0))
        return outcome

    async def settle(self, step: SettlementStep) -> SettlementOutcome:
        """A top-up of the deposit or a recovery of the advance, with its event and audit row."""
        async with step_write(self.pool, step.payout_id, step.step_key) as write:
            if write.done is not None:
                return SettlementOutcome.model_validate(write.done)
            conn, payout = write.conn, write.payout
            deposit = payout["source"] == PayoutSource.DEPOSIT.value
            outstanding = outstanding_of(payout)
            record, principal = step.record, principal_of(step.record.actor)
            amount = record.amount if record.amount is not None else outstanding
            refusal = settlement_refusal(amount, outstanding, TOP_UP if deposit else RECOVERY)
            if refusal is not None:
                return SettlementOutcome(outstanding=outstanding, refusal=refusal)  # nothing written
            kind = MovementKind.DEPOSIT_TOPPED_UP if deposit else MovementKind.FUND_RECOVERED
            await payout_store.insert_movement(
                conn, step.step_key, payout, kind, amount, record.on, principal.client_id
            )
            after = outstanding - amount
            changes = {"stage": PayoutStage.SETTLED, "settled_at": datetime.now(UTC)} if after <= 0 else {}
            payout = await payout_store.update_payout(conn, step.payout_id, **changes)
            detail = {"case_id": payout["case_id"], "amount": str(amount), "on": record.on.isoformat()}
            event: GuaranteeFundEvent
            if deposit:
                project, balance = await deposit_balance(conn, payout["project_id"])
                await deposit_follows(conn, project, balance, principal, payout["payout_id"])
                await audit.record(conn, principal, "deposit.topped_up", payout["payout_id"], detail=detail)
                event = DepositToppedUp(
                    **payout_fields(payout),
                    amount=amount,
                    topped_up_on=record.on,
                    outstanding=after,
                    recorded_by=principal.client_id,
                )
            else:
                await audit.record(conn, principal, "fund.recovery_recorded", payout["payout_id"], detail=detail)
                event = FundRecoveryRecorded(
                    **payout_fields(payout),
                    amount=amount,
                    recovered_on=record.on,
                    recovered=Decimal(payout["settled"]),
                    outstanding=after,
                    repaid=after <= 0,
                    recorded_by=principal.client_id,
                )
            await emit(conn, payout, event)
            write.keep(outcome := SettlementOutcome(amount=amount, outstanding=after))
        return outcome

    async def write_off(self, step: WriteOffStep) -> WriteOffOutcome:
        """What is left of an advance written off by the city office: the fund's loss, with its event (no reason
        in it) and audit row; the payout ends `written_off`."""
        async with step_write(self.pool, step.payout_id, step.step_key) as write:
            if write.done is not None:
                return WriteOffOutcome.model_validate(write.done)
            conn, payout = write.conn, write.payout
            outstanding = outstanding_of(payout)
            refusal = write_off_refusal(PayoutSource(payout["source"]), PayoutStage(payout["stage"]), outstanding)
            if refusal is not None:
                return WriteOffOutcome(refusal=refusal)  # nothing written
            record, principal = step.record, principal_of(step.record.actor)
            await payout_store.insert_movement(
                conn,
                step.step_key,
                payout,
                MovementKind.FUND_WRITTEN_OFF,
                outstanding,
                step.written_off_on,
                principal.client_id,
            )
            payout = await payout_store.update_payout(
                conn,
                step.payout_id,
                stage=PayoutStage.WRITTEN_OFF,
                write_off_basis=record.basis.value,
                write_off_reason=record.reason,
                written_off_at=datetime.now(UTC),
            )
            recovered = Decimal(payout["settled"])
            await audit.record(
                conn,
                principal,
                "fund.advance_written_off",
                payout["payout_id"],
                detail={
                    "case_id": payout["case_id"],
                    "amount": str(outstanding),
                    "basis": record.basis.value,
                    "on": step.written_off_on.isoformat(),
                },
            )
            await emit(
                conn,
                payout,
                FundAdvanceWrittenOff(
                    **payout_fields(payout),
                    amount=outstanding,
                    recovered=recovered,
                    basis=record.basis,
                    written_off_on=step.written_off_on,
                    written_off_by=principal.client_id,
                ),
            )
            write.keep(outcome := WriteOffOutcome(amount=outstanding, recovered=recovered))
        return outcome
