"""One workflow per payout (`GuaranteePayout`, id `payout:<case id>:<n>` on `anxin-monitoring`, hosted by the
monitoring worker; started by the `monitoring.request_payout` activity a case calls,
services/contracts/guarantee_funds.py): paying a case's workers from the project's wage deposit or with an
advance from the county's emergency fund, and getting the money back.

1. **Requested**: it waits for the city office's decision, the Update `decide` (approve, or refuse with a
   reason; its validator admits the city office only, once). An approval has the service draw the deposit or
   advance from the fund, in one transaction with its event (`monitoring.decide_payout`); when the deposit or
   the fund does not cover the amount the approval is refused with the figures and the payout keeps waiting (to
   be refused, or approved once there is money). A refusal ends it.
2. **Approved**: the bank pays the workers within `payout_working_days` working days (config, default 5); the
   Update `record_paid` records the date it paid (`payout.paid`, which the case records); past the due date
   without it, `payout.overdue` once.
3. **Deposit**: the top-up is demanded from the general contractor, due `top_up_working_days` working days
   after the payout (default 10); overdue, a reminder, then one every `top_up_reminder_working_days`, until
   the Updates `record_top_up` have restored all of it (the register's deposit is `lodged` again).
   **Emergency fund**: the advance is owed back by the employer; a reminder every `recovery_reminder_months`
   month(s) after the payout until the Updates `record_recovery` have recovered all of it — or until the city
   office writes off what is left (the Update `write_off`, with a basis and a reason; the fund bears the loss):
   the payout ends `written_off`.

Each write is an activity of the service keyed `<workflow id>:<step>`, so a retried activity writes nothing
twice; every date is counted by `monitoring.payout_date` on the calendar every deadline uses, so the instant is
in the history and a replay waits for the same one. A few dozen events a month at most: it does not continue as
new. Workflow code: no I/O, `workflow.now()` only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.common.workflow_runner import record_runner_patches
    from services.contracts.guarantee_funds import PAYOUT_WORKFLOW_TYPE, PayoutSource, PayoutStage
    from services.monitoring.guarantee_rules import settlement_refusal, write_off_refusal
    from services.monitoring.payout_messages import (
        DECIDE_PAYOUT_ACTIVITY,
        DECIDE_UPDATE,
        DEMAND_TOP_UP_ACTIVITY,
        PAYOUT_OVERDUE_ACTIVITY,
        RECORD_PAID_ACTIVITY,
        RECORD_PAID_UPDATE,
        RECORD_RECOVERY_ACTIVITY,
        RECORD_RECOVERY_UPDATE,
        RECORD_TOP_UP_ACTIVITY,
        RECORD_TOP_UP_UPDATE,
        REMIND_RECOVERY_ACTIVITY,
        REMIND_TOP_UP_ACTIVITY,
        STATUS_QUERY,
        WRITE_OFF_ACTIVITY,
        WRITE_OFF_UPDATE,
        DecideOutcome,
        DecideStep,
        PaidRecord,
        PaidStep,
        PayoutDate,
        PayoutDecision,
        PayoutInput,
        PayoutResult,
        PayoutStatus,
        SettlementOutcome,
        SettlementRecord,
        SettlementStep,
        Step,
        WriteOffOutcome,
        WriteOffRecord,
        WriteOffStep,
    )
    from services.monitoring.payout_process import (
        CITY_OFFICE,
        PayoutProcess,
        refuse,
    )

# The `write_off` Update (December 2026): a history that wrote an advance off carries this marker.
PAYOUT_WRITE_OFF = "2026-12-payout-write-off"


@workflow.defn(name=PAYOUT_WORKFLOW_TYPE)
class GuaranteePayoutWorkflow(PayoutProcess):
    # The input in the constructor: an Update (the city office's decision) can arrive in the workflow's first
    # activation, before `run` begins, and its handler needs the payout.
    @workflow.init
    def __init__(self, input: PayoutInput) -> None:
        self._input: PayoutInput | None = input
        self._stage = PayoutStage.REQUESTED
        # An Update writing through an activity: the next one waits its turn (refused, to be sent again).
        self._busy = False
        self._approved_on: date | None = None
        self._pay_by: PayoutDate | None = None
        self._overdue = False
        self._paid_on: date | None = None
        self._settled = Decimal("0.00")  # topped up, or recovered
        self._written_off = Decimal("0.00")
        self._settlements = 0
        self._top_up_due: date | None = None
        self._reminders = 0
        self._next_reminder_at: datetime | None = None

    # --- what the agencies see and do ------------------------------------------------------------------------

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> PayoutStatus:
        payout = self._payout
        return PayoutStatus(
            payout_id=payout.payout_id,
            case_id=payout.case_id,
            county=payout.county,
            source=payout.source,
            amount=payout.amount,
            stage=self._stage,
            pay_by=self._pay_by.day if self._pay_by else None,
            overdue=self._overdue,
            paid_on=self._paid_on,
            outstanding=self._outstanding(),
            written_off=self._written_off,
            top_up_due=self._top_up_due,
            reminders=self._reminders,
            next_reminder_at=self._next_reminder_at,
        )

    @workflow.update(name=DECIDE_UPDATE)
    async def decide(self, decision: PayoutDecision) -> PayoutStatus:
        with self._writing():
            payout = self._payout
            today = self._today()
            pay_by = None
            if decision.approve:
                pay_by = await self._date(today, working_days=payout.timing.payout_working_days)
            step = DecideStep(
                payout_id=payout.payout_id,
                step_key=self._step("decision"),
                decision=decision,
                decided_on=today,
                pay_by=pay_by.day if pay_by else None,
            )
            outcome = await self._write(DECIDE_PAYOUT_ACTIVITY, step, DecideOutcome)
        if outcome.refusal is not None:
            raise refuse(outcome.refusal)
        self._stage = outcome.stage
        if outcome.stage is PayoutStage.APPROVED:
            self._approved_on = today
            self._pay_by = pay_by
        return self.status()

    @decide.validator
    def _validate_decision(self, decision: PayoutDecision) -> None:
        self._not_busy()
        if decision.actor.role != CITY_OFFICE:
            raise refuse("动用保证金或应急周转金由市根治欠薪办决定 (the city office decides a payout)")
        if self._stage is not PayoutStage.REQUESTED:
            raise refuse(
                f"该笔支付已作出决定（{self._stage.value}） (the payout was already decided: {self._stage.value})"
            )
        if not decision.approve and not (decision.reason or "").strip():
            raise refuse("不予动用须说明理由 (a refusal says why)")

    @workflow.update(name=RECORD_PAID_UPDATE)
    async def record_paid(self, record: PaidRecord) -> PayoutStatus:
        with self._writing():
            step = PaidStep(payout_id=self._payout.payout_id, step_key=self._step("paid"), record=record)
            await self._write(RECORD_PAID_ACTIVITY, step)
        self._stage = PayoutStage.PAID
        self._paid_on = record.paid_on
        return self.status()

    @record_paid.validator
    def _validate_paid(self, record: PaidRecord) -> None:
        self._not_busy()
        if self._stage is PayoutStage.REQUESTED:
            raise refuse("该笔支付尚未批准 (the payout is not approved yet)")
        if self._stage is not PayoutStage.APPROVED:
            raise refuse(f"银行发放已记录（{self._paid_on}） (the bank's payout is already recorded)")
        self._check_date(record.paid_on, "发放日期 (the payout date)")

    @workflow.update(name=RECORD_TOP_UP_UPDATE)
    async def record_top_up(self, record: SettlementRecord) -> PayoutStatus:
        return await self._settle(record, RECORD_TOP_UP_ACTIVITY, "top-up")

    @record_top_up.validator
    def _validate_top_up(self, record: SettlementRecord) -> None:
        self._validate_settlement(record, PayoutSource.DEPOSIT, "补足保证金")

    @workflow.update(name=RECORD_RECOVERY_UPDATE)
    async def record_recovery(self, record: SettlementRecord) -> PayoutStatus:
        return await self._settle(record, RECORD_RECOVERY_ACTIVITY, "recovery")

    @record_recovery.validator
    def _validate_recovery(self, record: SettlementRecord) -> None:
        self._validate_settlement(record, PayoutSource.EMERGENCY_FUND, "收回垫付资金")

    @workflow.update(name=WRITE_OFF_UPDATE)
    async def write_off(self, record: WriteOffRecord) -> PayoutStatus:
        workflow.patched(PAYOUT_WRITE_OFF)
        with self._writing():
            step = WriteOffStep(
                payout_id=self._payout.payout_id,
                step_key=self._step("write-off"),
                record=record,
                written_off_on=self._today(),
            )
            outcome = await self._write(WRITE_OFF_ACTIVITY, step, WriteOffOutcome)
        if outcome.refusal is not None:
            raise refuse(outcome.refusal)
        # The service's figures are the truth (a reminder may have read the payout meanwhile); nothing is owed
        # any more, so the recovery's wait ends and the workflow completes.
        self._settled, self._written_off = outcome.recovered, outcome.amount
        self._stage = PayoutStage.WRITTEN_OFF
        return self.status()

    @write_off.validator
    def _validate_write_off(self, record: WriteOffRecord) -> None:
        self._not_busy()
        if record.actor.role != CITY_OFFICE:
            raise refuse("核销垫付资金由市根治欠薪办决定 (the city office writes an advance off)")
        refusal = write_off_refusal(self._payout.source, self._stage, self._outstanding())
        if refusal is not None:
            raise refuse(refusal)
        if not record.reason.strip():
            raise refuse("核销须说明理由 (a write-off says why)")

    # --- the process -----------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: PayoutInput) -> PayoutResult:
        # First: from here on a cold worker and a replay agree (services/common/workflow_runner.py).
        record_runner_patches()
        self._input = input
        await workflow.wait_condition(lambda: self._stage is not PayoutStage.REQUESTED)
        if self._stage is PayoutStage.APPROVED:
            await self._await_bank_payout()
            if input.source is PayoutSource.DEPOSIT:
                await self._follow_top_up()
            else:
                await self._follow_recovery()
        # An Update still answering finishes before the run does.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PayoutResult(stage=self._stage, reminders=self._reminders)

    async def _await_bank_payout(self) -> None:
        assert self._pay_by is not None
        if not await self._wait_until(lambda: self._stage is not PayoutStage.APPROVED, self._pay_by.at):
            await self._step_activity(
                PAYOUT_OVERDUE_ACTIVITY,
                Step(payout_id=self._payout.payout_id, step_key=self._step("overdue"), due_date=self._pay_by.day),
            )
            self._overdue = True
            await workflow.wait_condition(lambda: self._stage is not PayoutStage.APPROVED)

    async def _follow_top_up(self) -> None:
        """Demand the deposit's top-up from the general contractor, and remind it when overdue until done."""
        assert self._paid_on is not None
        timing = self._payout.timing
        due = await self._date(self._paid_on, working_days=timing.top_up_working_days)
        self._top_up_due = due.day
        await self._step_activity(
            DEMAND_TOP_UP_ACTIVITY,
            Step(payout_id=self._payout.payout_id, step_key=self._step("top-up-demand"), due_date=due.day),
        )
        remind_at = due
        while self._outstanding() > 0:
            self._next_reminder_at = remind_at.at
            if await self._wait_until(lambda: self._outstanding() <= 0, remind_at.at):
                break
            if not await self._remind(REMIND_TOP_UP_ACTIVITY, "top-up-reminder", due.day):
                break
            remind_at = await self._date(remind_at.day, working_days=timing.top_up_reminder_working_days)
        self._next_reminder_at = None

    async def _follow_recovery(self) -> None:
        """Remind the advance owed back every N months from the payout until it is recovered in full."""
        assert self._paid_on is not None
        months = self._payout.timing.recovery_reminder_months
        while self._outstanding() > 0:
            remind_at = await self._date(self._paid_on, months=months * (self._reminders + 1))
            self._next_reminder_at = remind_at.at
            if await self._wait_until(lambda: self._outstanding() <= 0, remind_at.at):
                break
            if not await self._remind(REMIND_RECOVERY_ACTIVITY, "recovery-reminder", None):
                break
        self._next_reminder_at = None

    async def _remind(self, activity_name: str, step: str, due_date: date | None) -> bool:
        """Send the next reminder; False when the service found nothing outstanding any more."""
        number = self._reminders + 1
        outcome = await self._step_activity(
            activity_name,
            Step(
                payout_id=self._payout.payout_id,
                step_key=self._step(f"{step}:{number}"),
                due_date=due_date,
                reminder=number,
            ),
        )
        if not outcome.sent:
            if self._stage is PayoutStage.WRITTEN_OFF:
                return False  # written off meanwhile: the write-off set the figures
            # The service found nothing outstanding (its record is the truth): settled.
            self._settled = self._payout.amount - outcome.outstanding
            if outcome.outstanding <= 0:
                self._stage = PayoutStage.SETTLED
            return False
        self._reminders = number
        return True

    async def _settle(self, record: SettlementRecord, activity_name: str, step: str) -> PayoutStatus:
        with self._writing():
            number = self._settlements + 1
            settlement = SettlementStep(
                payout_id=self._payout.payout_id, step_key=self._step(f"{step}:{number}"), record=record
            )
            outcome = await self._write(activity_name, settlement, SettlementOutcome)
        if outcome.refusal is not None:
            raise refuse(outcome.refusal)
        self._settlements = number
        self._settled = self._payout.amount - outcome.outstanding
        if outcome.outstanding <= 0:
            self._stage = PayoutStage.SETTLED
        return self.status()

    def _validate_settlement(self, record: SettlementRecord, source: PayoutSource, what: str) -> None:
        self._not_busy()
        if self._payout.source is not source:
            raise refuse(
                f"该笔支付来源为 {self._payout.source.value}，不能{what} (not a payout from the {source.value})"
            )
        if self._stage is PayoutStage.SETTLED:
            raise refuse(f"该笔支付已结清，无需{what} (the payout is settled)")
        if self._stage is PayoutStage.WRITTEN_OFF:
            raise refuse(f"该笔垫付资金已核销，不能{what} (the advance was written off)")
        if self._stage is not PayoutStage.PAID:
            raise refuse(f"银行尚未发放，不能{what} (the bank's payout is not recorded yet)")
        self._check_date(record.on, "日期 (the date)")
        amount = record.amount if record.amount is not None else self._outstanding()
        refusal = settlement_refusal(amount, self._outstanding(), what)
        if refusal is not None:
            raise refuse(refusal)
