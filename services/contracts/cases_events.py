"""The events the cases service publishes on `Topics.CASES`: type names and versioned payload schemas.

Every event's envelope `subject` is the ledger case id (or, for complaint-level facts, the complaint id
whose case is named in the payload), so one case's events stay in order on one partition. Payloads carry
ids, codes, amounts and counts only: never a worker's name, ID number, phone or bank card. Inspectors are
named by their agency client id. The free text inspectors and bureau heads type (forwarding notes, the
reasons of extensions, referral decisions, merges and splits, notes on confirmed deadlines and figures) is
`AgencyText`: the service keeps it by the event's id (`event_texts`) and never publishes it; the `reason` of
an acceptance decision or a closure is a code of the lifecycle's vocabulary, not text.

Each event is one class (`services/contracts/events.py`: `EventEnvelope.wrap` and `envelope.parse()`); all
of them are version 1. `process.reported` carries the snapshot defined with the reports
(`services/contracts/process_reports.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.events import AgencyText, EventPayload, Topics

# The process snapshot is defined with the reports that carry it; re-exported for the action events.
from services.contracts.process_reports import DeadlineView as DeadlineView
from services.contracts.process_reports import ProcessSnapshot


class CasesEvent(EventPayload):
    TOPIC: ClassVar[str] = Topics.CASES


class _Model(BaseModel):
    """A part of an event (not an event itself)."""

    model_config = ConfigDict(extra="forbid")


class CaseOpened(CasesEvent):
    """A ledger case was created for a new employer and project."""

    TYPE: ClassVar[str] = "case.opened"
    VERSION: ClassVar[int] = 1

    case_id: str
    county: str
    employer_ref: str
    employer_name: str
    employer_credit_code: str | None = None
    project_ref: str
    project_name: str
    opened_by_complaint: str


class NoticeRecorded(CasesEvent):
    """A lifecycle notice to an office (reminder, overdue, warning)."""

    TYPE: ClassVar[str] = "case.notice_recorded"
    VERSION: ClassVar[int] = 1

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


class ComplaintForwarded(CasesEvent):
    """A forwarding letter sent a complaint to the competent office."""

    TYPE: ClassVar[str] = "complaint.forwarded"
    VERSION: ClassVar[int] = 1

    forwarding_id: str
    complaint_id: str
    case_id: str | None
    county: str
    forward_to: str
    note: AgencyText = None


class OrderIssued(CasesEvent):
    """An order to pay within a time limit (限期改正指令书) was issued."""

    TYPE: ClassVar[str] = "case.order_issued"
    VERSION: ClassVar[int] = 1

    order_id: str
    case_id: str
    county: str
    employer_ref: str
    project_ref: str
    amount_owed: Decimal
    workers: int
    pay_days: int
    pay_unit: str
    amends: str | None = Field(None, description="An amended order: the order it amends (the case grew).")
    added_amount: Decimal | None = None


class CompensationDecided(CasesEvent):
    """A decision to pay additional compensation (加付赔偿金)."""

    TYPE: ClassVar[str] = "case.compensation_decided"
    VERSION: ClassVar[int] = 1

    decision_id: str
    case_id: str
    county: str
    employer_ref: str
    unpaid_amount: Decimal
    rate: Decimal
    compensation_amount: Decimal


class ActionRecorded(CasesEvent):
    """Common part of every inspector action: who, on what, and the process right after it."""

    action_id: str
    case_id: str
    complaint_id: str | None = None
    process_case_id: str | None = Field(None, description="The case workflow acted on (`case:<id>`).")
    county: str
    actor: str
    process: ProcessSnapshot | None = None


class AcceptanceDecided(ActionRecorded):
    """An inspector decided whether a complaint is accepted."""

    TYPE: ClassVar[str] = "complaint.acceptance_decided"
    VERSION: ClassVar[int] = 1

    decision: str
    reason: str | None = None
    forward_to: str | None = None
    missing_items_count: int = 0


class VerificationRecorded(ActionRecorded):
    """An inspector recorded the verification's outcome (核实结论)."""

    TYPE: ClassVar[str] = "case.verification_recorded"
    VERSION: ClassVar[int] = 1

    outcome: str
    classification: str
    department: str | None = None
    confirmed_amount: Decimal | None = None
    confirmed_workers: int | None = None


class EvidenceView(_Model):
    kind: str
    ref: str


class ServiceRecorded(ActionRecorded):
    """The order to pay was served on the employer, with its proof."""

    TYPE: ClassVar[str] = "case.service_recorded"
    VERSION: ClassVar[int] = 1

    method: str
    evidence: list[EvidenceView]
    served_at: datetime | None = None


class PaymentRecorded(ActionRecorded):
    """A payment was recorded: of wages, or of the additional compensation."""

    TYPE: ClassVar[str] = "case.payment_recorded"
    VERSION: ClassVar[int] = 1

    payment_id: str
    amount: Decimal
    paid_at: datetime | None = None
    evidence: list[EvidenceView] = Field(default_factory=list)
    purpose: str = Field("wages", description="wages, or compensation (the additional compensation decided).")


class ExtensionRequested(ActionRecorded):
    """An extension of the investigation period was requested."""

    TYPE: ClassVar[str] = "case.extension_requested"
    VERSION: ClassVar[int] = 1

    request_id: str
    reason: AgencyText = None


class ExtensionApproved(ActionRecorded):
    """An extension of the investigation period was approved."""

    TYPE: ClassVar[str] = "case.extension_approved"
    VERSION: ClassVar[int] = 1

    request_id: str
    reason: AgencyText = None


class ExtensionRefused(ActionRecorded):
    """The city office refused a pending extension request: the investigation limit stands, and the county may
    ask again while it has not passed."""

    TYPE: ClassVar[str] = "case.extension_refused"
    VERSION: ClassVar[int] = 1

    request_id: str
    reason: AgencyText = None


class ReferralReportSubmitted(ActionRecorded):
    """The case team submitted its criminal referral report for the bureau head's approval."""

    TYPE: ClassVar[str] = "case.referral_report_submitted"
    VERSION: ClassVar[int] = 1

    team: list[str]
    subjective_element: str = Field(description="transferred_assets, absconded or able_but_refused.")
    evidence: list[EvidenceView] = Field(default_factory=list)
    # Added later (events recorded before it read as without): what the bureau head reads before deciding.
    facts: str = Field("", description="The facts of the suspected offence, as the case team wrote them.")


class ReferralApprovalDecided(ActionRecorded):
    """The bureau head approved the criminal referral, or refused it with the reason."""

    TYPE: ClassVar[str] = "case.referral_approval_decided"
    VERSION: ClassVar[int] = 1

    approved: bool
    reason: AgencyText = None


class ReferralWithdrawalProposed(ActionRecorded):
    """An inspector proposed to withdraw the police referral: the wages and the additional compensation are
    both paid, and the police have not decided."""

    TYPE: ClassVar[str] = "case.referral_withdrawal_proposed"
    VERSION: ClassVar[int] = 1

    reason: AgencyText = None


class ReferralWithdrawalDecided(ActionRecorded):
    """The bureau head approved the proposed withdrawal of the police referral, or refused it with the reason."""

    TYPE: ClassVar[str] = "case.referral_withdrawal_decided"
    VERSION: ClassVar[int] = 1

    approved: bool
    reason: AgencyText = None


class DeadlineConfirmed(ActionRecorded):
    """An inspector confirmed the date of a provisional deadline (one computed without the official calendar
    for its year), so that its expiry may have its legal consequences."""

    TYPE: ClassVar[str] = "case.deadline_confirmed"
    VERSION: ClassVar[int] = 1

    deadline: str
    note: AgencyText = None


class FiguresConfirmed(ActionRecorded):
    """The inspector confirmed the case's totals anew after a complaint joined the verified case."""

    TYPE: ClassVar[str] = "case.figures_confirmed"
    VERSION: ClassVar[int] = 1

    confirmed_amount: Decimal
    confirmed_workers: int
    notes: AgencyText = None


class ClosureRecorded(ActionRecorded):
    """A case was closed."""

    TYPE: ClassVar[str] = "case.closure_recorded"
    VERSION: ClassVar[int] = 1

    reason: str


class CallbackRecorded(ActionRecorded):
    """The complainant was called back (回访) and said how satisfied they are."""

    TYPE: ClassVar[str] = "complaint.callback_recorded"
    VERSION: ClassVar[int] = 1

    satisfaction: str


class InspectorAssigned(ActionRecorded):
    """An inspector was assigned to the case."""

    TYPE: ClassVar[str] = "case.inspector_assigned"
    VERSION: ClassVar[int] = 1

    inspector: str


class Party(_Model):
    role: str = Field(description="general_contractor (总包), subcontractor (分包) or project_owner (建设单位).")
    name: str
    credit_code: str | None = None


class PartiesRecorded(ActionRecorded):
    """The general contractor, subcontractors and project owner were recorded."""

    TYPE: ClassVar[str] = "case.parties_recorded"
    VERSION: ClassVar[int] = 1

    contractors: list[Party]


class CaseMerged(CasesEvent):
    """An inspector merged two cases: the second one's complaints and records belong to the first from now on."""

    TYPE: ClassVar[str] = "case.merged"
    VERSION: ClassVar[int] = 1

    case_id: str = Field(description="The surviving case.")
    merged_case_id: str = Field(description="The case merged into it; its id is an alias from now on.")
    county: str
    actor: str
    reason: AgencyText = None
    processes_merged: list[str] = Field(
        default_factory=list,
        description="The merged case's processes whose complaints moved into `into_process_case_id` (not yet"
        " verified); the others stay beside it under the one ledger case.",
    )
    into_process_case_id: str | None = None


class CaseSplit(CasesEvent):
    """An inspector split complaints off a case into a new case."""

    TYPE: ClassVar[str] = "case.split"
    VERSION: ClassVar[int] = 1

    case_id: str = Field(description="The case the complaints left.")
    new_case_id: str
    complaint_ids: list[str]
    county: str
    actor: str
    reason: AgencyText = None


class ReportProduced(CasesEvent):
    """A periodic report on complaints and cases was produced."""

    TYPE: ClassVar[str] = "report.produced"
    VERSION: ClassVar[int] = 1

    report_id: str
    kind: str
    period_start: date
    period_end: date
    totals: dict[str, Any]


class ProcessReported(CasesEvent):
    """A workflow's state as it reported it (`services/contracts/process_reports.py`); the ledger applies the
    highest `seq` of each workflow."""

    TYPE: ClassVar[str] = "process.reported"
    VERSION: ClassVar[int] = 1

    report_id: str
    workflow_id: str
    kind: Literal["complaint", "case"]
    complaint_id: str | None = None
    process_case_id: str | None = None
    county: str | None = None
    seq: int
    at: datetime
    changes: list[str] = Field(default_factory=list)
    snapshot: ProcessSnapshot


class CaseEvents:
    """Event type names on `Topics.CASES` (each the `TYPE` of its class)."""

    CASE_OPENED = CaseOpened.TYPE
    NOTICE_RECORDED = NoticeRecorded.TYPE
    COMPLAINT_FORWARDED = ComplaintForwarded.TYPE
    ORDER_ISSUED = OrderIssued.TYPE
    COMPENSATION_DECIDED = CompensationDecided.TYPE
    ACCEPTANCE_DECIDED = AcceptanceDecided.TYPE
    VERIFICATION_RECORDED = VerificationRecorded.TYPE
    SERVICE_RECORDED = ServiceRecorded.TYPE
    PAYMENT_RECORDED = PaymentRecorded.TYPE
    EXTENSION_REQUESTED = ExtensionRequested.TYPE
    EXTENSION_APPROVED = ExtensionApproved.TYPE
    EXTENSION_REFUSED = ExtensionRefused.TYPE
    REFERRAL_REPORT_SUBMITTED = ReferralReportSubmitted.TYPE
    REFERRAL_APPROVAL_DECIDED = ReferralApprovalDecided.TYPE
    DEADLINE_CONFIRMED = DeadlineConfirmed.TYPE
    REFERRAL_WITHDRAWAL_PROPOSED = ReferralWithdrawalProposed.TYPE
    REFERRAL_WITHDRAWAL_DECIDED = ReferralWithdrawalDecided.TYPE
    FIGURES_CONFIRMED = FiguresConfirmed.TYPE
    CLOSURE_RECORDED = ClosureRecorded.TYPE
    CALLBACK_RECORDED = CallbackRecorded.TYPE
    INSPECTOR_ASSIGNED = InspectorAssigned.TYPE
    PARTIES_RECORDED = PartiesRecorded.TYPE
    MERGED = CaseMerged.TYPE
    SPLIT = CaseSplit.TYPE
    REPORT_PRODUCED = ReportProduced.TYPE
    PROCESS_REPORTED = ProcessReported.TYPE
