"""The sanctions service's events on `Topics.SANCTIONS`: the blacklist procedure, corrections, each listing's
state as its workflow reported it, and the quarterly publication of major violations. The feed for the credit
systems (`Topics.CREDIT_SHARING`) is in `credit_sharing_events.py`; the blacklist workflow's interface
(queue, messages, commands, status) in `sanctions_workflows.py`; joint interviews' events in
`interview_events.py`.

Every envelope's `subject` is the lifecycle case id (`case:<id>` without the prefix), so one case's listing
events stay in order on one partition (a quarter's list: its list id). Each event is one class
(`services/contracts/events.py`: `EventEnvelope.wrap` and `envelope.parse()`), all of them version 1; the
envelope's `event_id` is the deduplication key.

Payloads carry ids, codes, dates and amounts: the employer (a company) by name and credit code, its
responsible persons only as a masked name and a keyed reference (`person_ref`) — a credit system that
needs the full identity asks the authenticated, audited API. Never a worker's name, ID number or phone.
Pure: pydantic and the contracts' vocabulary, nothing done on import (workflow code imports it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.events import EventPayload, Topics
from services.contracts.lifecycle import ListingGround
from services.contracts.sanctions_workflows import (
    ListingSnapshot,
    NotListedReason,
    PersonRole,
    RemovalReason,
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SanctionsEvent(EventPayload):
    TOPIC: ClassVar[str] = Topics.SANCTIONS


class ListingProposed(SanctionsEvent):
    """A case workflow proposed to list the employer on the blacklist: the procedure starts."""

    TYPE: ClassVar[str] = "listing.proposed"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    county: str
    employer_ref: str
    ground: ListingGround
    amount: Decimal
    proposed_at: datetime


class NoticeIssued(SanctionsEvent):
    """The prior notice (事先告知书) was issued; the statement-and-defence period runs."""

    TYPE: ClassVar[str] = "listing.notice_issued"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    county: str
    document_id: str
    document_number: str
    defence_due_date: date
    sha256: str


class StatementRecorded(SanctionsEvent):
    """The employer's statement and defence (陈述申辩) was recorded."""

    TYPE: ClassVar[str] = "listing.statement_recorded"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    statement_id: str
    recorded_by: str


class StatementReviewed(SanctionsEvent):
    """The office reviewed the statement: list the employer or not."""

    TYPE: ClassVar[str] = "listing.statement_reviewed"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    review_id: str
    decided_by: str
    list_employer: bool


class ResponsiblePersonsRecorded(SanctionsEvent):
    """The employer's responsible persons were recorded (kept in the service; counted here)."""

    TYPE: ClassVar[str] = "listing.responsible_persons_recorded"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    count: int
    recorded_by: str


class CorrectionRecorded(SanctionsEvent):
    """Wages were paid after the refusal to pay (a correction): the listings and marks it concerns."""

    TYPE: ClassVar[str] = "correction.recorded"
    VERSION: ClassVar[int] = 1

    correction_id: str
    case_id: str
    county: str
    amount: Decimal
    listing_ids: list[str]
    mark_ids: list[str]


class ListingDecided(SanctionsEvent):
    """The decision to list (列入决定) or not to list."""

    TYPE: ClassVar[str] = "listing.decided"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    county: str
    listed: bool
    not_listed_reason: NotListedReason | None = None
    document_id: str | None = None
    document_number: str | None = None
    decided_at: datetime
    expires_on: date | None = None


class PublishedPerson(_Model):
    role: PersonRole
    name_masked: str
    person_ref: str


class ListingPublished(SanctionsEvent):
    """A listing was published: the employer is on the blacklist until it expires."""

    TYPE: ClassVar[str] = "listing.published"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    county: str
    employer_ref: str
    employer_name: str | None
    credit_code: str | None
    responsible_persons: list[PublishedPerson]
    ground: ListingGround
    decision_document_number: str
    published_at: datetime
    listed_on: date
    expires_on: date


class EarlyRemovalApplied(SanctionsEvent):
    """The employer applied for early removal (信用修复)."""

    TYPE: ClassVar[str] = "listing.early_removal_applied"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    application_id: str
    accepted: bool
    refusal_reasons: list[str] = Field(default_factory=list)


class EarlyRemovalDecided(SanctionsEvent):
    """The city office granted or refused early removal."""

    TYPE: ClassVar[str] = "listing.early_removal_decided"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    application_id: str
    granted: bool
    decided_by: str


class ListingRemoved(SanctionsEvent):
    """A listing was removed (移出): its period expired or its credit was repaired."""

    TYPE: ClassVar[str] = "listing.removed"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    county: str
    reason: RemovalReason
    removed_at: datetime
    application_id: str | None = None


class ListingStateReported(SanctionsEvent):
    """A listing's state as its blacklist workflow reported it (the record applies the highest seq)."""

    TYPE: ClassVar[str] = "listing.state_reported"
    VERSION: ClassVar[int] = 1

    listing_id: str
    case_id: str
    county: str
    seq: int
    at: datetime
    applied: bool = Field(description="False: an older report than the one the record holds (not applied).")
    changes: list[str] = Field(default_factory=list)
    snapshot: ListingSnapshot


class PublicationMarked(SanctionsEvent):
    """A case was marked for the quarterly publication of major violations."""

    TYPE: ClassVar[str] = "publication.marked"
    VERSION: ClassVar[int] = 1

    mark_id: str
    case_id: str
    county: str
    employer_ref: str
    amount: Decimal
    marked_at: datetime


class QuarterListDrafted(SanctionsEvent):
    """The quarter's list of major violations was drafted."""

    TYPE: ClassVar[str] = "publication.list_drafted"
    VERSION: ClassVar[int] = 1

    list_id: str
    quarter: str
    entries: int


class QuarterListPublished(SanctionsEvent):
    """The quarter's list of major violations was approved and published."""

    TYPE: ClassVar[str] = "publication.list_published"
    VERSION: ClassVar[int] = 1

    list_id: str
    quarter: str
    entries: int
    approved_by: str
    published_at: datetime
    pdf_document_id: str
    html_document_id: str


class SanctionsEvents:
    """Event type names on `Topics.SANCTIONS` (each the `TYPE` of its class)."""

    LISTING_PROPOSED = ListingProposed.TYPE
    NOTICE_ISSUED = NoticeIssued.TYPE
    STATEMENT_RECORDED = StatementRecorded.TYPE
    STATEMENT_REVIEWED = StatementReviewed.TYPE
    RESPONSIBLE_PERSONS_RECORDED = ResponsiblePersonsRecorded.TYPE
    CORRECTION_RECORDED = CorrectionRecorded.TYPE
    LISTING_DECIDED = ListingDecided.TYPE
    LISTING_PUBLISHED = ListingPublished.TYPE
    EARLY_REMOVAL_APPLIED = EarlyRemovalApplied.TYPE
    EARLY_REMOVAL_DECIDED = EarlyRemovalDecided.TYPE
    LISTING_REMOVED = ListingRemoved.TYPE
    PUBLICATION_MARKED = PublicationMarked.TYPE
    QUARTER_LIST_DRAFTED = QuarterListDrafted.TYPE
    QUARTER_LIST_PUBLISHED = QuarterListPublished.TYPE
    LISTING_STATE_REPORTED = ListingStateReported.TYPE
