"""The case facts read model: what the letters quote, kept from intake's and the cases service's events.

- `complaint.submitted` (intake): the employer, project and county, and each complaint's figures (no
  complainant data is kept). The case id is derived exactly as the lifecycle does (`contracts/cases.py`).
- `case.verification_recorded`, `case.order_issued`, `case.service_recorded`, `case.payment_recorded`
  (cases): the confirmed figures, the order to pay and its proof of service, payments.

Each event is applied once, in the inbox transaction of the referrals worker, by the handler of its class.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services.common.event_handlers import EventHandlers
from services.contracts.case_warning_events import EarlyWarningCaseOpened
from services.contracts.cases import case_refs
from services.contracts.cases_events import (
    OrderIssued,
    PaymentRecorded,
    ServiceRecorded,
    VerificationRecorded,
)
from services.contracts.events import EventEnvelope, Topics
from services.contracts.intake_events import ComplaintSubmitted

CONSUMER_NAME = "referrals-case-facts"
TOPICS = [Topics.INTAKE_COMPLAINTS, Topics.CASES]

Conn = psycopg.Connection[Any]


def case_of_action(process_case_id: str | None, case_id: str) -> str:
    """The lifecycle case an inspector action was on (`case:<id>` or the id itself), else the ledger case."""
    if process_case_id:
        return process_case_id.removeprefix("case:")
    return case_id


class CaseFactsProjection:
    """The inbox handler `(conn, envelope) -> None` of the referrals worker."""

    def __init__(self) -> None:
        self.handlers = EventHandlers(
            {
                ComplaintSubmitted: self.complaint_submitted,
                EarlyWarningCaseOpened: self.early_warning_case_opened,
                VerificationRecorded: self.verification,
                OrderIssued: self.order,
                ServiceRecorded: self.service,
                PaymentRecorded: self.payment,
            },
            consumer=CONSUMER_NAME,
        )

    def __call__(self, conn: Conn, event: EventEnvelope) -> None:
        self.handlers(conn, event)

    @staticmethod
    def complaint_submitted(conn: Conn, _event: EventEnvelope, c: ComplaintSubmitted) -> None:
        employer, project, case_id = case_refs(c)
        conn.execute(
            "INSERT INTO case_facts (case_id, county, employer_ref, employer_name, employer_credit_code, "
            "project_ref, project_name, first_submitted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (case_id) DO UPDATE SET "
            "employer_credit_code = COALESCE(case_facts.employer_credit_code, EXCLUDED.employer_credit_code), "
            "first_submitted_at = LEAST(case_facts.first_submitted_at, EXCLUDED.first_submitted_at), "
            "updated_at = now()",
            (
                case_id,
                c.county_code,
                employer,
                c.employer_name,
                c.employer_credit_code,
                project,
                c.project_name,
                c.submitted_at,
            ),
        )
        conn.execute(
            "INSERT INTO case_complaints (complaint_id, case_id, amount_owed, workers_affected, period_start, "
            "period_end, evidence_count, submitted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (complaint_id) DO NOTHING",
            (
                c.complaint_id,
                case_id,
                c.amount_owed,
                c.workers_affected,
                c.period_start,
                c.period_end,
                c.evidence_count,
                c.submitted_at,
            ),
        )

    @staticmethod
    def early_warning_case_opened(conn: Conn, event: EventEnvelope, opened: EarlyWarningCaseOpened) -> None:
        # A case opened on a project's early warning has no complaint to learn it from: its facts (the general
        # contractor, the registered project) come with its opening, so its handoffs and referrals find them.
        conn.execute(
            "INSERT INTO case_facts (case_id, county, employer_ref, employer_name, employer_credit_code, "
            "project_ref, project_name, first_submitted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (case_id) DO UPDATE SET "
            "employer_credit_code = COALESCE(case_facts.employer_credit_code, EXCLUDED.employer_credit_code), "
            "first_submitted_at = LEAST(case_facts.first_submitted_at, EXCLUDED.first_submitted_at), "
            "updated_at = now()",
            (
                opened.case_id,
                opened.county,
                opened.employer_ref,
                opened.employer_name,
                opened.employer_credit_code,
                opened.project_ref,
                opened.project_name,
                event.occurred_at,
            ),
        )

    @staticmethod
    def verification(conn: Conn, _event: EventEnvelope, v: VerificationRecorded) -> None:
        conn.execute(
            "UPDATE case_facts SET outcome = %s, confirmed_amount = COALESCE(%s, confirmed_amount), "
            "confirmed_workers = COALESCE(%s, confirmed_workers), updated_at = now() WHERE case_id = %s",
            (v.outcome, v.confirmed_amount, v.confirmed_workers, case_of_action(v.process_case_id, v.case_id)),
        )

    @staticmethod
    def order(conn: Conn, event: EventEnvelope, o: OrderIssued) -> None:
        conn.execute(
            "UPDATE case_facts SET order_id = %s, order_issued_at = %s, order_pay_days = %s, order_pay_unit = %s, "
            "confirmed_amount = COALESCE(confirmed_amount, %s), confirmed_workers = COALESCE(confirmed_workers, %s), "
            "updated_at = now() WHERE case_id = %s AND order_id IS DISTINCT FROM %s",
            (o.order_id, event.occurred_at, o.pay_days, o.pay_unit, o.amount_owed, o.workers, o.case_id, o.order_id),
        )

    @staticmethod
    def service(conn: Conn, event: EventEnvelope, s: ServiceRecorded) -> None:
        served_at: datetime = s.served_at or event.occurred_at
        conn.execute(
            "UPDATE case_facts SET service_method = %s, served_at = %s, service_evidence = %s, "
            "updated_at = now() WHERE case_id = %s",
            (
                s.method,
                served_at,
                Jsonb([e.model_dump() for e in s.evidence]),
                case_of_action(s.process_case_id, s.case_id),
            ),
        )

    @staticmethod
    def payment(conn: Conn, _event: EventEnvelope, pay: PaymentRecorded) -> None:
        conn.execute(
            "UPDATE case_facts SET amount_paid = amount_paid + %s, updated_at = now() WHERE case_id = %s",
            (pay.amount, case_of_action(pay.process_case_id, pay.case_id)),
        )
