"""The cases service's events about paying a case's workers from the project's wage deposit or the emergency
fund (services/contracts/case_payouts.py): the inspector's decision, an action with the process right after it
(`ActionRecorded`), and each outcome of the payout as the case recorded it. Amounts, dates and ids only: no
worker is in them. All version 1, on `Topics.CASES`, keyed by the ledger case id."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from services.contracts.cases_events import ActionRecorded, CasesEvent


class PayoutDecided(ActionRecorded):
    """The inspector (or the bureau head) decided to have the case's workers paid from the project's wage
    deposit or with an advance from the emergency fund, and the monitoring service took the request."""

    TYPE: ClassVar[str] = "case.payout_decided"
    VERSION: ClassVar[int] = 1

    decision_id: str
    payout_id: str = Field(description="`PO-…`: the monitoring service's payout.")
    source: str = Field(description="deposit or emergency_fund.")
    amount: Decimal = Field(description="Yuan asked for.")
    workers_paid: int
    project_id: str | None = None


class PayoutOutcomeRecorded(CasesEvent):
    """What became of one of the case's payouts (the city office's approval or refusal, the bank's payment),
    recorded against the case when the cases service read the monitoring service's event. Money from the
    deposit or the fund pays the workers; it is not the employer's payment."""

    TYPE: ClassVar[str] = "case.payout_outcome_recorded"
    VERSION: ClassVar[int] = 1

    case_id: str = Field(description="The ledger case id as the payout names it (its process case id).")
    payout_id: str
    outcome: str = Field(description="approved, refused or paid.")
    source: str
    amount: Decimal
    workers_paid: int | None = None
    paid_on: date | None = None
    on_process: bool = Field(
        description="Whether the case's workflow recorded it (false: the case's process had ended, or did not "
        "ask for this payout; the ledger keeps it all the same)."
    )


class CasePayoutEvents:
    """Event type names of this module on `Topics.CASES` (each the `TYPE` of its class)."""

    PAYOUT_DECIDED = PayoutDecided.TYPE
    PAYOUT_OUTCOME_RECORDED = PayoutOutcomeRecorded.TYPE
