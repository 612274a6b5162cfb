"""The events the cases service publishes on `Topics.CASES`: type names and versioned payload schemas.

Every event's envelope `subject` is the ledger case id (or, for complaint-level facts, the complaint id
whose case is named in the payload), so one case's events stay in order on one partition. Payloads carry
ids, codes, amounts and counts only: never a worker's name, ID number, phone or bank card. Inspectors are
named by their agency client id. The free text inspectors and bureau heads type (forwarding notes, the
reasons of extensions, referral decisions, merges and splits, notes on confirmed deadlines and figures) is
`AgencyText`: the service keeps it by the event's id (`event_texts`) and never publishes it; the `reason` of
an acceptance decision or a closure is a code of the lifecycle's vocabulary, not text.

Each event is one class (`services/contracts/events.py`: `EventEnvelope.wrap` and `envelope.parse()`); all
of them are version 1. One module per family of events:

- this one: a case opened, the lifecycle's requests (notices, forwardings, orders to pay, compensation
  decisions), the inspectors' actions along the case's path (acceptance, verification, service, payment,
  closure, call-back; `ActionRecorded` is what every action event shares) and the workflows' reports of their
  own state (`process.reported`, carrying the snapshot defined with the reports,
  `services/contracts/process_reports.py`);
- `case_decision_events.py`: the requests that wait on a second person and the confirmations of a date or of
  totals (the extension, the criminal referral's report and approval, its withdrawal, a provisional
  deadline's date, the case's totals anew);
- `case_ledger_events.py`: what only the ledger keeps (the inspector assigned, the parties), merges and
  splits, and the periodic reports;
- `case_warning_events.py`: early-warning cases (opened on a project's warning, warnings recorded against them,
  complaints and processes joining them);
- `case_payout_events.py`: a refused case's workers paid from the wage deposit or the emergency fund.

Importing this module imports the other families too (`FAMILIES`, at its end), so a consumer of the topic that
reads it knows every event on the topic.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

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
    """Event type names of this module on `Topics.CASES` (each the `TYPE` of its class); the other families' are
    `CaseDecisionEvents` and `CaseLedgerEvents`."""

    CASE_OPENED = CaseOpened.TYPE
    NOTICE_RECORDED = NoticeRecorded.TYPE
    COMPLAINT_FORWARDED = ComplaintForwarded.TYPE
    ORDER_ISSUED = OrderIssued.TYPE
    COMPENSATION_DECIDED = CompensationDecided.TYPE
    ACCEPTANCE_DECIDED = AcceptanceDecided.TYPE
    VERIFICATION_RECORDED = VerificationRecorded.TYPE
    SERVICE_RECORDED = ServiceRecorded.TYPE
    PAYMENT_RECORDED = PaymentRecorded.TYPE
    CLOSURE_RECORDED = ClosureRecorded.TYPE
    CALLBACK_RECORDED = CallbackRecorded.TYPE
    PROCESS_REPORTED = ProcessReported.TYPE


# Every family of this topic's events is registered with this module (`services/contracts/events.py` registers a
# class when it is defined): a consumer of the topic that imports only this module — the referrals service's
# case facts — knows every event on it, and sets none aside as unknown. Imported last, as each family extends
# the classes above.
from services.contracts import (  # noqa: E402
    case_decision_events,
    case_ledger_events,
    case_payout_events,
    case_warning_events,
)

FAMILIES = (case_decision_events, case_ledger_events, case_payout_events, case_warning_events)
