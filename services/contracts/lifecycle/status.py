"""The timeline, and what the workflows answer to the status query (with the deadlines of `deadlines.py`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from services.contracts.lifecycle._model import _Model
from services.contracts.lifecycle.case_origin import CaseOrigin
from services.contracts.lifecycle.deadlines import Deadline
from services.contracts.lifecycle.enums import (
    AcceptanceDecisionKind,
    CaseStage,
    Classification,
    ClosureReason,
    ComplaintStage,
    PoliceDecision,
    RejectionReason,
    Satisfaction,
    Status,
    VerificationOutcome,
)
from services.contracts.lifecycle.referral_approval import ReferralApproval, ReferralWithdrawal
from services.contracts.owed_period import VIOLATION_LIMIT_YEARS, violation_limit_basis

# ---------------------------------------------------------------------------------------------------------
# The timeline
# ---------------------------------------------------------------------------------------------------------


class TimelineEntry(_Model):
    at: datetime = Field(description="Legal instant of the event (on a compressed clock: the legal date).")
    kind: str
    text: str = Field(description="Plain-language description (Chinese), with identifiers only.")


# ---------------------------------------------------------------------------------------------------------
# A step parked by its service's refusal
# ---------------------------------------------------------------------------------------------------------


class ParkedStep(_Model):
    """A step a service refused for good (`ServiceRefused`, a 4xx other than 409): the process does not fail
    but waits for an operator to fix the cause and send `retry_refused_step` (`anxin case retry`). Shown in
    the `status` query, the reports to the ledger and the case API, so a parked process is never silent."""

    step: str = Field(description="The refused step: the activity's stable name (e.g. cases.issue_order_to_pay).")
    message: str = Field(description="The service's reason, as it gave it.")
    since: datetime | None = Field(None, description="The legal instant the step was refused.")

    def text(self) -> str:
        return f"{self.step}: {self.message}"


def parked_step(stuck: str | None, timeline: list[TimelineEntry]) -> ParkedStep | None:
    """The parked step of a workflow's state: its `stuck` note (`<activity>: <message>`, as workflows have kept
    it from the start, so histories recorded before this view answer too) and the time of the last refusal."""
    if stuck is None:
        return None
    step, _, message = stuck.partition(": ")
    since = next((e.at for e in reversed(timeline) if e.kind == "step.refused"), None)
    return ParkedStep(step=step, message=message, since=since)


# ---------------------------------------------------------------------------------------------------------
# What the process suggests an inspector decide
# ---------------------------------------------------------------------------------------------------------


class SuggestedDecision(_Model):
    """A decision the process suggests; the inspector still makes it (and writes the explanation)."""

    decision: AcceptanceDecisionKind
    reason: RejectionReason | None = Field(None, description="For a rejection: the reason to give.")
    basis: str = Field(description="Why, in Chinese, with the dates and the provision it rests on.")


def acceptance_suggestion(
    stage: str, past_limit: bool, owed_until: date | None, years: int = VIOLATION_LIMIT_YEARS
) -> SuggestedDecision | None:
    """While a complaint awaits acceptance and came after the violation limit: reject it as too old
    (`services/contracts/owed_period.py`). The workflow's `status` query and the ledger both show this."""
    if stage != ComplaintStage.AWAITING_ACCEPTANCE or not past_limit:
        return None
    return SuggestedDecision(
        decision=AcceptanceDecisionKind.REJECT,
        reason=RejectionReason.VIOLATION_TOO_OLD,
        basis=violation_limit_basis(owed_until, years),
    )


# ---------------------------------------------------------------------------------------------------------
# Query results
# ---------------------------------------------------------------------------------------------------------


class ComplaintStatus(_Model):
    complaint_id: str
    case_id: str
    county: str
    stage: ComplaintStage
    status: Status
    overdue: bool
    deadlines: dict[str, Deadline]
    next_deadline: datetime | None
    case_stage: CaseStage | None
    closure_reason: ClosureReason | None
    satisfaction: Satisfaction | None
    timeline: list[TimelineEntry]
    past_violation_limit: bool = Field(
        False, description="The owed period ended more than the violation limit (2 years) before receipt."
    )
    suggested_decision: SuggestedDecision | None = Field(
        None, description="While awaiting acceptance: the decision the process suggests (e.g. reject as too old)."
    )
    parked: ParkedStep | None = Field(
        None, description="A step its service refused for good, waiting for an operator's retry (None: nothing parked)."
    )


class ThresholdAssessment(_Model):
    reached: bool
    basis: str
    outstanding: Decimal
    workers: int


class CaseStatus(_Model):
    case_id: str
    county: str
    stage: CaseStage
    status: Status
    classification: Classification | None
    outcome: VerificationOutcome | None
    members: list[str]
    workers: int
    amount_owed: Decimal
    amount_paid: Decimal
    outstanding: Decimal
    deadlines: dict[str, Deadline]
    next_deadline: datetime | None
    investigation_overdue: bool
    extension_approved: bool
    overdue: bool = Field(False, description="services/contracts/process_reports.py `is_overdue`.")
    letters: dict[str, str] = Field(description="Letter kind -> document id, in the order issued.")
    order_id: str | None
    amended_orders: list[str] = Field(
        default_factory=list, description="Orders amending the first, in order: the case grew after verification."
    )
    unconfirmed_members: list[str] = Field(
        default_factory=list,
        description="Complaints that joined after verification, counted at what they claim until the inspector"
        " confirms the case's totals anew.",
    )
    served: bool
    threshold: ThresholdAssessment | None
    compensation_decision_id: str | None
    compensation_amount: Decimal | None = Field(None, description="The additional compensation decided on refusal.")
    compensation_paid: Decimal = Field(Decimal(0), description="Payments recorded against the compensation.")
    referrals: dict[str, str] = Field(description="Referral target -> referral id.")
    referral_approval: ReferralApproval | None = Field(
        None, description="A criminal referral awaiting its report or the bureau head's decision, or decided."
    )
    police_referral_withdrawn: bool
    referral_withdrawal: ReferralWithdrawal | None = Field(
        None, description="A proposed withdrawal of the police referral (wages and compensation paid) and its decision."
    )
    police_decision: PoliceDecision | None
    blacklist_procedure_id: str | None
    publication_id: str | None
    closure_reason: ClosureReason | None
    timeline: list[TimelineEntry]
    parked: ParkedStep | None = Field(
        None, description="A step its service refused for good, waiting for an operator's retry (None: nothing parked)."
    )
    origin: CaseOrigin | None = Field(None, description="An early-warning case's origin; None: opened by a complaint.")
