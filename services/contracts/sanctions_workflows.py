"""The sanctions service's workflows' contract: the blacklist procedure and the quarterly list.

The blacklist workflow (`services/sanctions/blacklist.py`) runs one execution per proposed listing, id
`listing:<listing_id>`, on task queue `anxin-sanctions`, hosted by the `sanctions-worker` process; the
quarterly list workflow (`services/sanctions/quarterly.py`) on the same queue. Here: the queue, the workflow
types and ids, the names of their updates, signals, queries and activities, the listing's vocabulary, the
workflow input with its configuration, the agencies' messages, the activities' commands, the `status`
query's answer, and the workflow's reports of its own state. The events the service publishes are in
`sanctions_events.py` and `credit_sharing_events.py`.

Pure: pydantic and the lifecycle contract's vocabulary, nothing done on import (workflow code imports it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.contracts.lifecycle import CalendarConfig, DayUnit, ListingGround, TaskQueues, check_business_id
from services.contracts.process_reports import StateReport

# ---------------------------------------------------------------------------------------------------------
# The blacklist workflow: queue, type, id, messages
# ---------------------------------------------------------------------------------------------------------

TASK_QUEUE = TaskQueues.SANCTIONS
BLACKLIST_WORKFLOW_TYPE = "BlacklistProcedure"
QUARTERLY_LIST_WORKFLOW_TYPE = "MajorViolationQuarter"


def listing_workflow_id(listing_id: str) -> str:
    return f"listing:{check_business_id(listing_id, 'listing id')}"


class ListingUpdates:
    """Agency actions on a listing, validated by the live process and answered at once."""

    RECORD_STATEMENT = "record_statement"  # 陈述申辩, only within the statement-and-defence period
    REVIEW_STATEMENT = "review_statement"  # the office's review of a statement: list or not
    APPLY_FOR_EARLY_REMOVAL = "apply_for_early_removal"  # 信用修复 application
    DECIDE_EARLY_REMOVAL = "decide_early_removal"  # the city office grants or refuses it


class ListingSignals:
    CORRECTION_REPORTED = "correction_reported"  # wages paid after the refusal (from POST /v1/corrections)
    REPORT_STATE = "report_state"  # an operator asks for the whole state again (`anxin audit ledger --fix`)
    # The bureau entered a year's official calendar (`anxin calendar load`; the lifecycle's signal of that name).
    CALENDAR_UPDATED = "calendar_updated"


class ListingQueries:
    STATUS = "status"


class SanctionsActivities:
    """Activity names of the sanctions worker (methods of `services.sanctions.activities.ListingActivities`)."""

    COMPUTE_DEADLINE = "sanctions.compute_deadline"
    ISSUE_PRIOR_NOTICE = "sanctions.issue_prior_notice"
    RECORD_DECISION = "sanctions.record_listing_decision"
    PUBLISH_LISTING = "sanctions.publish_listing"
    REMOVE_LISTING = "sanctions.remove_listing"
    BUILD_QUARTER_LIST = "sanctions.build_quarter_list"
    REPORT_LISTING_STATE = "sanctions.report_listing_state"  # the workflow's own state (listing_reports.py)


# ---------------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------------


class ListingStage(StrEnum):
    NOTICE = "notice"  # 事先告知书 being issued
    DEFENCE = "defence"  # 陈述申辩 period running
    REVIEW = "review"  # a statement was made: the office reviews it before deciding
    LISTED = "listed"  # 列入决定 made and published; removal after the listing period
    NOT_LISTED = "not_listed"  # decided not to list (paid before the decision, or defence accepted)
    REMOVED = "removed"  # 移出: period expired or credit repaired


class NotListedReason(StrEnum):
    PAID_BEFORE_DECISION = "paid_before_decision"
    DEFENCE_ACCEPTED = "defence_accepted"


class RemovalReason(StrEnum):
    EXPIRED = "expired"  # the listing period (3 years) ended
    CREDIT_REPAIR = "credit_repair"  # early removal granted (信用修复)


class PersonRole(StrEnum):
    LEGAL_REPRESENTATIVE = "legal_representative"  # 法定代表人
    PERSON_IN_CHARGE = "person_in_charge"  # 主要负责人 / 直接负责的主管人员


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------------------
# Workflow input, configuration and messages
# ---------------------------------------------------------------------------------------------------------


class BlacklistConfig(_Model):
    """The procedure's periods (domain.md §4); carried in each workflow input so a run replays exactly."""

    defence_days: int = Field(5, ge=1, description="Statement-and-defence period (not confirmed: config).")
    defence_unit: DayUnit = DayUnit.WORKING
    listing_years: int = Field(3, ge=1)
    early_removal_months: int = Field(6, ge=1, description="Months after the correction before credit repair.")
    # An employer that paid in full before the decision is left off the list (domain.md §3 step 9).
    leave_off_when_paid: bool = True
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    # Compressed clock (demos, end-to-end tests): one legal day lasts this many seconds; 0 = real time.
    working_day_seconds: float = Field(0.0, ge=0)


class BlacklistInput(_Model):
    listing_id: str
    case_id: str
    county: str
    employer_ref: str
    ground: ListingGround
    basis: str = Field(description="The case workflow's statement of the legal basis (Chinese).")
    amount: Decimal = Field(gt=0, description="Unpaid wages when the procedure started (yuan).")
    proposed_at: datetime
    config: BlacklistConfig = Field(default_factory=BlacklistConfig)

    @field_validator("listing_id", "case_id")
    @classmethod
    def _ids(cls, value: str) -> str:
        return check_business_id(value)


class StatementRecord(_Model):
    """The employer's statement and defence, recorded by an agency; its text stays in the service."""

    statement_id: str
    recorded_by: str


class StatementReview(_Model):
    review_id: str
    decided_by: str
    list_employer: bool = Field(description="False: the defence is accepted and the employer is not listed.")
    reason: str = Field(min_length=2, max_length=2000)


class CorrectionReport(_Model):
    correction_id: str
    amount: Decimal = Field(gt=0)


class EarlyRemovalApplication(_Model):
    application_id: str
    recorded_by: str
    pledge_ref: str = Field(min_length=1, description="Reference of the signed credit pledge (信用承诺书).")
    payment_proof_ref: str = Field(min_length=1, description="Reference of the proof that wages were paid.")


class EarlyRemovalDecision(_Model):
    application_id: str
    decided_by: str
    grant: bool
    reason: str = Field(min_length=2, max_length=2000)


# Activity commands (each names its listing: the activity is idempotent per listing and step)


class NoticeCommand(_Model):
    listing_id: str
    issued_at: datetime = Field(description="Legal instant of the notice.")
    defence_days: int
    defence_unit: DayUnit
    defence_due_date: date


class DecisionCommand(_Model):
    listing_id: str
    listed: bool
    decided_at: datetime
    reason: str
    not_listed_reason: NotListedReason | None = None
    expires_on: date | None = None


class PublishCommand(_Model):
    listing_id: str
    published_at: datetime
    expires_on: date


class RemovalCommand(_Model):
    listing_id: str
    reason: RemovalReason
    removed_at: datetime
    application_id: str | None = None


class DocumentInfo(_Model):
    document_id: str
    document_number: str


class QuarterListCommand(_Model):
    quarter: str | None = Field(None, description="'2026-Q3'; None: the last complete quarter before asked_on.")
    asked_on: date


class ListingTimelineEntry(_Model):
    at: datetime
    kind: str
    text: str


class ListingStatus(_Model):
    listing_id: str
    case_id: str
    stage: ListingStage
    ground: ListingGround
    amount: Decimal
    amount_corrected: Decimal
    paid_in_full_on: date | None
    notice_document_id: str | None
    defence_due_date: date | None
    defence_due_provisional: bool = Field(
        False, description="The defence period reaches into a year without an official calendar yet."
    )
    statements: list[str]
    decided_on: date | None
    decision_document_id: str | None
    not_listed_reason: NotListedReason | None
    expires_on: date | None
    early_removal_possible_from: date | None
    pending_application: str | None
    removal_reason: RemovalReason | None
    removed_on: date | None
    timeline: list[ListingTimelineEntry]


# The workflow's reports of its own state (rules: services/contracts/listing_reports.py)


class ListingSnapshot(_Model):
    """A listing as its workflow holds it: what the listing record keeps current from it."""

    workflow_id: str
    stage: ListingStage
    amount_corrected: Decimal = Decimal(0)
    paid_in_full_on: date | None = None
    defence_due_date: date | None = None
    statements: list[str] = Field(default_factory=list)
    decided_on: date | None = None
    not_listed_reason: NotListedReason | None = None
    expires_on: date | None = None
    early_removal_possible_from: date | None = None
    pending_application: str | None = None
    removal_reason: RemovalReason | None = None
    removed_on: date | None = None


class ListingReport(StateReport):
    """The blacklist workflow's command to the sanctions service: record this state of a listing."""

    listing_id: str
    snapshot: ListingSnapshot
