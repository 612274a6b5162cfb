"""The events the cases service publishes on `Topics.CASES`: type names and versioned payload schemas.

Every event's envelope `subject` is the ledger case id (or, for complaint-level facts, the complaint id
whose case is named in the payload), so one case's events stay in order on one partition. Payloads carry
ids, codes, amounts and counts only: never a worker's name, ID number, phone or bank card. Inspectors are
named by their agency client id.

A consumer reads `EventEnvelope.payload` with the model of `(type, version)` in `PAYLOADS`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The process snapshot is defined with the reports that carry it; re-exported for the action events.
from services.contracts.process_reports import DeadlineView as DeadlineView
from services.contracts.process_reports import ProcessReported, ProcessSnapshot


class CaseEvents:
    """Event type names on `Topics.CASES` (all version 1)."""

    CASE_OPENED = "case.opened"  # a ledger case was created for a new employer + project
    NOTICE_RECORDED = "case.notice_recorded"  # a lifecycle notice to an office (reminder, overdue, warning)
    COMPLAINT_FORWARDED = "complaint.forwarded"  # forwarding letter to the competent office
    ORDER_ISSUED = "case.order_issued"  # 限期改正指令书
    COMPENSATION_DECIDED = "case.compensation_decided"  # 加付赔偿金 decision
    ACCEPTANCE_DECIDED = "complaint.acceptance_decided"
    VERIFICATION_RECORDED = "case.verification_recorded"
    SERVICE_RECORDED = "case.service_recorded"
    PAYMENT_RECORDED = "case.payment_recorded"
    EXTENSION_REQUESTED = "case.extension_requested"
    EXTENSION_APPROVED = "case.extension_approved"
    CLOSURE_RECORDED = "case.closure_recorded"
    CALLBACK_RECORDED = "complaint.callback_recorded"
    INSPECTOR_ASSIGNED = "case.inspector_assigned"
    PARTIES_RECORDED = "case.parties_recorded"  # general contractor, subcontractors, project owner
    MERGED = "case.merged"
    SPLIT = "case.split"
    REPORT_PRODUCED = "report.produced"
    PROCESS_REPORTED = "process.reported"  # a workflow's state changed (services/contracts/process_reports.py)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseOpened(_Payload):
    case_id: str
    county: str
    employer_ref: str
    employer_name: str
    employer_credit_code: str | None = None
    project_ref: str
    project_name: str
    opened_by_complaint: str


class NoticeRecorded(_Payload):
    notice_id: str
    workflow_id: str
    case_id: str | None
    complaint_id: str | None
    county: str
    office: str
    kind: str
    text: str
    due_at: datetime | None = None
    department: str | None = None


class ComplaintForwarded(_Payload):
    forwarding_id: str
    complaint_id: str
    case_id: str | None
    county: str
    forward_to: str
    note: str | None = None


class OrderIssued(_Payload):
    order_id: str
    case_id: str
    county: str
    employer_ref: str
    project_ref: str
    amount_owed: Decimal
    workers: int
    pay_days: int
    pay_unit: str


class CompensationDecided(_Payload):
    decision_id: str
    case_id: str
    county: str
    employer_ref: str
    unpaid_amount: Decimal
    rate: Decimal
    compensation_amount: Decimal


class ActionRecorded(_Payload):
    """Common part of every inspector action: who, on what, and the process right after it."""

    action_id: str
    case_id: str
    complaint_id: str | None = None
    process_case_id: str | None = Field(None, description="The case workflow acted on (`case:<id>`).")
    county: str
    actor: str
    process: ProcessSnapshot | None = None


class AcceptanceDecided(ActionRecorded):
    decision: str
    reason: str | None = None
    forward_to: str | None = None
    missing_items_count: int = 0


class VerificationRecorded(ActionRecorded):
    outcome: str
    classification: str
    department: str | None = None
    confirmed_amount: Decimal | None = None
    confirmed_workers: int | None = None


class EvidenceView(_Payload):
    kind: str
    ref: str


class ServiceRecorded(ActionRecorded):
    method: str
    evidence: list[EvidenceView]
    served_at: datetime | None = None


class PaymentRecorded(ActionRecorded):
    payment_id: str
    amount: Decimal
    paid_at: datetime | None = None
    evidence: list[EvidenceView] = Field(default_factory=list)


class ExtensionRequested(ActionRecorded):
    request_id: str
    reason: str


class ExtensionApproved(ActionRecorded):
    request_id: str
    reason: str


class ClosureRecorded(ActionRecorded):
    reason: str


class CallbackRecorded(ActionRecorded):
    satisfaction: str


class InspectorAssigned(ActionRecorded):
    inspector: str


class Party(_Payload):
    role: str = Field(description="general_contractor (总包), subcontractor (分包) or project_owner (建设单位).")
    name: str
    credit_code: str | None = None


class PartiesRecorded(ActionRecorded):
    contractors: list[Party]


class CaseMerged(_Payload):
    case_id: str = Field(description="The surviving case.")
    merged_case_id: str = Field(description="The case merged into it; its id is an alias from now on.")
    county: str
    actor: str
    reason: str


class CaseSplit(_Payload):
    case_id: str = Field(description="The case the complaints left.")
    new_case_id: str
    complaint_ids: list[str]
    county: str
    actor: str
    reason: str


class ReportProduced(_Payload):
    report_id: str
    kind: str
    period_start: date
    period_end: date
    totals: dict[str, Any]


PAYLOADS: dict[tuple[str, int], type[BaseModel]] = {
    (CaseEvents.CASE_OPENED, 1): CaseOpened,
    (CaseEvents.NOTICE_RECORDED, 1): NoticeRecorded,
    (CaseEvents.COMPLAINT_FORWARDED, 1): ComplaintForwarded,
    (CaseEvents.ORDER_ISSUED, 1): OrderIssued,
    (CaseEvents.COMPENSATION_DECIDED, 1): CompensationDecided,
    (CaseEvents.ACCEPTANCE_DECIDED, 1): AcceptanceDecided,
    (CaseEvents.VERIFICATION_RECORDED, 1): VerificationRecorded,
    (CaseEvents.SERVICE_RECORDED, 1): ServiceRecorded,
    (CaseEvents.PAYMENT_RECORDED, 1): PaymentRecorded,
    (CaseEvents.EXTENSION_REQUESTED, 1): ExtensionRequested,
    (CaseEvents.EXTENSION_APPROVED, 1): ExtensionApproved,
    (CaseEvents.CLOSURE_RECORDED, 1): ClosureRecorded,
    (CaseEvents.CALLBACK_RECORDED, 1): CallbackRecorded,
    (CaseEvents.INSPECTOR_ASSIGNED, 1): InspectorAssigned,
    (CaseEvents.PARTIES_RECORDED, 1): PartiesRecorded,
    (CaseEvents.MERGED, 1): CaseMerged,
    (CaseEvents.SPLIT, 1): CaseSplit,
    (CaseEvents.REPORT_PRODUCED, 1): ReportProduced,
    (CaseEvents.PROCESS_REPORTED, 1): ProcessReported,
}


def parse_payload(event_type: str, version: int, payload: dict[str, Any]) -> BaseModel | None:
    """The typed payload of a cases event, or None for a type this version does not know."""
    model = PAYLOADS.get((event_type, version))
    return model.model_validate(payload) if model else None
