"""`ComplaintState`: everything a complaint workflow keeps, and what a new run resumes from (continue-as-new)."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import Field

    from services.contracts.lifecycle import (
        AcceptanceDecision,
        CallbackRecord,
        CaseProgress,
        CaseStage,
        ClosureReason,
        ComplaintStage,
        Notification,
        Status,
        SupplementedInformation,
        Withdrawal,
    )
    from workflows.core import LifecycleState


class ComplaintState(LifecycleState):
    stage: ComplaintStage = ComplaintStage.AWAITING_ACCEPTANCE
    status: Status = Status.OPEN
    acceptance_round: int = 1
    # Receipt of the complaint, or of the supplemented material: the acceptance period counts from it.
    acceptance_start: datetime
    pending_decision: AcceptanceDecision | None = None
    accepted_at: datetime | None = None
    info_requested_at: datetime | None = None
    pending_supplement: SupplementedInformation | None = None
    pending_withdrawal: Withdrawal | None = None
    case_stage: CaseStage | None = None
    case_closure: CaseProgress | None = None
    closure_reason: ClosureReason | None = None
    closed_at: datetime | None = None
    callback: CallbackRecord | None = None
    # The case whose process this complaint follows after a merge moved it (otherwise the input's).
    moved_to: str | None = None
    outbox: list[Notification] = Field(default_factory=list)
