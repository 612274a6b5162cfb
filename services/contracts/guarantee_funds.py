"""The contract of paying workers when the employer will not (docs/monitoring.md, "Paying workers from the deposit
or the emergency fund"): from the project's wage deposit (动用工资保证金) or as an advance from the county's
emergency fund (应急周转金先行垫付).

The monitoring service keeps the money's record and runs each payout's process; a case asks for a payout and
learns of it through what this module names:

- **One activity starts a payout**: `REQUEST_PAYOUT_ACTIVITY` (`monitoring.request_payout`), hosted by the
  monitoring worker on `TaskQueues.MONITORING`. A case workflow calls it with a `PayoutRequest`:

      accepted = await workflow.execute_activity(
          REQUEST_PAYOUT_ACTIVITY, request, task_queue=TaskQueues.MONITORING, result_type=PayoutAccepted,
          start_to_close_timeout=timedelta(minutes=1),
      )

  It is idempotent by the request's `idempotency_key`: a retried call (or the same request again) answers the
  first payout and starts nothing twice; the same key with another request is refused. A request the service
  cannot accept (no such project, another county's, …) fails with a non-retryable `ApplicationError` of type
  `PAYOUT_REQUEST_REFUSED`, its message saying why ("中文 (English)").
- **The payout's workflow** (`PAYOUT_WORKFLOW_TYPE`) is named by `payout_workflow_id(case id, n)`:
  `payout:<case id>:<n>`, the case's n-th payout; the case id is the ledger's, no person is in it.
- **Its events** below, on `Topics.MONITORING`, keyed by the case id, so one case's payouts stay in order; the
  county fund's reserve (`fund.reserve_set`) is keyed `fund:<county>`. `payout.paid` is the one that records
  the payment against the case (workers paid, amount, the date the bank paid); `fund.advance_written_off` ends an
  advance the employer will never repay. Amounts, dates, ids and companies only: no worker is in a payout, not
  even by keyed reference; a refusal's or a write-off's reason is an agency's free text and stays in the
  monitoring service.

Pure: pydantic and the events modules, nothing done on import.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.contracts.events import AgencyText
from services.contracts.monitoring_events import Company, MonitoringEvent

REQUEST_PAYOUT_ACTIVITY = "monitoring.request_payout"
PAYOUT_WORKFLOW_TYPE = "GuaranteePayout"
# The `ApplicationError.type` of a payout request refused for good (retrying it cannot succeed).
PAYOUT_REQUEST_REFUSED = "PayoutRequestRefused"

# A ledger case id as the cases service makes them (`C-…`): letters, digits and dashes, no `:` (the workflow id
# is split on it) and room for no one's name.
CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$"
# Amounts in yuan, to the fen; at most ¥1 trillion less a fen, as the register's contract values.
MAX_AMOUNT = Decimal("999999999999.99")


def payout_workflow_id(case_id: str, sequence: int) -> str:
    """The case's `sequence`-th payout (from 1): named by the ledger's case id only."""
    return f"payout:{case_id}:{sequence}"


class PayoutSource(StrEnum):
    """Where the money that pays the workers comes from."""

    DEPOSIT = "deposit"  # 动用工资保证金: the project's wage deposit, topped up by the general contractor after
    EMERGENCY_FUND = (
        "emergency_fund"  # 应急周转金先行垫付: an advance from the county's fund, recovered from the employer
    )


class PayoutStage(StrEnum):
    """Where a payout stands."""

    REQUESTED = "requested"  # waiting for the city office's decision
    REFUSED = "refused"  # the city office refused it (ends)
    APPROVED = "approved"  # the deposit drawn or the advance made; the bank to pay the workers
    PAID = "paid"  # the bank paid the workers; the deposit's top-up or the advance's recovery outstanding
    SETTLED = "settled"  # topped up in full, or the advance repaid (ends)
    WRITTEN_OFF = "written_off"  # what was left of the advance written off by the city office: a loss (ends)


class WriteOffBasis(StrEnum):
    """Why an advance of the emergency fund can no longer be recovered from the employer (核销的依据)."""

    EMPLOYER_DEREGISTERED = "employer_deregistered"  # 用人单位已注销: no one left to owe it
    BANKRUPTCY_CLOSED = "bankruptcy_closed"  # 破产程序终结: the bankruptcy closed without paying it
    ENFORCEMENT_TERMINATED = "enforcement_terminated"  # 终结执行: the court ended enforcement, nothing to seize


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PayoutRequest(_Model):
    """What a case asks for: pay `workers_paid` workers `amount` yuan in all from `source`."""

    case_id: str = Field(pattern=CASE_ID_PATTERN, description="The ledger case the workers' arrears are in.")
    county: str = Field(pattern=r"^\d{6}$", description="The case's county code (行政区划代码), e.g. '130403'.")
    project_id: str | None = Field(
        None,
        max_length=40,
        description="The register's project (`PRJ-…`): required to draw its deposit; for an advance, when the case's "
        "project is in the register.",
    )
    source: PayoutSource
    amount: Decimal = Field(gt=0, le=MAX_AMOUNT, decimal_places=2, description="Yuan, to the fen.")
    workers_paid: int = Field(ge=1, le=100_000, description="How many workers the payout pays.")
    requested_by: str = Field(
        min_length=1, max_length=200, description="The inspector who decided to ask (their client or person id)."
    )
    idempotency_key: str = Field(
        min_length=1, max_length=200, description="The same key again answers the first payout and starts nothing."
    )

    @model_validator(mode="after")
    def _deposit_names_its_project(self) -> PayoutRequest:
        if self.source is PayoutSource.DEPOSIT and not self.project_id:
            raise ValueError("a payout from the wage deposit names the project whose deposit it draws")
        return self


class PayoutAccepted(_Model):
    """The answer of `monitoring.request_payout`: the payout, and its workflow."""

    payout_id: str = Field(description="`PO-…`")
    workflow_id: str = Field(description="`payout:<case id>:<n>`")
    sequence: int = Field(description="n: the case's n-th payout.")
    stage: PayoutStage
    created: bool = Field(description="False: the key's payout existed already (a retry); nothing new started.")


# --- events ------------------------------------------------------------------------------------------------


class GuaranteeFundEvent(MonitoringEvent):
    """An event of the payouts or the emergency funds (on the monitoring service's topic)."""


class _PayoutEvent(GuaranteeFundEvent):
    payout_id: str
    case_id: str
    county: str = Field(description="The case's county code, e.g. '130403'.")
    project_id: str | None = Field(None, description="The register's project; None for an advance without one.")
    source: PayoutSource


class PayoutRequested(_PayoutEvent):
    """A case asked for its workers to be paid from the deposit or the emergency fund: the city office decides."""

    TYPE: ClassVar[str] = "payout.requested"
    VERSION: ClassVar[int] = 1
    sequence: int = Field(description="The case's n-th payout.")
    workflow_id: str
    amount: Decimal = Field(description="Yuan asked for.")
    workers_paid: int
    requested_by: str


class PayoutApproved(_PayoutEvent):
    """The city office approved a payout: the deposit was drawn (or the fund advanced) by `amount`, and the bank
    is to pay the workers by `pay_by`."""

    TYPE: ClassVar[str] = "payout.approved"
    VERSION: ClassVar[int] = 1
    amount: Decimal
    workers_paid: int
    decided_by: str
    approved_on: date
    pay_by: date = Field(description="The bank's payout is due by the end of this day (working days, config).")
    available_after: Decimal = Field(description="What the deposit (or the county's fund) has left, in yuan.")


class PayoutRefused(_PayoutEvent):
    """The city office refused a payout (ends it). The reason stays in the monitoring service (`GET
    /v1/payouts/{id}`)."""

    TYPE: ClassVar[str] = "payout.refused"
    VERSION: ClassVar[int] = 1
    amount: Decimal
    decided_by: str
    reason: AgencyText = None


class PayoutOverdue(_PayoutEvent):
    """The bank's payout was not recorded by its due date."""

    TYPE: ClassVar[str] = "payout.overdue"
    VERSION: ClassVar[int] = 1
    amount: Decimal
    pay_by: date


class PayoutPaid(_PayoutEvent):
    """The bank paid the workers: record the payment against the case (`paid_on` is the date it was paid)."""

    TYPE: ClassVar[str] = "payout.paid"
    VERSION: ClassVar[int] = 1
    amount: Decimal = Field(description="Yuan paid to the workers.")
    workers_paid: int
    paid_on: date
    recorded_by: str


class DepositTopUpDemanded(_PayoutEvent):
    """The general contractor is to top the project's deposit up by `amount` by `due_date`."""

    TYPE: ClassVar[str] = "deposit.top_up_demanded"
    VERSION: ClassVar[int] = 1
    general_contractor: Company
    amount: Decimal = Field(description="Yuan to top up: what the payout drew and has not been topped up.")
    due_date: date


class DepositTopUpReminded(_PayoutEvent):
    """The deposit's top-up is overdue: a reminder (the first on the due date's passing, then every few working
    days, config)."""

    TYPE: ClassVar[str] = "deposit.top_up_reminded"
    VERSION: ClassVar[int] = 1
    general_contractor: Company
    outstanding: Decimal
    due_date: date
    reminder: int = Field(description="1 for the first reminder, one more each time.")


class DepositToppedUp(_PayoutEvent):
    """The general contractor topped the deposit up (in part, or in full: `outstanding` 0)."""

    TYPE: ClassVar[str] = "deposit.topped_up"
    VERSION: ClassVar[int] = 1
    amount: Decimal
    topped_up_on: date
    outstanding: Decimal = Field(description="Yuan of this payout still to top up.")
    recorded_by: str


class FundRecoveryRecorded(_PayoutEvent):
    """Money the employer paid back on an advance of the emergency fund (`repaid`: the advance in full)."""

    TYPE: ClassVar[str] = "fund.recovery_recorded"
    VERSION: ClassVar[int] = 1
    amount: Decimal
    recovered_on: date
    recovered: Decimal = Field(description="Yuan of the advance recovered so far.")
    outstanding: Decimal
    repaid: bool
    recorded_by: str


class FundRecoveryReminded(_PayoutEvent):
    """An advance of the emergency fund is still owed by the employer: the monthly reminder."""

    TYPE: ClassVar[str] = "fund.recovery_reminded"
    VERSION: ClassVar[int] = 1
    advanced: Decimal
    outstanding: Decimal
    paid_on: date = Field(description="When the fund's money reached the workers.")
    reminder: int = Field(description="1 for the first month, one more each month.")


class FundAdvanceWrittenOff(_PayoutEvent):
    """The city office wrote off what was left of an advance of the emergency fund (核销): the employer will never
    repay it, the fund bears the loss and the payout ends. The reason is the city office's free text and stays in
    the monitoring service (`GET /v1/payouts/{id}`); `basis` says on what ground."""

    TYPE: ClassVar[str] = "fund.advance_written_off"
    VERSION: ClassVar[int] = 1
    amount: Decimal = Field(description="Yuan written off: what was outstanding on the advance.")
    recovered: Decimal = Field(description="Yuan of the advance recovered from the employer before the write-off.")
    basis: WriteOffBasis
    written_off_on: date
    written_off_by: str


class FundReserveSet(GuaranteeFundEvent):
    """The city office set a county's emergency-fund reserve (subject `fund:<county>`)."""

    TYPE: ClassVar[str] = "fund.reserve_set"
    VERSION: ClassVar[int] = 1
    county: str
    reserve: Decimal
    previous: Decimal | None = Field(description="None: the county had no reserve set.")
    outstanding: Decimal = Field(description="Advances not recovered yet.")
    available: Decimal = Field(description="reserve − outstanding − written off.")
    set_by: str


class GuaranteeFundEvents:
    """Event type names of the payouts and funds (each the `TYPE` of its class)."""

    PAYOUT_REQUESTED = PayoutRequested.TYPE
    PAYOUT_APPROVED = PayoutApproved.TYPE
    PAYOUT_REFUSED = PayoutRefused.TYPE
    PAYOUT_OVERDUE = PayoutOverdue.TYPE
    PAYOUT_PAID = PayoutPaid.TYPE
    TOP_UP_DEMANDED = DepositTopUpDemanded.TYPE
    TOP_UP_REMINDED = DepositTopUpReminded.TYPE
    TOPPED_UP = DepositToppedUp.TYPE
    RECOVERY_RECORDED = FundRecoveryRecorded.TYPE
    RECOVERY_REMINDED = FundRecoveryReminded.TYPE
    ADVANCE_WRITTEN_OFF = FundAdvanceWrittenOff.TYPE
    RESERVE_SET = FundReserveSet.TYPE


def fund_subject(county: str) -> str:
    """The Kafka key of a county fund's own events."""
    return f"fund:{county}"
