"""The messages exchanged with the workflows: their inputs, and what agencies and services send them (updates
and signals). The inputs and outputs of their activities are in `activity_messages.py`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import Field, field_validator, model_validator

from services.contracts.lifecycle._model import _Model
from services.contracts.lifecycle.case_origin import CaseOrigin
from services.contracts.lifecycle.configuration import LifecycleConfig
from services.contracts.lifecycle.deadlines import Deadline
from services.contracts.lifecycle.enums import (
    CLASSIFICATION_OF,
    AcceptanceDecisionKind,
    CaseStage,
    Classification,
    ClosureReason,
    EvidenceKind,
    PaymentPurpose,
    PoliceDecision,
    RejectionReason,
    Satisfaction,
    ServiceMethod,
    VerificationOutcome,
)
from services.contracts.lifecycle.names import _MOBILE, _RESIDENT_ID, check_business_id

# ---------------------------------------------------------------------------------------------------------
# Workflow inputs and the messages of agencies and services
# ---------------------------------------------------------------------------------------------------------


class ComplaintInput(_Model):
    complaint_id: str
    case_id: str = Field(description="The case (employer + project) this complaint belongs to.")
    county: str = Field(description="County code (行政区划代码), e.g. '130402'.")
    employer_ref: str
    project_ref: str
    complainant_ref: str = Field(description="Keyed reference the SMS gateway resolves; never a number.")
    received_at: datetime
    amount_owed: Decimal = Field(ge=0)
    workers_affected: int = Field(1, ge=1)
    months_owed: int = Field(
        1, ge=0, description="Whole months owed (services/contracts/owed_period.py); 0 under a month."
    )
    owed_until: date | None = Field(None, description="Last day owed: the 2-year limit counts from it.")
    channel: str = "qr"
    config: LifecycleConfig
    resume: dict[str, Any] | None = Field(None, description="State carried over by continue-as-new.")
    deadlines: list[Deadline] = Field(
        default_factory=list,
        description="Round 1's acceptance deadlines, computed by the starter (services/contracts/"
        "acceptance_deadlines.py); empty: the workflow computes them.",
    )

    @field_validator("complaint_id", "case_id")
    @classmethod
    def _ids(cls, value: str) -> str:
        return check_business_id(value)

    @field_validator("complainant_ref")
    @classmethod
    def _reference_not_number(cls, value: str) -> str:
        if _MOBILE.search(value) or _RESIDENT_ID.search(value):
            raise ValueError("complainant_ref must be a keyed reference, not a phone or ID number")
        return value


class CaseInput(_Model):
    case_id: str
    county: str
    employer_ref: str
    project_ref: str
    config: LifecycleConfig
    resume: dict[str, Any] | None = None
    origin: CaseOrigin | None = Field(None, description="An early-warning case's origin; None: opened by a complaint.")

    @field_validator("case_id")
    @classmethod
    def _ids(cls, value: str) -> str:
        return check_business_id(value)


class CaseMember(_Model):
    """A complaint's contribution to its case, sent when the complaint is accepted."""

    complaint_id: str
    amount_owed: Decimal = Field(ge=0)
    workers_affected: int = Field(ge=1)
    months_owed: int = Field(ge=0)
    accepted_at: datetime


class JoinCaseRequest(_Model):
    case: CaseInput
    member: CaseMember
    task_queue: str


class ComplaintLeft(_Model):
    complaint_id: str
    reason: str


class MassIncidentReport(_Model):
    reported_by: str
    summary: str


class CaseProgress(_Model):
    """A case milestone told to each member complaint (and so to each complainant)."""

    kind: str
    text: str
    at: datetime
    stage: CaseStage
    closure_reason: ClosureReason | None = None
    moved_to: str | None = Field(None, description="The case whose process the complaint now follows (a merge).")


class AcceptanceDecision(_Model):
    decision: AcceptanceDecisionKind
    decided_by: str
    reason: RejectionReason | None = None
    explanation: str | None = None
    missing_items: list[str] = Field(default_factory=list)
    forward_to: str | None = Field(None, description="Code of the competent office.")

    @model_validator(mode="after")
    def _complete(self) -> AcceptanceDecision:
        if self.decision is AcceptanceDecisionKind.REJECT and (self.reason is None or not self.explanation):
            raise ValueError("a rejection needs a reason and a written explanation")
        if self.decision is AcceptanceDecisionKind.REQUEST_MORE_INFO and not self.missing_items:
            raise ValueError("a request for more information must list the missing items")
        if self.decision is AcceptanceDecisionKind.FORWARD and not self.forward_to:
            raise ValueError("forwarding needs the competent office (forward_to)")
        return self


class SupplementedInformation(_Model):
    items: list[str] = Field(min_length=1)


class Withdrawal(_Model):
    reason: str = "complainant withdrew"


class CallbackRecord(_Model):
    satisfaction: Satisfaction
    called_by: str
    notes: str | None = None


class VerificationResult(_Model):
    outcome: VerificationOutcome
    verified_by: str
    department: str | None = Field(None, description="Responsible department, for non-wage disputes.")
    confirmed_amount: Decimal | None = Field(None, ge=0)
    confirmed_workers: int | None = Field(None, ge=1)
    notes: str | None = None

    @model_validator(mode="after")
    def _department_for_handoff(self) -> VerificationResult:
        if CLASSIFICATION_OF[self.outcome] is Classification.NON_WAGE_DISPUTE and not self.department:
            raise ValueError(f"outcome {self.outcome} is handed off: name the responsible department")
        return self


class Evidence(_Model):
    kind: EvidenceKind
    ref: str = Field(description="Reference of the stored file (receipt scan, photo, video).")


class ServiceRecord(_Model):
    method: ServiceMethod
    served_by: str
    evidence: list[Evidence] = Field(min_length=1)
    served_at: datetime | None = None

    @model_validator(mode="after")
    def _evidence_fits_method(self) -> ServiceRecord:
        kinds = {e.kind for e in self.evidence}
        if self.method is ServiceMethod.IN_PERSON and EvidenceKind.RECEIPT not in kinds:
            raise ValueError("service in person needs the signed receipt as evidence")
        if self.method is ServiceMethod.POSTING and not kinds & {EvidenceKind.PHOTO, EvidenceKind.VIDEO}:
            raise ValueError("service by posting needs a photo or a video of the posting")
        return self


class PaymentRecord(_Model):
    payment_id: str = Field(description="Unique per payment; a repeated id is refused.")
    amount: Decimal = Field(gt=0)
    recorded_by: str
    evidence: list[Evidence] = Field(default_factory=list)
    paid_at: datetime | None = None
    purpose: PaymentPurpose = Field(PaymentPurpose.WAGES, description="Wages, or the additional compensation.")


def compensation_amount(unpaid: Decimal, rate: Decimal) -> Decimal:
    """The additional compensation decided on refusal: the rate applied to what was unpaid, to the fen. The
    cases service states it in the decision; the case workflow counts its payments against it."""
    return (unpaid * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class HandoffResponse(_Model):
    department: str
    summary: str
    responded_by: str


class HandoffReturn(_Model):
    """A department sent the handoff back (退回): not its remit, too little to act on, or a duplicate. The
    case is then verified and classified anew, and may be handed off to another department."""

    department: str
    reason: str = Field(min_length=1, description="Why the department sent it back, as it said it.")
    returned_by: str


class DeadlineConfirmation(_Model):
    """An inspector confirms a provisional deadline's date (computed without the official calendar for its
    year), so that its expiry may have its legal consequences."""

    name: str = Field(min_length=1, max_length=100, description="The deadline, as the status query names it.")
    confirmed_by: str
    note: str | None = Field(None, max_length=500, description="How the date was confirmed.")


class FiguresConfirmation(_Model):
    """The inspector confirms the case's totals anew, after a complaint joined the verified case: the whole
    case's amount owed and workers, as verified. More than the order states brings an amended order."""

    confirmed_amount: Decimal = Field(ge=0, description="The whole case's wages owed, as verified now.")
    confirmed_workers: int = Field(ge=1, description="The whole case's workers owed wages, as verified now.")
    confirmed_by: str
    notes: str | None = Field(None, max_length=2000)


class CaseMergeRequest(_Model):
    """Merge this case's process into another case's: its complaints move to that case's workflow, and this one
    closes as merged. Only before verification (an order or a handoff is the case's own)."""

    into_case_id: str = Field(min_length=1, description="The surviving case process (its workflow's case id).")
    merged_by: str
    reason: str = Field(min_length=1, max_length=2000)


class ExtensionApproval(_Model):
    approved_by: str
    reason: str


class PoliceDecisionRecord(_Model):
    decision: PoliceDecision
    police_ref: str | None = None
    recorded_by: str


class ClosureRequest(_Model):
    reason: ClosureReason
    closed_by: str
    notes: str | None = None
