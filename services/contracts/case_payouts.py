"""The case's side of paying its workers from the project's wage deposit (动用工资保证金) or with an advance
from the county's emergency fund (应急周转金先行垫付): what the case workflow is told and keeps.

The monitoring service runs each payout (`services/contracts/guarantee_funds.py`); the case decides to ask
for one and records what became of it:

- **The inspector's decision** (`PayoutDecision`, the case workflow's Update `decide_payout`): possible once
  the order's deadline passed unpaid (the refusal stage), for at most the wages still owed that no payout
  covers yet. The workflow then asks the monitoring service for the payout (`monitoring.request_payout`),
  with an idempotency key made of its workflow id and the decision's id, so a repeated decision asks once.
- **What became of it** (`PayoutOutcome`, the Update `record_payout_outcome`): the city office's approval or
  refusal, and the bank's payment, told by the cases service when it reads `payout.approved`,
  `payout.refused` and `payout.paid`. Recorded once per payout and outcome: the same outcome again changes
  nothing.

Money paid out of the deposit or the fund pays the *workers*; it is not the *employer's* payment (the general
contractor tops the deposit up, the employer repays the fund). So a payout never counts as the employer paying:
not for the order, the additional compensation, the criminal referral, the sanctions nor a closure "paid in
full". It counts for the workers: what they received, and how much of the wages owed no payout covers yet.

Pure: pydantic only, nothing done on import.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.contracts.guarantee_funds import MAX_AMOUNT, PayoutSource, PayoutStage


class CasePayoutMessages:
    """The names of the case workflow's messages about payouts."""

    DECIDE_PAYOUT = "decide_payout"  # Update: the inspector's decision to pay the workers from a deposit or fund
    RECORD_PAYOUT_OUTCOME = "record_payout_outcome"  # Update: approved, refused or paid (the monitoring events)
    PAYOUTS = "payouts"  # Query: the case's payouts and their sums (`CasePayouts`)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PayoutDecision(_Model):
    """The inspector's (or the bureau head's) decision to have the case's workers paid from `source`."""

    decision_id: str = Field(
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Names the decision: the same decision again asks for the same payout (the request's key).",
    )
    source: PayoutSource
    amount: Decimal = Field(gt=0, le=MAX_AMOUNT, decimal_places=2, description="Yuan, to the fen.")
    workers_paid: int = Field(ge=1, le=100_000)
    project_id: str | None = Field(
        None, max_length=40, description="The register's project (`PRJ-…`); required to draw its deposit."
    )
    decided_by: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _deposit_names_its_project(self) -> PayoutDecision:
        if self.source is PayoutSource.DEPOSIT and not self.project_id:
            raise ValueError("a payout from the wage deposit names the project whose deposit it draws")
        return self


class PayoutOutcomeKind(StrEnum):
    APPROVED = "approved"
    REFUSED = "refused"
    PAID = "paid"


class PayoutOutcome(_Model):
    """What the monitoring service's events say became of one of the case's payouts."""

    payout_id: str = Field(min_length=1, max_length=64)
    outcome: PayoutOutcomeKind
    amount: Decimal = Field(ge=0, le=MAX_AMOUNT, decimal_places=2)
    workers_paid: int | None = Field(None, ge=1, le=100_000, description="Approved and paid: how many workers.")
    paid_on: date | None = Field(None, description="Paid: the day the bank paid the workers.")

    @model_validator(mode="after")
    def _paid_has_its_date(self) -> PayoutOutcome:
        if self.outcome is PayoutOutcomeKind.PAID and (self.paid_on is None or self.workers_paid is None):
            raise ValueError("a payment names the day it was paid and the workers it paid")
        return self


class CasePayout(_Model):
    """One payout the case asked for, as the case knows it."""

    decision_id: str
    payout_id: str | None = Field(None, description="`PO-…`, once the monitoring service accepted the request.")
    sequence: int | None = None
    source: PayoutSource
    project_id: str | None = None
    amount: Decimal = Field(description="Yuan asked for; once paid, yuan paid.")
    workers_paid: int
    decided_by: str
    stage: PayoutStage = PayoutStage.REQUESTED
    paid_on: date | None = None


class CasePayouts(_Model):
    """The case's payouts and what they add up to (the query `payouts`)."""

    items: list[CasePayout] = Field(default_factory=list)
    paid_amount: Decimal = Field(Decimal(0), description="Yuan the workers received from deposits and funds.")
    workers_paid: int = Field(0, description="Workers paid by payouts (summed over the payouts paid).")
    committed: Decimal = Field(Decimal(0), description="Yuan asked for, approved or paid (not refused).")
    uncovered: Decimal = Field(
        Decimal(0), description="Wages the employer still owes that no payout covers: what a new payout may ask."
    )
