"""The payout workflow's activities on an in-memory deposit and fund, for the time-skipping tests and the replay
recordings: the service's own rules (services/monitoring/guarantee_rules.py) and calendar, no database. Each step
is kept by its key, as the service keeps it, so a step asked twice answers the same and records one event."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from temporalio import activity

from services.contracts.guarantee_funds import PayoutSource, PayoutStage
from services.contracts.lifecycle import CalendarConfig
from services.contracts.monitoring_events import DepositForm, DepositStatus, WageDeposit
from services.monitoring.guarantee_rules import (
    DepositBalance,
    FundBalance,
    deposit_refusal,
    deposit_status_after,
    fund_refusal,
    process_date,
    settlement_refusal,
    write_off_refusal,
)
from services.monitoring.payout_messages import (
    DECIDE_PAYOUT_ACTIVITY,
    DEMAND_TOP_UP_ACTIVITY,
    PAYOUT_DATE_ACTIVITY,
    PAYOUT_OVERDUE_ACTIVITY,
    RECORD_PAID_ACTIVITY,
    RECORD_RECOVERY_ACTIVITY,
    RECORD_TOP_UP_ACTIVITY,
    REMIND_RECOVERY_ACTIVITY,
    REMIND_TOP_UP_ACTIVITY,
    WRITE_OFF_ACTIVITY,
    DecideOutcome,
    DecideStep,
    PaidStep,
    PayoutDate,
    PayoutDateRequest,
    PayoutInput,
    SettlementOutcome,
    SettlementStep,
    Step,
    StepOutcome,
    WriteOffOutcome,
    WriteOffStep,
)


def lodged(amount: str) -> WageDeposit:
    return WageDeposit(amount=Decimal(amount), form=DepositForm.CASH, status=DepositStatus.LODGED)


def payout_input(source: PayoutSource, amount: str, **changes: Any) -> PayoutInput:
    return PayoutInput.model_validate(
        {
            "payout_id": "PO-TEST",
            "case_id": "C-2026-000001",
            "county": "130403",
            "project_id": "PRJ-1" if source is PayoutSource.DEPOSIT else None,
            "source": source,
            "amount": Decimal(amount),
            "workers_paid": 12,
            **changes,
        }
    )


@dataclass
class FakePayouts:
    deposit: WageDeposit | None = field(default_factory=lambda: lodged("300000.00"))
    fund: FundBalance = field(default_factory=lambda: FundBalance(reserve=Decimal("1000000.00")))
    drawn: Decimal = Decimal("0.00")
    topped_up: Decimal = Decimal("0.00")
    # What each step answered, by its key; the events in the order the service would have written them.
    steps: dict[str, BaseModel] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stage: PayoutStage = PayoutStage.REQUESTED
    amount: Decimal = Decimal("0.00")
    source: PayoutSource = PayoutSource.DEPOSIT
    settled: Decimal = Decimal("0.00")
    written_off: Decimal = Decimal("0.00")
    paid_on: date | None = None
    top_up_due: date | None = None

    def types(self) -> list[str]:
        return [kind for kind, _ in self.events]

    @activity.defn(name=PAYOUT_DATE_ACTIVITY)
    async def payout_date(self, request: PayoutDateRequest) -> PayoutDate:
        day = process_date(
            request.start, working_days=request.working_days, months=request.months, calendar_config=CalendarConfig()
        )
        return PayoutDate(day=day.day, at=day.at, provisional=day.provisional)

    @activity.defn(name=DECIDE_PAYOUT_ACTIVITY)
    async def decide_payout(self, step: DecideStep) -> DecideOutcome:
        if step.step_key in self.steps:
            return DecideOutcome.model_validate(self.steps[step.step_key].model_dump())
        if not step.decision.approve:
            self.stage = PayoutStage.REFUSED
            self.events.append(("payout.refused", {"decided_by": step.decision.actor.client_id}))
            return self._keep(step.step_key, DecideOutcome(stage=PayoutStage.REFUSED))
        if self.source is PayoutSource.DEPOSIT:
            balance = DepositBalance(self.deposit, self.drawn, self.topped_up)
            refusal = deposit_refusal("PRJ-1", balance, self.amount)
            if refusal is not None:
                return DecideOutcome(stage=PayoutStage.REQUESTED, refusal=refusal)
            self.drawn += self.amount
            after = DepositBalance(self.deposit, self.drawn, self.topped_up)
            assert self.deposit is not None
            self.deposit = self.deposit.model_copy(
                update={"status": deposit_status_after(self.deposit, after.outstanding_top_up)}
            )
            available = after.available
        else:
            refusal = fund_refusal("130403", self.fund, self.amount)
            if refusal is not None:
                return DecideOutcome(stage=PayoutStage.REQUESTED, refusal=refusal)
            self.fund = FundBalance(self.fund.reserve, self.fund.advanced + self.amount, self.fund.recovered)
            available = self.fund.available
        self.stage = PayoutStage.APPROVED
        self.events.append(("payout.approved", {"pay_by": step.pay_by, "available_after": available}))
        return self._keep(
            step.step_key, DecideOutcome(stage=PayoutStage.APPROVED, pay_by=step.pay_by, available_after=available)
        )

    @activity.defn(name=PAYOUT_OVERDUE_ACTIVITY)
    async def payout_overdue(self, step: Step) -> StepOutcome:
        return self._once(step.step_key, lambda: self._event("payout.overdue", {"pay_by": step.due_date}))

    @activity.defn(name=RECORD_PAID_ACTIVITY)
    async def record_payout_paid(self, step: PaidStep) -> StepOutcome:
        def paid() -> None:
            self.stage, self.paid_on = PayoutStage.PAID, step.record.paid_on
            self._event("payout.paid", {"paid_on": step.record.paid_on, "amount": self.amount})

        return self._once(step.step_key, paid)

    @activity.defn(name=DEMAND_TOP_UP_ACTIVITY)
    async def demand_top_up(self, step: Step) -> StepOutcome:
        def demand() -> None:
            self.top_up_due = step.due_date
            self._event("deposit.top_up_demanded", {"due_date": step.due_date, "amount": self._outstanding()})

        return self._once(step.step_key, demand)

    @activity.defn(name=REMIND_TOP_UP_ACTIVITY)
    async def remind_top_up(self, step: Step) -> StepOutcome:
        return self._remind(step, "deposit.top_up_reminded")

    @activity.defn(name=REMIND_RECOVERY_ACTIVITY)
    async def remind_recovery(self, step: Step) -> StepOutcome:
        return self._remind(step, "fund.recovery_reminded")

    @activity.defn(name=RECORD_TOP_UP_ACTIVITY)
    async def record_top_up(self, step: SettlementStep) -> SettlementOutcome:
        return self._settle(step, "deposit.topped_up")

    @activity.defn(name=RECORD_RECOVERY_ACTIVITY)
    async def record_recovery(self, step: SettlementStep) -> SettlementOutcome:
        return self._settle(step, "fund.recovery_recorded")

    @activity.defn(name=WRITE_OFF_ACTIVITY)
    async def write_off_advance(self, step: WriteOffStep) -> WriteOffOutcome:
        if step.step_key in self.steps:
            return WriteOffOutcome.model_validate(self.steps[step.step_key].model_dump())
        outstanding = self._outstanding()
        refusal = write_off_refusal(self.source, self.stage, outstanding)
        if refusal is not None:
            return WriteOffOutcome(refusal=refusal)
        self.written_off += outstanding
        self.fund = FundBalance(
            self.fund.reserve, self.fund.advanced, self.fund.recovered, self.fund.written_off + outstanding
        )
        self.stage = PayoutStage.WRITTEN_OFF
        facts = {"amount": outstanding, "recovered": self.settled, "basis": step.record.basis}
        self._event("fund.advance_written_off", facts)
        return self._keep(step.step_key, WriteOffOutcome(amount=outstanding, recovered=self.settled))  # type: ignore[no-any-return]

    def activities(self) -> list[Any]:
        return [
            self.payout_date,
            self.decide_payout,
            self.payout_overdue,
            self.record_payout_paid,
            self.demand_top_up,
            self.remind_top_up,
            self.remind_recovery,
            self.record_top_up,
            self.record_recovery,
            self.write_off_advance,
        ]

    def for_payout(self, payout: PayoutInput) -> FakePayouts:
        self.amount, self.source = payout.amount, payout.source
        return self

    # --- as the service keeps its steps --------------------------------------------------------------------

    def _outstanding(self) -> Decimal:
        return self.amount - self.settled - self.written_off

    def _event(self, kind: str, facts: dict[str, Any]) -> None:
        self.events.append((kind, facts))

    def _keep(self, key: str, outcome: Any) -> Any:
        self.steps[key] = outcome
        return outcome

    def _once(self, key: str, write: Any) -> StepOutcome:
        if key in self.steps:
            return StepOutcome.model_validate(self.steps[key].model_dump())
        write()
        return self._keep(key, StepOutcome(outstanding=self._outstanding()))  # type: ignore[no-any-return]

    def _remind(self, step: Step, kind: str) -> StepOutcome:
        if step.step_key in self.steps:
            return StepOutcome.model_validate(self.steps[step.step_key].model_dump())
        outstanding = self._outstanding()
        if outstanding > 0:
            self._event(kind, {"reminder": step.reminder, "outstanding": outstanding})
        return self._keep(step.step_key, StepOutcome(outstanding=outstanding, sent=outstanding > 0))  # type: ignore[no-any-return]

    def _settle(self, step: SettlementStep, kind: str) -> SettlementOutcome:
        if step.step_key in self.steps:
            return SettlementOutcome.model_validate(self.steps[step.step_key].model_dump())
        outstanding = self._outstanding()
        amount = step.record.amount if step.record.amount is not None else outstanding
        refusal = settlement_refusal(amount, outstanding, kind)
        if refusal is not None:
            return SettlementOutcome(outstanding=outstanding, refusal=refusal)
        self.settled += amount
        if self.source is PayoutSource.DEPOSIT:
            self.topped_up += amount
            assert self.deposit is not None
            self.deposit = self.deposit.model_copy(
                update={"status": deposit_status_after(self.deposit, self.drawn - self.topped_up)}
            )
        else:
            self.fund = FundBalance(self.fund.reserve, self.fund.advanced, self.fund.recovered + amount)
        if self._outstanding() <= 0:
            self.stage = PayoutStage.SETTLED
        self._event(kind, {"amount": amount, "outstanding": self._outstanding()})
        return self._keep(step.step_key, SettlementOutcome(amount=amount, outstanding=self._outstanding()))  # type: ignore[no-any-return]
