"""The inputs and outputs of the lifecycle's activities, each input keyed by workflow id + step (its
`idempotency_key`): the messages to the complainant and to the offices, and the commands to the cases,
referrals and sanctions services with the records they answer. The workflows' own inputs and the messages of
agencies and services are in `messages.py`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

from services.contracts.lifecycle._model import _Model
from services.contracts.lifecycle.configuration import LadderRung
from services.contracts.lifecycle.enums import (
    DayUnit,
    LetterKind,
    ListingGround,
    Office,
    ReferralKind,
    SanctionKind,
    handoff_letter,
)
from services.contracts.lifecycle.messages import Evidence


class Notification(_Model):
    idempotency_key: str
    complaint_id: str
    recipient_ref: str
    template: str = Field(description="Message template, e.g. 'complaint.accepted'.")
    params: dict[str, str] = Field(default_factory=dict)


class AgencyNotice(_Model):
    idempotency_key: str
    subject: str = Field(description="Workflow id the notice is about.")
    county: str
    office: Office
    kind: str
    text: str
    due_at: datetime | None = None
    department: str | None = None


class ForwardRequest(_Model):
    idempotency_key: str
    complaint_id: str
    county: str
    forward_to: str
    note: str | None = None


class OrderToPayRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    employer_ref: str
    project_ref: str
    amount_owed: Decimal
    workers: int
    pay_days: int
    pay_unit: DayUnit
    amends: str | None = Field(None, description="An amended order: the order it amends (the case grew).")
    added_amount: Decimal | None = Field(None, description="An amended order: the amount added to the order.")


class CompensationRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    employer_ref: str
    unpaid_amount: Decimal
    rate: Decimal


class LetterRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    department: str
    kind: Annotated[LetterKind, AfterValidator(handoff_letter)]
    response_due_at: datetime | None = None
    response_due_date: date | None = None


class ReferralSupplementRequest(_Model):
    """Wages paid after a criminal referral: the police are sent a supplementary notice (补充材料函) with the
    payment's evidence. Whether to open a case, and any leniency, stays theirs to decide (法释〔2013〕3号
    art. 6); the additional compensation stays due."""

    idempotency_key: str
    case_id: str
    referral_id: str
    amount_paid: Decimal = Field(gt=0, description="Paid after the order's deadline.")
    payment_ids: list[str] = Field(min_length=1)
    evidence: list[Evidence] = Field(default_factory=list)


class ReferralRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    employer_ref: str
    target: ReferralKind
    unpaid_amount: Decimal
    workers: int
    basis: str


class WithdrawReferralRequest(_Model):
    idempotency_key: str
    case_id: str
    referral_id: str
    reason: str


class SanctionRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    employer_ref: str
    kind: SanctionKind
    amount: Decimal
    basis: str
    # The ground of a blacklist proposal, judged by the case workflow with `sanction_rules.listing_ground`;
    # absent in requests of workflows started before it was sent (the service then reads it from `basis`).
    ground: ListingGround | None = None


class DocumentRef(_Model):
    """What a service returns for a document or record it created (order, letter, referral, listing)."""

    id: str


class DepartmentTermsRequest(_Model):
    department: str


class DepartmentTerms(_Model):
    """A receiving department's own deadlines as the referrals service's directory gives them: how long it
    has to answer a handoff, and the rungs of its ladder. `found` is false when the directory does not know
    the department (or no directory is reachable in journal mode): the workflow then keeps its own setting
    (`LifecycleConfig.handoff`), and says so in its timeline."""

    department: str
    found: bool = True
    response_days: int = Field(ge=0)
    response_unit: DayUnit = DayUnit.WORKING
    ladder: list[LadderRung] = Field(default_factory=list)
