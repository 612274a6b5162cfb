"""The payout workflow's own contract inside the monitoring service: its activities, Updates and query by name,
their arguments and answers (`payout_workflow.py` runs them, `payout_activities.py` hosts the activities,
`payout_commands.py` sends the Updates). What a case uses is in services/contracts/guarantee_funds.py.

Each step that writes carries `step_key` (`<workflow id>:<step>`): the service writes it once, and a retried
activity gets the first answer back. Pure pydantic: imported by the workflow sandbox.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.guarantee_funds import MAX_AMOUNT, PayoutSource, PayoutStage, WriteOffBasis

PAYOUT_DATE_ACTIVITY = "monitoring.payout_date"
DECIDE_PAYOUT_ACTIVITY = "monitoring.decide_payout"
PAYOUT_OVERDUE_ACTIVITY = "monitoring.payout_overdue"
RECORD_PAID_ACTIVITY = "monitoring.record_payout_paid"
DEMAND_TOP_UP_ACTIVITY = "monitoring.demand_top_up"
REMIND_TOP_UP_ACTIVITY = "monitoring.remind_top_up"
RECORD_TOP_UP_ACTIVITY = "monitoring.record_top_up"
RECORD_RECOVERY_ACTIVITY = "monitoring.record_recovery"
REMIND_RECOVERY_ACTIVITY = "monitoring.remind_recovery"
WRITE_OFF_ACTIVITY = "monitoring.write_off_advance"

DECIDE_UPDATE = "decide"
RECORD_PAID_UPDATE = "record_paid"
RECORD_TOP_UP_UPDATE = "record_top_up"
RECORD_RECOVERY_UPDATE = "record_recovery"
WRITE_OFF_UPDATE = "write_off"
STATUS_QUERY = "status"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PayoutTiming(_Model):
    """The periods of a payout's process (MonitoringSettings; docs/monitoring.md cites each one's source)."""

    payout_working_days: int = Field(5, ge=1, description="The bank pays the workers within these working days.")
    top_up_working_days: int = Field(10, ge=1, description="The contractor tops the deposit up within these.")
    top_up_reminder_working_days: int = Field(5, ge=1, description="Then a reminder every these working days.")
    recovery_reminder_months: int = Field(1, ge=1, description="An advance owed back: a reminder every N months.")


class PayoutInput(_Model):
    payout_id: str
    case_id: str
    county: str
    project_id: str | None
    source: PayoutSource
    amount: Decimal
    workers_paid: int
    timing: PayoutTiming = Field(default_factory=PayoutTiming)


class Actor(_Model):
    """The agency client who acted (for the audit row and the events): as its token named it."""

    client_id: str
    role: str
    county: str | None = None


class PayoutDecision(_Model):
    """The city office's decision (the `decide` Update)."""

    approve: bool
    reason: str | None = Field(None, max_length=1000, description="Why it is refused (required to refuse).")
    actor: Actor


class PaidRecord(_Model):
    """The bank's payout to the workers, recorded with the date it paid (the `record_paid` Update)."""

    paid_on: date
    actor: Actor


class SettlementRecord(_Model):
    """A top-up of the deposit or a recovery of the advance (the `record_top_up` / `record_recovery` Updates);
    `amount` None: whatever is outstanding."""

    amount: Decimal | None = Field(None, gt=0, le=MAX_AMOUNT, decimal_places=2)
    on: date
    actor: Actor


class WriteOffRecord(_Model):
    """The city office writes off what is left of an advance the employer will never repay (the `write_off`
    Update): on what ground, and why in its own words (kept by the service, never in an event)."""

    basis: WriteOffBasis
    reason: str = Field(min_length=1, max_length=1000)
    actor: Actor


class PayoutDateRequest(_Model):
    start: date
    working_days: int = Field(0, ge=0)
    months: int = Field(0, ge=0)


class PayoutDate(_Model):
    day: date
    at: datetime = Field(description="The end of the day, China Standard Time.")
    provisional: bool = False


class DecideStep(_Model):
    payout_id: str
    step_key: str
    decision: PayoutDecision
    decided_on: date
    pay_by: date | None = None


class DecideOutcome(_Model):
    stage: PayoutStage
    # Set when the approval is refused because the deposit or the fund does not cover it: nothing was written.
    refusal: str | None = None
    pay_by: date | None = None
    available_after: Decimal | None = None


class Step(_Model):
    """A step of the process that writes nothing but its event (overdue, demand, reminders)."""

    payout_id: str
    step_key: str
    due_date: date | None = None
    reminder: int = 0


class StepOutcome(_Model):
    # What is still outstanding on the payout (the top-up, or the advance) after the step.
    outstanding: Decimal
    sent: bool = Field(True, description="False: nothing was outstanding any more; no event.")


class PaidStep(_Model):
    payout_id: str
    step_key: str
    record: PaidRecord


class SettlementStep(_Model):
    payout_id: str
    step_key: str
    record: SettlementRecord


class SettlementOutcome(_Model):
    amount: Decimal = Decimal("0.00")
    outstanding: Decimal
    refusal: str | None = Field(None, description="Not recorded: more than is outstanding.")


class WriteOffStep(_Model):
    payout_id: str
    step_key: str
    record: WriteOffRecord
    written_off_on: date


class WriteOffOutcome(_Model):
    amount: Decimal = Field(Decimal("0.00"), description="Yuan written off.")
    recovered: Decimal = Field(Decimal("0.00"), description="Yuan recovered before it.")
    refusal: str | None = Field(None, description="Not written: the service found nothing to write off.")


class PayoutStatus(_Model):
    """The payout's process now (the `status` query and every Update's answer)."""

    payout_id: str
    case_id: str
    county: str
    source: PayoutSource
    amount: Decimal
    stage: PayoutStage
    pay_by: date | None = None
    overdue: bool = False
    paid_on: date | None = None
    outstanding: Decimal = Field(description="The top-up (deposit) or the advance (fund) not settled yet.")
    written_off: Decimal = Field(Decimal("0.00"), description="What the city office wrote off of the advance.")
    top_up_due: date | None = None
    reminders: int = 0
    next_reminder_at: datetime | None = None


class PayoutResult(_Model):
    stage: PayoutStage
    reminders: int = 0
