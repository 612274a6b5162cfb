"""The events the referrals service publishes on `Topics.REFERRALS`: type names and versioned payload schemas.

Every event's envelope `subject` is the case id the lifecycle uses (`case:<id>` without the prefix), so
one case's letters, handoffs and referrals stay in order on one partition; each payload names it again in
`case_id`. Payloads carry ids, codes, dates, amounts and counts only: free text a department or the police
write (reasons, summaries) stays in the referrals service, never a worker's name, ID number or phone.

A consumer reads `EventEnvelope.payload` with the model of `(type, version)` in `PAYLOADS`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ReferralEvents:
    """Event type names on `Topics.REFERRALS` (all version 1)."""

    LETTER_ISSUED = "letter.issued"  # any numbered letter or form, with its document number and hash
    HANDOFF_SENT = "handoff.sent"  # 交办 with its handoff letter
    HANDOFF_ESCALATED = "handoff.escalated"  # a ladder rung: reminder … accountability transfer
    HANDOFF_ACKNOWLEDGED = "handoff.acknowledged"
    HANDOFF_RESPONDED = "handoff.responded"
    HANDOFF_RETURNED = "handoff.returned"
    REFERRAL_MADE = "referral.made"  # police, procuratorate, arbitration, legal aid
    REFERRAL_DECIDED = "referral.decided"  # the receiving body's answer
    REFERRAL_WITHDRAWN = "referral.withdrawn"
    REFERRAL_ESCALATED = "referral.escalated"  # a fast-track referral unanswered by its deadline: a ladder rung
    # The department directory, published when the service starts with a configuration not published before
    # (subject `DIRECTORY_SUBJECT`), so other services check the departments a case names.
    DEPARTMENTS_CONFIGURED = "departments.configured"


DIRECTORY_SUBJECT = "departments"


class LetterType(StrEnum):
    """Every document the service issues. The first six are the lifecycle's `LetterKind` (what a case
    workflow may ask for), with the same names and values; the others only this service issues. The values
    are on the wire (events, API, stored rows): never rename one."""

    HANDOFF = "handoff"  # 交办函
    REMINDER = "reminder"  # 催办函
    SUPERVISION = "supervision"  # 督办函
    WARNING_LETTER = "warning_letter"  # 警示函
    ACCOUNTABILITY_RECOMMENDATION = "accountability_recommendation"  # 问责建议函
    ACCOUNTABILITY_TRANSFER = "accountability_transfer"  # 问责移交单
    ISSUE_TRANSFER = "issue_transfer"  # 问题移交单 (issued with the accountability transfer form)
    CRIMINAL_REFERRAL = "criminal_referral"  # 涉嫌犯罪案件移送书
    PROCURATORATE_REQUEST = "procuratorate_request"  # 商请提前介入函
    ARBITRATION_REFERRAL = "arbitration_referral"  # 仲裁速裁转办单
    LEGAL_AID_REFERRAL = "legal_aid_referral"  # 法律援助转介函


class ReferralKind(StrEnum):
    """Every body the service refers a case to: the lifecycle's `ReferralTarget` (same names and values) and
    legal aid, which only this service refers to. The values are on the wire: never rename one."""

    POLICE = "police"
    PROCURATORATE = "procuratorate"
    ARBITRATION = "arbitration"
    LEGAL_AID = "legal_aid"


class HandoffStatus(StrEnum):
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    RESPONDED = "responded"
    RETURNED = "returned"


class HandoffOutcome(StrEnum):
    """What a department reports back."""

    RESOLVED = "resolved"  # 问题已解决
    UNDER_HANDLING = "under_handling"  # 已立案处理，限期解决
    NO_VIOLATION = "no_violation"  # 经核查不存在所反映问题
    REFERRED_ONWARD = "referred_onward"  # 已移交其他有权机关


class ReturnReason(StrEnum):
    """Why a department sends a handoff back (退回)."""

    NOT_COMPETENT = "not_competent"  # 不属于本部门职责
    INSUFFICIENT_INFORMATION = "insufficient_information"  # 材料不全，无法办理
    DUPLICATE = "duplicate"  # 重复交办
    OTHER = "other"


class ReferralDecision(StrEnum):
    ACCEPTED = "accepted"  # police: 立案; procuratorate: 同意提前介入; arbitration/legal aid: 受理
    DECLINED = "declined"  # police: 不予立案; others: 不予受理


class DeclineReason(StrEnum):
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"
    BELOW_THRESHOLD = "below_threshold"
    PAID_BEFORE_CASE_OPENED = "paid_before_case_opened"
    NOT_COMPETENT = "not_competent"
    OTHER = "other"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LetterIssued(_Payload):
    letter_id: str
    document_number: str = Field(description="The bureau's number, e.g. 邯欠薪办交〔2026〕3号.")
    kind: LetterType
    case_id: str
    county: str
    addressee: str = Field(description="Department id (or police, procuratorate, arbitration, legal_aid).")
    handoff_id: str | None = None
    referral_id: str | None = None
    issued_at: datetime
    response_due_date: date | None = None
    sha256: str
    size_bytes: int


class HandoffSent(_Payload):
    handoff_id: str
    case_id: str
    county: str
    department: str
    letter_id: str
    due_date: date | None = None
    due_at: datetime | None = None


class HandoffEscalated(_Payload):
    """One rung of the overdue-handoff ladder: its record, its letter and this event."""

    handoff_id: str
    case_id: str
    county: str
    department: str
    kind: LetterType
    letter_id: str
    companion_letter_ids: list[str] = Field(default_factory=list)
    due_date: date | None = None


class HandoffAcknowledged(_Payload):
    handoff_id: str
    case_id: str
    county: str
    department: str
    acknowledged_by: str


class HandoffResponded(_Payload):
    handoff_id: str
    case_id: str
    county: str
    department: str
    outcome: HandoffOutcome
    files_count: int
    responded_by: str
    late: bool


class HandoffReturned(_Payload):
    handoff_id: str
    case_id: str
    county: str
    department: str
    reason: ReturnReason
    returned_by: str


class ReferralMade(_Payload):
    referral_id: str
    case_id: str
    county: str
    employer_ref: str
    target: ReferralKind
    letter_id: str
    document_number: str
    unpaid_amount: Decimal
    workers: int
    due_date: date | None = None
    due_at: datetime | None = None
    related_referral_id: str | None = None


class ReferralDecided(_Payload):
    referral_id: str
    case_id: str
    county: str
    target: ReferralKind
    decision: ReferralDecision
    decline_reason: DeclineReason | None = None
    decision_ref: str | None = Field(None, description="The receiving body's own number (立案决定书文号 …).")
    decided_by: str
    assigned: bool = Field(False, description="Legal aid: a lawyer was assigned.")
    late: bool = False


class ReferralWithdrawn(_Payload):
    referral_id: str
    case_id: str
    county: str
    target: ReferralKind


class ReferralEscalated(_Payload):
    referral_id: str
    case_id: str
    county: str
    target: ReferralKind
    kind: LetterType
    letter_id: str
    due_date: date | None = None


class DirectoryEntry(_Payload):
    id: str
    name: str
    kind: str = Field(description="industry_regulator, county_hrss, police, procuratorate, court, arbitration, legal_aid")
    county: str | None = None
    takes_handoffs: bool = Field(description="A verification may name it as the department a case is handed off to.")


class DepartmentsConfigured(_Payload):
    config_sha256: str
    departments: list[DirectoryEntry]


PAYLOADS: dict[tuple[str, int], type[BaseModel]] = {
    (ReferralEvents.LETTER_ISSUED, 1): LetterIssued,
    (ReferralEvents.HANDOFF_SENT, 1): HandoffSent,
    (ReferralEvents.HANDOFF_ESCALATED, 1): HandoffEscalated,
    (ReferralEvents.HANDOFF_ACKNOWLEDGED, 1): HandoffAcknowledged,
    (ReferralEvents.HANDOFF_RESPONDED, 1): HandoffResponded,
    (ReferralEvents.HANDOFF_RETURNED, 1): HandoffReturned,
    (ReferralEvents.REFERRAL_MADE, 1): ReferralMade,
    (ReferralEvents.REFERRAL_DECIDED, 1): ReferralDecided,
    (ReferralEvents.REFERRAL_WITHDRAWN, 1): ReferralWithdrawn,
    (ReferralEvents.REFERRAL_ESCALATED, 1): ReferralEscalated,
    (ReferralEvents.DEPARTMENTS_CONFIGURED, 1): DepartmentsConfigured,
}


def parse_payload(event_type: str, version: int, payload: dict[str, Any]) -> BaseModel | None:
    """The typed payload of a referrals event, or None for a type this version does not know."""
    model = PAYLOADS.get((event_type, version))
    return model.model_validate(payload) if model else None
