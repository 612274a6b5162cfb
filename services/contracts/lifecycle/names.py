"""The names of the lifecycle contract: task queues, workflow types and ids, update/signal/query and
activity names, and the search attributes. Pure, like the whole `services.contracts.lifecycle` package."""

from __future__ import annotations

import re

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
    # The monitoring service's own worker: one project-monitoring workflow per registered project.
    MONITORING = "anxin-monitoring"


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
    # both workflows
    CONFIRM_DEADLINE = "confirm_deadline"
    # case workflow
    RECORD_VERIFICATION = "record_verification"
    RECORD_SERVICE = "record_service"
    RECORD_PAYMENT = "record_payment"
    RECORD_HANDOFF_RESPONSE = "record_handoff_response"
    RECORD_HANDOFF_RETURN = "record_handoff_return"
    APPROVE_EXTENSION = "approve_extension"
    RECORD_POLICE_DECISION = "record_police_decision"
    SUBMIT_REFERRAL_REPORT = "submit_referral_report"
    DECIDE_REFERRAL = "decide_referral"
    CONFIRM_FIGURES = "confirm_figures"
    MERGE_INTO = "merge_into"
    PROPOSE_REFERRAL_WITHDRAWAL = "propose_referral_withdrawal"
    DECIDE_REFERRAL_WITHDRAWAL = "decide_referral_withdrawal"
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
    SEND_REFERRAL_SUPPLEMENT = "referrals.send_referral_supplement"
    # A department's own response days and ladder, from the referrals service's directory.
    DEPARTMENT_TERMS = "referrals.department_terms"
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
    ActivityNames.SEND_REFERRAL_SUPPLEMENT: "referrals",
    ActivityNames.DEPARTMENT_TERMS: "referrals",
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
