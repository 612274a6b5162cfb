"""The ledger projection: applies each event from the stream to the read model (the inbox handler).

It runs inside the inbox transaction of `InboxConsumer`, so an event's effect and its id commit together
and a redelivered event changes nothing. Sources, each handled by its event class:

- intake's `complaint.submitted` (a complaint joins its case; a new case is opened),
- this service's own events (`services/contracts/cases_events.py`): the lifecycle's requests (notices,
  forwardings, orders, compensation decisions) and the inspectors' actions, each with the process
  snapshot taken right after it,
- referrals' and sanctions' events that name a case (criminal referrals, overdue handoffs, listings), and
  the referrals' department directory,
- the monitoring service's project register (`project_register.py`), for the quarterly circular and the
  early-warning cases, and its early warnings, which open early-warning cases (`projection_warnings.py`).

Every event also becomes a timeline row of its ledger case. Ledger rows are recomputed from their parts
(`complaints`, `processes`, `payments`) after each change, so merges and splits are just regroupings.

This module maps each event class to its handler and handles intake's complaints (one filed at a site of a
project with an open early-warning case joins that case); the handlers themselves are in
`projection_requests.py` (the lifecycle's requests, the inspectors' actions), `projection_regroup.py` (the
workflows' reports, merges and splits, the other services' events) and `projection_warnings.py` (the early
warnings and their cases), over the records they share in `projection_records.py`.
"""

from __future__ import annotations

import logging

from psycopg.types.json import Jsonb

from services.cases import action_texts, domain
from services.cases.payout_projection import PayoutRecords
from services.cases.project_register import keep_project
from services.cases.projection_records import Conn
from services.cases.projection_regroup import ReportsAndRegrouping
from services.cases.projection_requests import LifecycleRequests
from services.cases.projection_warnings import EarlyWarnings
from services.common.event_handlers import EventHandlers, PayloadHandler
from services.common.outbox import add_event
from services.contracts import catalog
from services.contracts.case_decision_events import (
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    FiguresConfirmed,
)
from services.contracts.case_ledger_events import CaseMerged, CaseSplit, InspectorAssigned, PartiesRecorded
from services.contracts.case_payout_events import PayoutDecided, PayoutOutcomeRecorded
from services.contracts.case_warning_events import (
    CaseWarningRecorded,
    ComplaintRouted,
    EarlyWarningCaseOpened,
    ProcessMerged,
)
from services.contracts.cases import case_refs, employer_credit_code
from services.contracts.cases_events import (
    AcceptanceDecided,
    CallbackRecorded,
    CaseOpened,
    ClosureRecorded,
    CompensationDecided,
    ComplaintForwarded,
    NoticeRecorded,
    OrderIssued,
    PaymentRecorded,
    ProcessReported,
    ServiceRecorded,
    VerificationRecorded,
)
from services.contracts.events import EventEnvelope, EventPayload, Topics
from services.contracts.guarantee_funds import (
    DepositToppedUp,
    DepositTopUpDemanded,
    DepositTopUpReminded,
    FundAdvanceWrittenOff,
    FundRecoveryRecorded,
    FundRecoveryReminded,
    PayoutApproved,
    PayoutOverdue,
    PayoutPaid,
    PayoutRefused,
    PayoutRequested,
)
from services.contracts.intake_events import ComplaintSubmitted
from services.contracts.monitoring_events import (
    ProjectRegistered,
    ProjectUpdated,
    ProjectWarningRaised,
    ProjectWarningResolved,
)
from services.contracts.referrals_events import (
    DepartmentsConfigured,
    HandoffEscalated,
    ReferralMade,
)
from services.contracts.sanctions_events import ListingPublished, ListingStateReported

log = logging.getLogger(__name__)

CONSUMER_NAME = "cases-ledger"
TOPICS = [Topics.INTAKE_COMPLAINTS, Topics.CASES, Topics.REFERRALS, Topics.SANCTIONS, Topics.MONITORING]


class LedgerProjection(LifecycleRequests, ReportsAndRegrouping, EarlyWarnings, PayoutRecords):
    """The inbox handler `(conn, envelope) -> None` of the cases worker."""

    def __init__(self) -> None:
        # Referrals' and sanctions' events that name a case go to its timeline; a few also count as facts.
        # A listing's state reports do not: each repeats the sanctions service's own events as state.
        about_a_case: dict[type[EventPayload], PayloadHandler] = {
            cls: self._other_service
            for cls in catalog.events()
            if cls.TOPIC in (Topics.REFERRALS, Topics.SANCTIONS)
            and "case_id" in cls.model_fields
            and cls is not ListingStateReported
        }
        self.handlers = EventHandlers(
            {
                ComplaintSubmitted: self._complaint_submitted,
                CaseOpened: self._on_case_opened,
                NoticeRecorded: self._on_notice_recorded,
                ComplaintForwarded: self._on_complaint_forwarded,
                OrderIssued: self._on_order_issued,
                CompensationDecided: self._on_compensation_decided,
                AcceptanceDecided: self._on_acceptance_decided,
                VerificationRecorded: self._on_verification_recorded,
                ServiceRecorded: self._on_service_recorded,
                PaymentRecorded: self._on_payment_recorded,
                ExtensionRequested: self._on_extension_requested,
                ExtensionApproved: self._on_extension_approved,
                ExtensionRefused: self._on_extension_refused,
                ClosureRecorded: self._on_closure_recorded,
                **{cls: self._on_snapshot_action for cls in action_texts.SNAPSHOT_ACTIONS},
                FiguresConfirmed: self._on_figures_confirmed,
                CallbackRecorded: self._on_callback_recorded,
                InspectorAssigned: self._on_inspector_assigned,
                PartiesRecorded: self._on_parties_recorded,
                ProcessReported: self._on_process_reported,
                CaseMerged: self._on_case_merged,
                CaseSplit: self._on_case_split,
                DepartmentsConfigured: self._departments_configured,
                **about_a_case,
                ReferralMade: self._on_referral_made,
                HandoffEscalated: self._on_handoff_escalated,
                ListingPublished: self._on_listing_published,
                ProjectRegistered: keep_project,
                ProjectUpdated: keep_project,
                ProjectWarningRaised: self._on_warning_raised,
                ProjectWarningResolved: self._on_warning_resolved,
                EarlyWarningCaseOpened: self._on_early_warning_opened,
                CaseWarningRecorded: self._on_warning_recorded,
                ComplaintRouted: self._on_complaint_routed,
                ProcessMerged: self._on_process_merged,
                PayoutDecided: self._on_payout_decided,
                PayoutOutcomeRecorded: self._on_payout_outcome_recorded,
                PayoutRequested: self._on_payout_requested,
                PayoutApproved: self._on_payout_decision,
                PayoutRefused: self._on_payout_decision,
                PayoutPaid: self._on_payout_paid,
                **{
                    cls: self._on_payout_step
                    for cls in (
                        PayoutOverdue,
                        DepositTopUpDemanded,
                        DepositTopUpReminded,
                        DepositToppedUp,
                        FundRecoveryReminded,
                        FundRecoveryRecorded,
                        FundAdvanceWrittenOff,
                    )
                },
            },
            consumer=CONSUMER_NAME,
        )

    def __call__(self, conn: Conn, event: EventEnvelope) -> None:
        self.handlers(conn, event)

    # --- complaints ----------------------------------------------------------------------------------

    def _complaint_submitted(self, conn: Conn, event: EventEnvelope, c: ComplaintSubmitted) -> None:
        employer, project, process_case_id = case_refs(c)
        case_id = self.resolve_alias(conn, process_case_id)
        # A complaint that would open a case of its own joins its project's open early-warning case instead.
        early_warning = (
            None
            if conn.execute("SELECT 1 FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
            else self.early_warning_case_for(conn, c)
        )
        if early_warning is not None:
            case_id = early_warning["case_id"]
        inserted = conn.execute(
            "INSERT INTO complaints (complaint_id, case_id, process_case_id, county, channel, amount_owed, "
            "workers_affected, complainant_ref, submitted_at, deadlines, stale_for_rejection, owed_until) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (complaint_id) DO NOTHING",
            (
                c.complaint_id,
                case_id,
                process_case_id,
                c.county_code,
                c.channel,
                c.amount_owed,
                c.workers_affected,
                c.person_ref or c.phone_ref,
                c.submitted_at,
                Jsonb([]),
                c.stale_for_rejection,
                c.period_end,
            ),
        ).rowcount
        if not inserted:
            return
        if early_warning is not None:
            self.route_complaint(conn, event, c, early_warning, process_case_id)
        exists = conn.execute("SELECT 1 FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
        if not exists:
            conn.execute(
                "INSERT INTO ledger (case_id, county, city, employer_ref, employer_name, employer_credit_code, "
                "project_ref, project_name, stage, status, received_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'acceptance', 'open', %s)",
                (
                    case_id,
                    c.county_code,
                    domain.city_of(c.county_code),
                    employer,
                    c.employer_name,
                    employer_credit_code(c),
                    project,
                    c.project_name,
                    c.submitted_at,
                ),
            )
            opened = CaseOpened(
                case_id=case_id,
                county=c.county_code,
                employer_ref=employer,
                employer_name=c.employer_name,
                employer_credit_code=employer_credit_code(c),
                project_ref=project,
                project_name=c.project_name,
                opened_by_complaint=c.complaint_id,
            )
            add_event(
                conn,
                opened.TOPIC,
                EventEnvelope.wrap(opened, subject=case_id, producer="cases", occurred_at=event.occurred_at),
            )
        self.timeline(
            conn,
            case_id,
            event,
            f"收到投诉 {c.complaint_id}：{c.workers_affected} 人、{c.amount_owed} 元（渠道 {c.channel}）"
            + (f"；工资拖欠至 {c.period_end}，已超过查处时效" if c.stale_for_rejection else ""),
            complaint_id=c.complaint_id,
            detail={
                "amount_owed": str(c.amount_owed),
                "workers_affected": c.workers_affected,
                "stale_for_rejection": c.stale_for_rejection,
            },
        )
        self.refresh(conn, case_id)
