"""The complaint-lifecycle workflow contract: what agencies, services and workers agree on.

Task queues, workflow ids and types, update/signal/query names, activity names, search attributes, the
configuration carried in every workflow input, and the pydantic models exchanged with the workflows.

Pure: no I/O, nothing done on import, importable from workflow code (the sandbox re-imports it).
Money is in yuan as `Decimal`. Instants are timezone-aware; legal dates are China Standard Time dates.
No model here carries a worker's personal data in clear: complainants are named by a keyed reference
(`complainant_ref`), employers and projects by their ledger references.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from temporalio.common import SearchAttributeKey

# ---------------------------------------------------------------------------------------------------------
# Task queues, workflow types and ids
# ---------------------------------------------------------------------------------------------------------


class TaskQueues:
    """Task queue names. The lifecycle worker polls `LIFECYCLE` for both workflows and, by default, for
    every activity (its activities reach the owning services over their HTTP APIs). When a service hosts
    its own activity worker, `LifecycleConfig.activity_queues` routes that service's activities to it."""

    LIFECYCLE = "anxin-lifecycle"
    NOTIFY = "anxin-notify"
    CASES = "anxin-cases"
    REFERRALS = "anxin-referrals"
    SANCTIONS = "anxin-sanctions"


COMPLAINT_WORKFLOW_TYPE = "ComplaintLifecycle"
CASE_WORKFLOW_TYPE = "CaseLifecycle"

_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Business ids end up in workflow ids and search attributes, which are stored unencrypted: refuse anything
# shaped like a resident ID number or a mainland mobile number.
_RESIDENT_ID = re.compile(r"\d{17}[\dXx]")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def check_business_id(value: str, what: str = "id") -> str:
    if not _ID_PATTERN.match(value):
        raise ValueError(f"{what} {value!r} must be 1-64 letters, digits, '.', '_' or '-'")
    if _RESIDENT_ID.search(value) or _MOBILE.search(value):
        raise ValueError(f"{what} looks like personal data (ID or phone number); use a ledger reference")
    return value


def complaint_workflow_id(complaint_id: str) -> str:
    return f"complaint:{check_business_id(complaint_id, 'complaint id')}"


def case_workflow_id(case_id: str) -> str:
    return f"case:{check_business_id(case_id, 'case id')}"


class Updates:
    """Agency actions that change the process: validated, then answered at once (accepted or refused)."""

    # complaint workflow
    DECIDE_ACCEPTANCE = "decide_acceptance"
    SUPPLEMENT_INFORMATION = "supplement_information"
    WITHDRAW_COMPLAINT = "withdraw_complaint"
    RECORD_CALLBACK = "record_callback"
    # case workflow
    RECORD_VERIFICATION = "record_verification"
    RECORD_SERVICE = "record_service"
    RECORD_PAYMENT = "record_payment"
    RECORD_HANDOFF_RESPONSE = "record_handoff_response"
    RECORD_HANDOFF_RETURN = "record_handoff_return"
    APPROVE_EXTENSION = "approve_extension"
    RECORD_POLICE_DECISION = "record_police_decision"
    CLOSE_CASE = "close_case"


class Signals:
    # case workflow: a complaint joins (the signal of signal-with-start) or leaves its case
    COMPLAINT_JOINED = "complaint_joined"
    COMPLAINT_LEFT = "complaint_left"
    MASS_INCIDENT_REPORTED = "mass_incident_reported"
    # complaint workflow: a milestone of its case, to be told to the complainant
    CASE_PROGRESS = "case_progress"
    # both: the bureau entered a year's official calendar; provisional deadlines are recomputed
    CALENDAR_UPDATED = "calendar_updated"
    # both: an operator fixed what made a service refuse a step for good; the step is tried again
    RETRY_REFUSED_STEP = "retry_refused_step"
    # both: report the current state to the ledger again (`anxin audit ledger --fix`)
    REPORT_STATE = "report_state"


class Queries:
    STATUS = "status"


class ActivityNames:
    """Stable activity names: the contract the owning services' workers will honour."""

    COMPUTE_DEADLINE = "lifecycle.compute_deadline"
    JOIN_CASE = "lifecycle.join_case"
    NOTIFY_COMPLAINANT = "notify.complainant"
    NOTIFY_AGENCY = "cases.notify_agency"
    FORWARD_COMPLAINT = "cases.forward_complaint"
    ISSUE_ORDER_TO_PAY = "cases.issue_order_to_pay"
    DECIDE_ADDITIONAL_COMPENSATION = "cases.decide_additional_compensation"
    ISSUE_LETTER = "referrals.issue_letter"
    MAKE_REFERRAL = "referrals.make_referral"
    WITHDRAW_REFERRAL = "referrals.withdraw_referral"
    START_BLACKLIST_PROCEDURE = "sanctions.start_blacklist_procedure"
    MARK_FOR_PUBLICATION = "sanctions.mark_for_publication"
    REPORT_CORRECTION = "sanctions.report_correction"
    # A workflow's state, reported to the ledger each time it changes (services/contracts/process_reports.py).
    REPORT_PROCESS = "cases.report_process"


# Which service owns each activity (for routing to that service's own task queue).
ACTIVITY_OWNERS: dict[str, str] = {
    ActivityNames.COMPUTE_DEADLINE: "lifecycle",
    ActivityNames.JOIN_CASE: "lifecycle",
    ActivityNames.NOTIFY_COMPLAINANT: "notify",
    ActivityNames.NOTIFY_AGENCY: "cases",
    ActivityNames.REPORT_PROCESS: "cases",
    ActivityNames.FORWARD_COMPLAINT: "cases",
    ActivityNames.ISSUE_ORDER_TO_PAY: "cases",
    ActivityNames.DECIDE_ADDITIONAL_COMPENSATION: "cases",
    ActivityNames.ISSUE_LETTER: "referrals",
    ActivityNames.MAKE_REFERRAL: "referrals",
    ActivityNames.WITHDRAW_REFERRAL: "referrals",
    ActivityNames.START_BLACKLIST_PROCEDURE: "sanctions",
    ActivityNames.MARK_FOR_PUBLICATION: "sanctions",
    ActivityNames.REPORT_CORRECTION: "sanctions",
}

# ---------------------------------------------------------------------------------------------------------
# Search attributes (stored unencrypted: ids, codes and states only, never personal data)
# ---------------------------------------------------------------------------------------------------------

SA_CASE_ID = SearchAttributeKey.for_keyword("AnxinCaseId")
SA_COMPLAINT_ID = SearchAttributeKey.for_keyword("AnxinComplaintId")
SA_COUNTY = SearchAttributeKey.for_keyword("AnxinCounty")
SA_STAGE = SearchAttributeKey.for_keyword("AnxinStage")
SA_STATUS = SearchAttributeKey.for_keyword("AnxinStatus")
SA_NEXT_DEADLINE = SearchAttributeKey.for_datetime("AnxinNextDeadline")
SA_CLASSIFICATION = SearchAttributeKey.for_keyword("AnxinClassification")
SA_OVERDUE = SearchAttributeKey.for_bool("AnxinOverdue")

# (name, type) pairs for `temporal server start-dev --search-attribute Name=Type`.
SEARCH_ATTRIBUTES: list[tuple[str, str]] = [
    (SA_CASE_ID.name, "Keyword"),
    (SA_COMPLAINT_ID.name, "Keyword"),
    (SA_COUNTY.name, "Keyword"),
    (SA_STAGE.name, "Keyword"),
    (SA_STATUS.name, "Keyword"),
    (SA_NEXT_DEADLINE.name, "Datetime"),
    (SA_CLASSIFICATION.name, "Keyword"),
    (SA_OVERDUE.name, "Bool"),
]

# ---------------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------------


class Status(StrEnum):
    OPEN = "open"  # being handled
    CLOSED = "closed"  # closed with a reason; the complainant's call-back may still be pending
    COMPLETED = "completed"  # nothing left to do


class ComplaintStage(StrEnum):
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # 受理: 5 working days
    AWAITING_INFORMATION = "awaiting_information"  # 补正
    IN_CASE = "in_case"  # accepted; the case workflow investigates
    CALLBACK = "callback"  # closed; 回访 pending
    DONE = "done"


class CaseStage(StrEnum):
    VERIFICATION = "verification"  # 核实 and classification
    HANDOFF = "handoff"  # 交办 to a department, with its escalation ladder
    SERVICE = "service"  # order to pay issued, waiting to be served (送达)
    PAYMENT = "payment"  # order served, its deadline running
    REFUSAL = "refusal"  # deadline passed unpaid: compensation, referral, blacklist, publication
    CLOSED = "closed"


class AcceptanceDecisionKind(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    REQUEST_MORE_INFO = "request_more_info"
    FORWARD = "forward"


class RejectionReason(StrEnum):
    VIOLATION_TOO_OLD = "violation_too_old"  # older than the 2-year limit
    NOT_LABOUR_INSPECTION_MATTER = "not_labour_inspection_matter"
    OTHER = "other"


class VerificationOutcome(StrEnum):
    WAGE_ARREARS = "wage_arrears"
    PROJECT_PAYMENT_DISPUTE = "project_payment_dispute"
    QUANTITY_DISPUTE = "quantity_dispute"
    LABOUR_DISPUTE = "labour_dispute"
    UNFOUNDED = "unfounded"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
    ALREADY_PAID = "already_paid"
    FORWARDED = "forwarded"


class Classification(StrEnum):
    """The track a verified case follows (search attribute `AnxinClassification`)."""

    WAGE_ARREARS = "wage_arrears"  # order to pay and, on refusal, escalation
    NON_WAGE_DISPUTE = "non_wage_dispute"  # handoff to the responsible department
    ARBITRATION = "arbitration"  # labour dispute: referred to arbitration
    NO_VIOLATION = "no_violation"  # unfounded or already paid
    ADMINISTRATIVE = "administrative"  # duplicate, withdrawn, forwarded


CLASSIFICATION_OF: dict[VerificationOutcome, Classification] = {
    VerificationOutcome.WAGE_ARREARS: Classification.WAGE_ARREARS,
    VerificationOutcome.PROJECT_PAYMENT_DISPUTE: Classification.NON_WAGE_DISPUTE,
    VerificationOutcome.QUANTITY_DISPUTE: Classification.NON_WAGE_DISPUTE,
    VerificationOutcome.LABOUR_DISPUTE: Classification.ARBITRATION,
    VerificationOutcome.UNFOUNDED: Classification.NO_VIOLATION,
    VerificationOutcome.ALREADY_PAID: Classification.NO_VIOLATION,
    VerificationOutcome.DUPLICATE: Classification.ADMINISTRATIVE,
    VerificationOutcome.WITHDRAWN: Classification.ADMINISTRATIVE,
    VerificationOutcome.FORWARDED: Classification.ADMINISTRATIVE,
}


class ClosureReason(StrEnum):
    PAID_IN_FULL = "paid_in_full"  # resolved: wages paid after the order
    REJECTED = "rejected"
    FORWARDED = "forwarded"
    INFORMATION_NOT_SUPPLIED = "information_not_supplied"
    UNFOUNDED = "unfounded"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
    ALREADY_PAID = "already_paid"
    HANDED_OFF = "handed_off"  # the responsible department answered the handoff
    REFERRED_TO_ARBITRATION = "referred_to_arbitration"
    REFERRED_TO_POLICE = "referred_to_police"
    ADMINISTRATIVE_DECISION = "administrative_decision"  # compensation/decision issued, enforcement elsewhere


# Verification outcomes that close the case at once, and with which reason.
CLOSING_OUTCOMES: dict[VerificationOutcome, ClosureReason] = {
    VerificationOutcome.UNFOUNDED: ClosureReason.UNFOUNDED,
    VerificationOutcome.DUPLICATE: ClosureReason.DUPLICATE,
    VerificationOutcome.WITHDRAWN: ClosureReason.WITHDRAWN,
    VerificationOutcome.ALREADY_PAID: ClosureReason.ALREADY_PAID,
    VerificationOutcome.FORWARDED: ClosureReason.FORWARDED,
}


class LetterKind(StrEnum):
    """Handoff letter and the rungs of the overdue-handoff ladder (四函两单, local practice)."""

    HANDOFF = "handoff"  # 交办函
    REMINDER = "reminder"  # 催办函
    SUPERVISION = "supervision"  # 督办函
    WARNING_LETTER = "warning_letter"  # 警示函
    ACCOUNTABILITY_RECOMMENDATION = "accountability_recommendation"  # 问责建议函
    ACCOUNTABILITY_TRANSFER = "accountability_transfer"  # 问责移交单


class ServiceMethod(StrEnum):
    IN_PERSON = "in_person"  # 直接送达: signed receipt
    POSTING = "posting"  # 张贴送达: posted at the site or office, with photo or video


class EvidenceKind(StrEnum):
    RECEIPT = "receipt"
    PHOTO = "photo"
    VIDEO = "video"
    BANK_RECORD = "bank_record"
    SIGNED_STATEMENT = "signed_statement"
    OTHER = "other"


class ReferralTarget(StrEnum):
    ARBITRATION = "arbitration"
    POLICE = "police"
    PROCURATORATE = "procuratorate"  # request for early involvement (提前介入)


class SanctionKind(StrEnum):
    BLACKLIST_PROCEDURE = "blacklist_procedure"
    PUBLICATION = "publication"
    CORRECTION = "correction"  # wages paid after refusal


class PoliceDecision(StrEnum):
    CASE_OPENED = "case_opened"  # 立案
    DECLINED = "declined"  # 不予立案


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    NOT_REACHED = "not_reached"


class Office(StrEnum):
    """Recipients of internal notices."""

    INSPECTOR = "inspector"  # the county inspector handling the complaint or case
    SUPERVISING_OFFICE = "supervising_office"  # 根治欠薪办
    DEPARTMENT = "department"  # the department a case was handed off to


class DayUnit(StrEnum):
    WORKING = "working"
    CALENDAR = "calendar"


# ---------------------------------------------------------------------------------------------------------
# Configuration (defaults from domain.md §4; carried in every workflow input so runs replay exactly)
# ---------------------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CalendarYear(_Model):
    """One year's official calendar as announced by the State Council: public holidays and the make-up
    working days (调休) that fall on weekends. When present it replaces the package's data for that year."""

    year: int = Field(ge=2000, le=2200)
    holidays: list[date] = Field(default_factory=list)
    make_up_workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_in_year(self) -> CalendarYear:
        for day in [*self.holidays, *self.make_up_workdays]:
            if day.year != self.year:
                raise ValueError(f"{day} is not in {self.year}")
        both = set(self.holidays) & set(self.make_up_workdays)
        if both:
            raise ValueError(f"days listed both as holiday and make-up working day: {sorted(both)}")
        return self


class CalendarConfig(_Model):
    years: list[CalendarYear] = Field(default_factory=list)
    # What to do with a date covered neither by `years` nor by the calendar package:
    # "weekdays": Monday-Friday, with a logged warning and the deadline marked provisional;
    # "fail": refuse to compute (the workflow waits, visibly, for a calendar update).
    fallback: Literal["weekdays", "fail"] = "weekdays"

    @field_validator("years")
    @classmethod
    def _one_entry_per_year(cls, years: list[CalendarYear]) -> list[CalendarYear]:
        seen = [y.year for y in years]
        if len(seen) != len(set(seen)):
            raise ValueError("each year may be configured once")
        return years


class CriminalThreshold(_Model):
    """The province's figure for "数额较大" (法释〔2013〕3号 art. 3): either one worker owed at least
    `per_worker_amount` for at least `min_months_owed` months, or at least `min_workers` workers owed
    `aggregate_amount` in total."""

    per_worker_amount: Decimal = Field(gt=0)
    min_months_owed: int = Field(3, ge=1)
    min_workers: int = Field(10, ge=1)
    aggregate_amount: Decimal = Field(gt=0)


def default_criminal_thresholds() -> dict[str, CriminalThreshold]:
    # Provinces whose figures are confirmed (domain.md §4). Hebei's is not: a Hebei deployment must
    # configure it explicitly.
    return {
        "henan": CriminalThreshold(per_worker_amount=Decimal(8000), aggregate_amount=Decimal(40000)),
        "hunan": CriminalThreshold(per_worker_amount=Decimal(6000), aggregate_amount=Decimal(40000)),
        "guizhou": CriminalThreshold(per_worker_amount=Decimal(10000), aggregate_amount=Decimal(50000)),
        "liaoning": CriminalThreshold(per_worker_amount=Decimal(10000), aggregate_amount=Decimal(50000)),
    }


class AcceptanceConfig(_Model):
    decision_working_days: int = Field(5, ge=1)
    reminder_working_days_before: int = Field(1, ge=0)  # 0: no reminder
    more_info_wait_working_days: int = Field(10, ge=1)
    violation_limit_years: int = Field(2, ge=1)


class InvestigationConfig(_Model):
    limit_working_days: int = Field(60, ge=1)
    extension_working_days: int = Field(30, ge=1)
    warning_working_days_before: list[int] = Field(default_factory=lambda: [10, 3])

    @field_validator("warning_working_days_before")
    @classmethod
    def _positive(cls, values: list[int]) -> list[int]:
        if any(v < 1 for v in values):
            raise ValueError("warnings are given at least one working day before the limit")
        return sorted(set(values), reverse=True)


class LadderRung(_Model):
    """One rung of the overdue-handoff ladder: the letter issued, and how long the department then has
    before the next rung."""

    kind: LetterKind
    wait_working_days: int = Field(ge=1)


def default_ladder() -> list[LadderRung]:
    return [
        LadderRung(kind=LetterKind.REMINDER, wait_working_days=3),
        LadderRung(kind=LetterKind.SUPERVISION, wait_working_days=5),
        LadderRung(kind=LetterKind.WARNING_LETTER, wait_working_days=5),
        LadderRung(kind=LetterKind.ACCOUNTABILITY_RECOMMENDATION, wait_working_days=5),
        LadderRung(kind=LetterKind.ACCOUNTABILITY_TRANSFER, wait_working_days=10),
    ]


class HandoffConfig(_Model):
    response_working_days: int = Field(10, ge=1)
    ladder: list[LadderRung] = Field(default_factory=default_ladder)

    @field_validator("ladder")
    @classmethod
    def _distinct_rungs(cls, ladder: list[LadderRung]) -> list[LadderRung]:
        kinds = [r.kind for r in ladder]
        if LetterKind.HANDOFF in kinds:
            raise ValueError("the handoff letter itself is not a ladder rung")
        if len(kinds) != len(set(kinds)):
            raise ValueError("each letter kind may appear once on the ladder")
        return ladder


class OrderConfig(_Model):
    pay_days: int = Field(7, ge=1)
    pay_unit: DayUnit = DayUnit.CALENDAR
    service_reminder_working_days: int = Field(3, ge=1)
    # 加付赔偿金: 50%-100% of the amount owed, set per decision; this is the rate proposed.
    additional_compensation_rate: Decimal = Field(Decimal("0.5"), ge=Decimal("0.5"), le=Decimal("1.0"))
    request_early_procuratorate: bool = True


class CallbackConfig(_Model):
    callback_working_days: int = Field(5, ge=1)
    # After the first period the inspector is reminded; after this many more it is recorded as missed.
    grace_working_days: int = Field(5, ge=1)


class ActivityQueues(_Model):
    """Task queue per activity owner; None means the workflow's own task queue (the lifecycle worker)."""

    notify: str | None = None
    cases: str | None = None
    referrals: str | None = None
    sanctions: str | None = None

    def for_activity(self, activity_name: str) -> str | None:
        owner = ACTIVITY_OWNERS.get(activity_name, "lifecycle")
        return None if owner == "lifecycle" else getattr(self, owner)


class LifecycleConfig(_Model):
    province: str = Field(description="Province whose criminal threshold applies, e.g. 'henan'.")
    acceptance: AcceptanceConfig = Field(default_factory=AcceptanceConfig)
    investigation: InvestigationConfig = Field(default_factory=InvestigationConfig)
    handoff: HandoffConfig = Field(default_factory=HandoffConfig)
    order: OrderConfig = Field(default_factory=OrderConfig)
    callback: CallbackConfig = Field(default_factory=CallbackConfig)
    criminal_thresholds: dict[str, CriminalThreshold] = Field(default_factory=default_criminal_thresholds)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    # Compressed clock: one working (or calendar) day lasts this many seconds of wall time; 0 = real time.
    working_day_seconds: float = Field(0.0, ge=0)
    activity_queues: ActivityQueues = Field(default_factory=ActivityQueues)
    # Continue-as-new once the history holds this many events (or when the server suggests it).
    continue_as_new_after_events: int = Field(4000, ge=100)
    search_attributes: bool = True

    @model_validator(mode="after")
    def _province_has_threshold(self) -> LifecycleConfig:
        if self.province not in self.criminal_thresholds:
            raise ValueError(
                f"no criminal threshold configured for province {self.province!r}; "
                "add it under criminal_thresholds"
            )
        return self

    @property
    def threshold(self) -> CriminalThreshold:
        return self.criminal_thresholds[self.province]


# ---------------------------------------------------------------------------------------------------------
# Deadlines and timeline
# ---------------------------------------------------------------------------------------------------------


class DeadlineRequest(_Model):
    name: str
    legal_start: datetime = Field(description="The legal instant the period counts from.")
    wall_start: datetime = Field(description="Workflow time when the timer starts (compressed clock).")
    amount: int = Field(ge=0)
    unit: DayUnit
    calendar: CalendarConfig
    working_day_seconds: float = Field(0.0, ge=0)


class Deadline(_Model):
    name: str
    legal_start: datetime
    amount: int
    unit: DayUnit
    due_date: date = Field(description="The last legal day of the period (China Standard Time).")
    due_at: datetime = Field(description="End of the due date, the legal instant the period expires.")
    fire_at: datetime = Field(description="When the timer fires: due_at, or earlier on a compressed clock.")
    provisional: bool = Field(False, description="Computed on the Monday-Friday fallback for some dates.")
    calendar_note: str | None = None
    outcome: Literal["pending", "met", "expired", "superseded"] = "pending"


class TimelineEntry(_Model):
    at: datetime = Field(description="Legal instant of the event (on a compressed clock: the legal date).")
    kind: str
    text: str = Field(description="Plain-language description (Chinese), with identifiers only.")


# ---------------------------------------------------------------------------------------------------------
# Workflow inputs and the messages of agencies and services
# ---------------------------------------------------------------------------------------------------------


class ComplaintInput(_Model):
    complaint_id: str
    case_id: str = Field(description="The case (employer + project) this complaint belongs to.")
    county: str = Field(description="County code (行政区划代码), e.g. '130402'.")
    employer_ref: str
    project_ref: str
    complainant_ref: str = Field(description="Keyed reference the SMS gateway resolves; never a number.")
    received_at: datetime
    amount_owed: Decimal = Field(ge=0)
    workers_affected: int = Field(1, ge=1)
    months_owed: int = Field(1, ge=0)
    owed_until: date | None = Field(None, description="Last month owed, for the 2-year limit.")
    channel: str = "qr"
    config: LifecycleConfig
    resume: dict[str, Any] | None = Field(None, description="State carried over by continue-as-new.")

    @field_validator("complaint_id", "case_id")
    @classmethod
    def _ids(cls, value: str) -> str:
        return check_business_id(value)

    @field_validator("complainant_ref")
    @classmethod
    def _reference_not_number(cls, value: str) -> str:
        if _MOBILE.search(value) or _RESIDENT_ID.search(value):
            raise ValueError("complainant_ref must be a keyed reference, not a phone or ID number")
        return value


class CaseInput(_Model):
    case_id: str
    county: str
    employer_ref: str
    project_ref: str
    config: LifecycleConfig
    resume: dict[str, Any] | None = None

    @field_validator("case_id")
    @classmethod
    def _ids(cls, value: str) -> str:
        return check_business_id(value)


class CaseMember(_Model):
    """A complaint's contribution to its case, sent when the complaint is accepted."""

    complaint_id: str
    amount_owed: Decimal = Field(ge=0)
    workers_affected: int = Field(ge=1)
    months_owed: int = Field(ge=0)
    accepted_at: datetime


class JoinCaseRequest(_Model):
    case: CaseInput
    member: CaseMember
    task_queue: str


class ComplaintLeft(_Model):
    complaint_id: str
    reason: str


class MassIncidentReport(_Model):
    reported_by: str
    summary: str


class CaseProgress(_Model):
    """A case milestone told to each member complaint (and so to each complainant)."""

    kind: str
    text: str
    at: datetime
    stage: CaseStage
    closure_reason: ClosureReason | None = None


class AcceptanceDecision(_Model):
    decision: AcceptanceDecisionKind
    decided_by: str
    reason: RejectionReason | None = None
    explanation: str | None = None
    missing_items: list[str] = Field(default_factory=list)
    forward_to: str | None = Field(None, description="Code of the competent office.")

    @model_validator(mode="after")
    def _complete(self) -> AcceptanceDecision:
        if self.decision is AcceptanceDecisionKind.REJECT and (self.reason is None or not self.explanation):
            raise ValueError("a rejection needs a reason and a written explanation")
        if self.decision is AcceptanceDecisionKind.REQUEST_MORE_INFO and not self.missing_items:
            raise ValueError("a request for more information must list the missing items")
        if self.decision is AcceptanceDecisionKind.FORWARD and not self.forward_to:
            raise ValueError("forwarding needs the competent office (forward_to)")
        return self


class SupplementedInformation(_Model):
    items: list[str] = Field(min_length=1)


class Withdrawal(_Model):
    reason: str = "complainant withdrew"


class CallbackRecord(_Model):
    satisfaction: Satisfaction
    called_by: str
    notes: str | None = None


class VerificationResult(_Model):
    outcome: VerificationOutcome
    verified_by: str
    department: str | None = Field(None, description="Responsible department, for non-wage disputes.")
    confirmed_amount: Decimal | None = Field(None, ge=0)
    confirmed_workers: int | None = Field(None, ge=1)
    notes: str | None = None

    @model_validator(mode="after")
    def _department_for_handoff(self) -> VerificationResult:
        if CLASSIFICATION_OF[self.outcome] is Classification.NON_WAGE_DISPUTE and not self.department:
            raise ValueError(f"outcome {self.outcome} is handed off: name the responsible department")
        return self


class Evidence(_Model):
    kind: EvidenceKind
    ref: str = Field(description="Reference of the stored file (receipt scan, photo, video).")


class ServiceRecord(_Model):
    method: ServiceMethod
    served_by: str
    evidence: list[Evidence] = Field(min_length=1)
    served_at: datetime | None = None

    @model_validator(mode="after")
    def _evidence_fits_method(self) -> ServiceRecord:
        kinds = {e.kind for e in self.evidence}
        if self.method is ServiceMethod.IN_PERSON and EvidenceKind.RECEIPT not in kinds:
            raise ValueError("service in person needs the signed receipt as evidence")
        if self.method is ServiceMethod.POSTING and not kinds & {EvidenceKind.PHOTO, EvidenceKind.VIDEO}:
            raise ValueError("service by posting needs a photo or a video of the posting")
        return self


class PaymentRecord(_Model):
    payment_id: str = Field(description="Unique per payment; a repeated id is refused.")
    amount: Decimal = Field(gt=0)
    recorded_by: str
    evidence: list[Evidence] = Field(default_factory=list)
    paid_at: datetime | None = None


class HandoffResponse(_Model):
    department: str
    summary: str
    responded_by: str


class HandoffReturn(_Model):
    """A department sent the handoff back (退回): not its remit, too little to act on, or a duplicate. The
    case is then verified and classified anew, and may be handed off to another department."""

    department: str
    reason: str = Field(min_length=1, description="Why the department sent it back, as it said it.")
    returned_by: str


class ExtensionApproval(_Model):
    approved_by: str
    reason: str


class PoliceDecisionRecord(_Model):
    decision: PoliceDecision
    police_ref: str | None = None
    recorded_by: str


class ClosureRequest(_Model):
    reason: ClosureReason
    closed_by: str
    notes: str | None = None


# ---------------------------------------------------------------------------------------------------------
# Activity inputs and outputs (each carries an idempotency key: workflow id + step)
# ---------------------------------------------------------------------------------------------------------


class Notification(_Model):
    idempotency_key: str
    complaint_id: str
    recipient_ref: str
    template: str = Field(description="Message template, e.g. 'complaint.accepted'.")
    params: dict[str, str] = Field(default_factory=dict)


class AgencyNotice(_Model):
    idempotency_key: str
    subject: str = Field(description="Workflow id the notice is about.")
    county: str
    office: Office
    kind: str
    text: str
    due_at: datetime | None = None
    department: str | None = None


class ForwardRequest(_Model):
    idempotency_key: str
    complaint_id: str
    county: str
    forward_to: str
    note: str | None = None


class OrderToPayRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    employer_ref: str
    project_ref: str
    amount_owed: Decimal
    workers: int
    pay_days: int
    pay_unit: DayUnit


class CompensationRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    employer_ref: str
    unpaid_amount: Decimal
    rate: Decimal


class LetterRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    department: str
    kind: LetterKind
    response_due_at: datetime | None = None
    response_due_date: date | None = None


class ReferralRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    employer_ref: str
    target: ReferralTarget
    unpaid_amount: Decimal
    workers: int
    basis: str


class WithdrawReferralRequest(_Model):
    idempotency_key: str
    case_id: str
    referral_id: str
    reason: str


class SanctionRequest(_Model):
    idempotency_key: str
    case_id: str
    county: str
    employer_ref: str
    kind: SanctionKind
    amount: Decimal
    basis: str


class DocumentRef(_Model):
    """What a service returns for a document or record it created (order, letter, referral, listing)."""

    id: str


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
    served: bool
    threshold: ThresholdAssessment | None
    compensation_decision_id: str | None
    referrals: dict[str, str] = Field(description="Referral target -> referral id.")
    police_referral_withdrawn: bool
    police_decision: PoliceDecision | None
    blacklist_procedure_id: str | None
    publication_id: str | None
    closure_reason: ClosureReason | None
    timeline: list[TimelineEntry]
