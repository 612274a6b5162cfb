"""The sanctions worker's read models, kept from the event stream (the inbox handler).

It runs inside the inbox transaction of `InboxConsumer`, so an event's effect and its id commit together
and a redelivered event changes nothing. Sources, each handled by its event class:

- intake's `complaint.submitted`: the case facts (employer name and credit code, project, county, amounts)
  under the lifecycle's case id (`services/contracts/cases.py`), without any of the worker's data;
- referrals' `referral.made` / `referral.decided` / `referral.withdrawn` for the police and the
  procuratorate (`services/contracts/referrals_events.py`): the criminal-transfer register;
- referrals' `departments.configured`: the department directory, against which the departments invited to
  a joint interview are checked.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from services.common.department_directory import keep_department_directory
from services.common.event_handlers import EventHandlers
from services.contracts.case_warning_events import EarlyWarningCaseOpened
from services.contracts.cases import case_refs
from services.contracts.events import EventEnvelope, Topics
from services.contracts.intake_events import ComplaintSubmitted
from services.contracts.referrals_events import (
    DepartmentsConfigured,
    ReferralDecided,
    ReferralKind,
    ReferralMade,
    ReferralWithdrawn,
)

log = logging.getLogger(__name__)

CONSUMER_NAME = "sanctions-facts"
# The cases topic for the cases opened on a project's early warning, which no complaint announces.
TOPICS = [Topics.INTAKE_COMPLAINTS, Topics.REFERRALS, Topics.CASES]
CRIMINAL_TARGETS = {ReferralKind.POLICE, ReferralKind.PROCURATORATE}

Conn = psycopg.Connection[Any]


class SanctionsProjection:
    """The inbox handler `(conn, envelope) -> None` of the sanctions worker."""

    def __init__(self) -> None:
        self.handlers = EventHandlers(
            {
                ComplaintSubmitted: self.complaint_submitted,
                EarlyWarningCaseOpened: self.early_warning_case_opened,
                ReferralMade: self.referral_made,
                ReferralDecided: self.referral_decided,
                ReferralWithdrawn: self.referral_withdrawn,
                DepartmentsConfigured: self.departments_configured,
            },
            consumer=CONSUMER_NAME,
        )

    def __call__(self, conn: Conn, event: EventEnvelope) -> None:
        self.handlers(conn, event)

    @staticmethod
    def complaint_submitted(conn: Conn, _event: EventEnvelope, c: ComplaintSubmitted) -> None:
        employer, _, case_id = case_refs(c)
        inserted = conn.execute(
            "INSERT INTO fact_complaints (complaint_id, case_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (c.complaint_id, case_id),
        ).rowcount
        if not inserted:
            return
        conn.execute(
            "INSERT INTO case_facts (case_id, county, employer_ref, employer_name, employer_credit_code, project_name, "
            "amount_claimed, workers_affected, complaint_count, first_submitted_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1, %s) "
            "ON CONFLICT (case_id) DO UPDATE SET amount_claimed = case_facts.amount_claimed + EXCLUDED.amount_claimed, "
            "workers_affected = case_facts.workers_affected + EXCLUDED.workers_affected, "
            "complaint_count = case_facts.complaint_count + 1, "
            "employer_credit_code = coalesce(case_facts.employer_credit_code, EXCLUDED.employer_credit_code), "
            "updated_at = now()",
            (
                case_id,
                c.county_code,
                employer,
                c.employer_name,
                c.employer_credit_code,
                c.project_name,
                c.amount_owed,
                c.workers_affected or 1,
                c.submitted_at,
            ),
        )
        # A listing decided before its facts arrived gets the employer's name now.
        conn.execute(
            "UPDATE listings SET employer_name = %s, credit_code = coalesce(credit_code, %s), updated_at = now() "
            "WHERE case_id = %s AND employer_name IS NULL",
            (c.employer_name, c.employer_credit_code, case_id),
        )

    @staticmethod
    def early_warning_case_opened(conn: Conn, event: EventEnvelope, opened: EarlyWarningCaseOpened) -> None:
        # A case opened on a project's early warning has no complaint: its employer (the general contractor) and
        # project come with its opening; the amounts are the inspector's verified figures, not claims.
        conn.execute(
            "INSERT INTO case_facts (case_id, county, employer_ref, employer_name, employer_credit_code, project_name, "
            "first_submitted_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (case_id) DO UPDATE SET "
            "employer_credit_code = coalesce(case_facts.employer_credit_code, EXCLUDED.employer_credit_code), "
            "updated_at = now()",
            (
                opened.case_id,
                opened.county,
                opened.employer_ref,
                opened.employer_name,
                opened.employer_credit_code,
                opened.project_name,
                event.occurred_at,
            ),
        )
        conn.execute(
            "UPDATE listings SET employer_name = %s, credit_code = coalesce(credit_code, %s), updated_at = now() "
            "WHERE case_id = %s AND employer_name IS NULL",
            (opened.employer_name, opened.employer_credit_code, opened.case_id),
        )

    @staticmethod
    def referral_made(conn: Conn, event: EventEnvelope, made: ReferralMade) -> None:
        if made.target not in CRIMINAL_TARGETS:
            return
        conn.execute(
            "INSERT INTO criminal_transfers (referral_id, case_id, county, employer_ref, target, document_number, "
            "unpaid_amount, workers, referred_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (referral_id) DO UPDATE SET employer_ref = EXCLUDED.employer_ref, "
            "document_number = EXCLUDED.document_number, unpaid_amount = EXCLUDED.unpaid_amount, "
            "workers = EXCLUDED.workers, referred_at = EXCLUDED.referred_at, updated_at = now()",
            (
                made.referral_id,
                made.case_id,
                made.county,
                made.employer_ref,
                made.target.value,
                made.document_number,
                made.unpaid_amount,
                made.workers,
                event.occurred_at,
            ),
        )

    @staticmethod
    def referral_decided(conn: Conn, event: EventEnvelope, decided: ReferralDecided) -> None:
        if decided.target not in CRIMINAL_TARGETS:
            return
        # Inserted when the decision is seen first (it should not be: one case's events share a partition).
        conn.execute(
            "INSERT INTO criminal_transfers (referral_id, case_id, county, target, outcome, decline_reason, decision_ref, "
            "decided_at, late) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (referral_id) DO UPDATE SET outcome = EXCLUDED.outcome, "
            "decline_reason = EXCLUDED.decline_reason, decision_ref = EXCLUDED.decision_ref, "
            "decided_at = EXCLUDED.decided_at, late = EXCLUDED.late, updated_at = now() "
            "WHERE criminal_transfers.outcome <> 'withdrawn'",
            (
                decided.referral_id,
                decided.case_id,
                decided.county,
                decided.target.value,
                decided.decision.value,
                decided.decline_reason.value if decided.decline_reason else None,
                decided.decision_ref,
                event.occurred_at,
                decided.late,
            ),
        )

    @staticmethod
    def referral_withdrawn(conn: Conn, _event: EventEnvelope, withdrawn: ReferralWithdrawn) -> None:
        if withdrawn.target not in CRIMINAL_TARGETS:
            return
        conn.execute(
            "INSERT INTO criminal_transfers (referral_id, case_id, county, target, outcome) "
            "VALUES (%s, %s, %s, %s, 'withdrawn') "
            "ON CONFLICT (referral_id) DO UPDATE SET outcome = 'withdrawn', updated_at = now()",
            (withdrawn.referral_id, withdrawn.case_id, withdrawn.county, withdrawn.target.value),
        )

    @staticmethod
    def departments_configured(conn: Conn, event: EventEnvelope, directory: DepartmentsConfigured) -> None:
        """The whole directory, replacing the one before (an older configuration arriving late changes nothing)."""
        keep_department_directory(conn, event, directory)
