"""The case workflow's state: everything it knows, in one model a new run resumes from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field

    from services.contracts.case_payouts import CasePayout
    from services.contracts.lifecycle import (
        CaseMember,
        CaseMergeRequest,
        CaseProgress,
        CaseStage,
        Classification,
        ClosureReason,
        ClosureRequest,
        DepartmentTerms,
        ExtensionApproval,
        FiguresConfirmation,
        HandoffResponse,
        HandoffReturn,
        PaymentRecord,
        PoliceDecisionRecord,
        ReferralApproval,
        ReferralWithdrawal,
        ServiceRecord,
        Status,
        ThresholdAssessment,
        VerificationResult,
    )
    from workflows.core import LifecycleState


class ProgressDelivery(BaseModel):
    complaint_id: str
    progress: CaseProgress


class CaseState(LifecycleState):
    stage: CaseStage = CaseStage.VERIFICATION
    status: Status = Status.OPEN
    opened_at: datetime | None = None
    members: dict[str, CaseMember] = Field(default_factory=dict)
    left: dict[str, str] = Field(default_factory=dict)
    mass_incident: bool = False
    pending_verification: VerificationResult | None = None
    verification: VerificationResult | None = None
    classification: Classification | None = None
    handoff_response: HandoffResponse | None = None
    handoff_return: HandoffReturn | None = None
    # Raised each time a department sends the handoff back: the next handoff is a new round with its own
    # letters, deadlines and ladder (the earlier rounds stay in `letters`/`deadlines` as `name@round`).
    handoff_round: int = 1
    ladder_rung: int = 0
    # The current round's response days and ladder (the department's, or the workflow's own setting).
    handoff_terms: DepartmentTerms | None = None
    letters: dict[str, str] = Field(default_factory=dict)
    order_id: str | None = None
    order_issued_at: datetime | None = None
    # A case that grows after verification (workflows/case/growth.py): complaints counted at their claim until
    # the inspector confirms the totals anew, the confirmations, what the orders so far state, and the orders
    # amending the first (each a new round of service and payment before refusal; `name@round` keeps the old).
    late_members: list[str] = Field(default_factory=list)
    figures: FiguresConfirmation | None = None
    figures_confirmed: int = 0
    figures_applied: int = 0
    ordered_amount: Decimal | None = None
    ordered_workers: int | None = None
    amended_orders: list[str] = Field(default_factory=list)
    order_round: int = 1
    service: ServiceRecord | None = None
    served_at: datetime | None = None
    payments: list[PaymentRecord] = Field(default_factory=list)
    # When each payment counts as made (legal time): its `paid_at`, or when it was recorded.
    payment_dates: dict[str, datetime] = Field(default_factory=dict)
    refused_at: datetime | None = None
    payments_before_refusal: int | None = None
    threshold: ThresholdAssessment | None = None
    compensation_id: str | None = None
    compensation_amount: Decimal | None = None
    referrals: dict[str, str] = Field(default_factory=dict)
    referral_approval: ReferralApproval | None = None
    police_referral_withdrawn: bool = False
    referral_withdrawal: ReferralWithdrawal | None = None
    police_decision: PoliceDecisionRecord | None = None
    blacklist_id: str | None = None
    publication_id: str | None = None
    corrections_reported: list[str] = Field(default_factory=list)
    extension: ExtensionApproval | None = None
    investigation_overdue: bool = False
    closure_request: ClosureRequest | None = None
    # An inspector merged this case's process into another's before verification (workflows/case/merge.py).
    merge_request: CaseMergeRequest | None = None
    closure_reason: ClosureReason | None = None
    outbox: list[ProgressDelivery] = Field(default_factory=list)
    # Payouts from the project's wage deposit or the emergency fund the case asked for (guarantee_payout.py).
    payouts: list[CasePayout] = Field(default_factory=list)
