"""The events the referrals service publishes on `Topics.REFERRALS`: type names and versioned payload schemas.

Every event's envelope `subject` is the case id the lifecycle uses (`case:<id>` without the prefix), so
one case's letters, handoffs and referrals stay in order on one partition; each payload names it again in
`case_id`. The letters of the ladder against a project (`project_letter.issued`, `project_ladder.ended`) are
about a project, not a case: their subject is the project id of the monitoring service's register. Payloads
carry ids, codes, dates, amounts and counts only: free text a department or the police write (reasons,
summaries) stays in the referrals service, never a worker's name, ID number or phone.

Each event is one class (`services/contracts/events.py`: `EventEnvelope.wrap` and `envelope.parse()`); all
of them are version 1.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.events import EventPayload, Topics
from services.contracts.lifecycle.enums import LetterKind, ReferralKind
from services.contracts.monitoring_events import WarningCheck

# The envelope subject of `departments.configured`.
DIRECTORY_SUBJECT = "departments"


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


class ReferralsEvent(EventPayload):
    TOPIC: ClassVar[str] = Topics.REFERRALS


class _Model(BaseModel):
    """A part of an event (not an event itself)."""

    model_config = ConfigDict(extra="forbid")


class LetterIssued(ReferralsEvent):
    """A numbered letter or form was issued, with its document number and hash."""

    TYPE: ClassVar[str] = "letter.issued"
    VERSION: ClassVar[int] = 1

    letter_id: str
    document_number: str = Field(description="The bureau's number, e.g. 邯欠薪办交〔2026〕3号.")
    kind: LetterKind
    case_id: str
    county: str
    addressee: str = Field(description="Department id (or police, procuratorate, arbitration, legal_aid).")
    handoff_id: str | None = None
    referral_id: str | None = None
    issued_at: datetime
    response_due_date: date | None = None
    sha256: str
    size_bytes: int


class HandoffSent(ReferralsEvent):
    """A case was handed off (交办) to a department, with its handoff letter."""

    TYPE: ClassVar[str] = "handoff.sent"
    VERSION: ClassVar[int] = 1

    handoff_id: str
    case_id: str
    county: str
    department: str
    letter_id: str
    due_date: date | None = None
    due_at: datetime | None = None


class HandoffEscalated(ReferralsEvent):
    """One rung of the overdue-handoff ladder: its record, its letter and this event."""

    TYPE: ClassVar[str] = "handoff.escalated"
    VERSION: ClassVar[int] = 1

    handoff_id: str
    case_id: str
    county: str
    department: str
    kind: LetterKind
    letter_id: str
    companion_letter_ids: list[str] = Field(default_factory=list)
    due_date: date | None = None


class HandoffAcknowledged(ReferralsEvent):
    """The department acknowledged a handoff."""

    TYPE: ClassVar[str] = "handoff.acknowledged"
    VERSION: ClassVar[int] = 1

    handoff_id: str
    case_id: str
    county: str
    department: str
    acknowledged_by: str


class HandoffResponded(ReferralsEvent):
    """The department answered a handoff with its outcome."""

    TYPE: ClassVar[str] = "handoff.responded"
    VERSION: ClassVar[int] = 1

    handoff_id: str
    case_id: str
    county: str
    department: str
    outcome: HandoffOutcome
    files_count: int
    responded_by: str
    late: bool


class HandoffReturned(ReferralsEvent):
    """The department sent a handoff back (退回), saying why."""

    TYPE: ClassVar[str] = "handoff.returned"
    VERSION: ClassVar[int] = 1

    handoff_id: str
    case_id: str
    county: str
    department: str
    reason: ReturnReason
    returned_by: str


class ReferralMade(ReferralsEvent):
    """A case was referred to the police, the procuratorate, arbitration or legal aid."""

    TYPE: ClassVar[str] = "referral.made"
    VERSION: ClassVar[int] = 1

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


class ReferralDecided(ReferralsEvent):
    """The body a case was referred to answered: accepted or declined."""

    TYPE: ClassVar[str] = "referral.decided"
    VERSION: ClassVar[int] = 1

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
    # Arbitration accepted: the award is due by this day (劳动争议调解仲裁法 art. 43, 45 days from acceptance).
    award_due_date: date | None = None
    award_due_at: datetime | None = None


class ReferralWithdrawn(ReferralsEvent):
    """A referral was withdrawn."""

    TYPE: ClassVar[str] = "referral.withdrawn"
    VERSION: ClassVar[int] = 1

    referral_id: str
    case_id: str
    county: str
    target: ReferralKind


class ReferralEscalated(ReferralsEvent):
    """A fast-track referral was unanswered by its deadline: a rung of its ladder."""

    TYPE: ClassVar[str] = "referral.escalated"
    VERSION: ClassVar[int] = 1

    referral_id: str
    case_id: str
    county: str
    target: ReferralKind
    kind: LetterKind
    letter_id: str
    due_date: date | None = None


class ReferralSupplemented(ReferralsEvent):
    """Wages were paid after a criminal referral: the receiving body was sent a supplementary notice
    (补充材料函) with the payment's evidence."""

    TYPE: ClassVar[str] = "referral.supplemented"
    VERSION: ClassVar[int] = 1

    referral_id: str
    case_id: str
    county: str
    target: ReferralKind
    letter_id: str
    amount_paid: Decimal


class ReferralAwardExtended(ReferralsEvent):
    """The arbitration body extended its award limit (劳动争议调解仲裁法 art. 43: once, by at most 15 days, with
    the chair's approval)."""

    TYPE: ClassVar[str] = "referral.award_extended"
    VERSION: ClassVar[int] = 1

    referral_id: str
    case_id: str
    county: str
    target: ReferralKind
    extension_days: int
    award_due_date: date
    award_due_at: datetime
    recorded_by: str


class ReferralAwardMade(ReferralsEvent):
    """The arbitration body made its award (or closed the case by a mediation agreement)."""

    TYPE: ClassVar[str] = "referral.award_made"
    VERSION: ClassVar[int] = 1

    referral_id: str
    case_id: str
    county: str
    target: ReferralKind
    awarded_on: date
    award_due_date: date | None = None
    late: bool = Field(False, description="Made after the award limit (art. 43).")
    recorded_by: str


class ReferralDeadlineRecomputed(ReferralsEvent):
    """A referral's pending deadline was counted again on a calendar entered since (`anxin calendar load`). The
    stated date is kept when the new count is earlier: the receiving body was told that date."""

    TYPE: ClassVar[str] = "referral.deadline_recomputed"
    VERSION: ClassVar[int] = 1

    referral_id: str
    case_id: str
    county: str
    target: ReferralKind
    deadline: str = Field(description="answer (the body's answer to the referral) or award (arbitration's award)")
    due_date: date
    due_at: datetime


class ProjectLetterRecipient(StrEnum):
    """Whom a letter of the ladder against a project is addressed to."""

    GENERAL_CONTRACTOR = "general_contractor"  # 施工总承包单位
    DEPARTMENT = "department"  # the project's industry department (行业主管部门)
    ESCALATION = "escalation"  # a body of the bureau's escalation (纪委监委 …)


class ProjectLadderEnd(StrEnum):
    LAST_RUNG = "last_rung"  # its last letter was issued
    WARNINGS_RESOLVED = "warnings_resolved"  # every warning of its check was resolved first


class _ProjectLadderEvent(ReferralsEvent):
    ladder_id: str = Field(description="`project-letters:<project id>:<check>:<first month>`, its workflow id.")
    project_id: str
    county: str
    department: str | None = Field(None, description="The project's industry department (its id in the directory).")
    check: WarningCheck


class ProjectLetterIssued(_ProjectLadderEvent):
    """A letter of the ladder against a project (四函两单): an early warning of its check stayed open."""

    TYPE: ClassVar[str] = "project_letter.issued"
    VERSION: ClassVar[int] = 1

    kind: LetterKind
    recipient: ProjectLetterRecipient
    letter_id: str
    document_number: str
    issued_at: datetime
    response_due_date: date | None = None
    sha256: str
    size_bytes: int


class ProjectLadderEnded(_ProjectLadderEvent):
    """The ladder against a project ended: its last letter issued, or every warning of its check resolved."""

    TYPE: ClassVar[str] = "project_ladder.ended"
    VERSION: ClassVar[int] = 1

    reason: ProjectLadderEnd
    letters: int = Field(description="The letters it issued.")
    last_kind: LetterKind | None = None


class DirectoryEntry(_Model):
    id: str
    name: str
    kind: str = Field(
        description="industry_regulator, county_hrss, police, procuratorate, court, arbitration, legal_aid"
    )
    county: str | None = None
    takes_handoffs: bool = Field(description="A verification may name it as the department a case is handed off to.")


class DepartmentsConfigured(ReferralsEvent):
    """The department directory, published when the service starts with a configuration not published before
    (subject `departments`), so other services check the departments a case names."""

    TYPE: ClassVar[str] = "departments.configured"
    VERSION: ClassVar[int] = 1

    config_sha256: str
    departments: list[DirectoryEntry]


class ReferralEvents:
    """Event type names on `Topics.REFERRALS` (each the `TYPE` of its class)."""

    LETTER_ISSUED = LetterIssued.TYPE
    HANDOFF_SENT = HandoffSent.TYPE
    HANDOFF_ESCALATED = HandoffEscalated.TYPE
    HANDOFF_ACKNOWLEDGED = HandoffAcknowledged.TYPE
    HANDOFF_RESPONDED = HandoffResponded.TYPE
    HANDOFF_RETURNED = HandoffReturned.TYPE
    REFERRAL_MADE = ReferralMade.TYPE
    REFERRAL_DECIDED = ReferralDecided.TYPE
    REFERRAL_WITHDRAWN = ReferralWithdrawn.TYPE
    REFERRAL_ESCALATED = ReferralEscalated.TYPE
    REFERRAL_SUPPLEMENTED = ReferralSupplemented.TYPE
    REFERRAL_AWARD_EXTENDED = ReferralAwardExtended.TYPE
    REFERRAL_AWARD_MADE = ReferralAwardMade.TYPE
    REFERRAL_DEADLINE_RECOMPUTED = ReferralDeadlineRecomputed.TYPE
    DEPARTMENTS_CONFIGURED = DepartmentsConfigured.TYPE
    PROJECT_LETTER_ISSUED = ProjectLetterIssued.TYPE
    PROJECT_LADDER_ENDED = ProjectLadderEnded.TYPE
