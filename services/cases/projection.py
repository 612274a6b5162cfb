"""The ledger projection: applies each event from the stream to the read model (the inbox handler).

It runs inside the inbox transaction of `InboxConsumer`, so an event's effect and its id commit together
and a redelivered event changes nothing. Sources, each handled by its event class:

- intake's `complaint.submitted` (a complaint joins its case; a new case is opened),
- this service's own events (`services/contracts/cases_events.py`): the lifecycle's requests (notices,
  forwardings, orders, compensation decisions) and the inspectors' actions, each with the process
  snapshot taken right after it,
- referrals' and sanctions' events that name a case (criminal referrals, overdue handoffs, listings), and
  the referrals' department directory.

Every event also becomes a timeline row of its ledger case. Ledger rows are recomputed from their parts
(`complaints`, `processes`, `payments`) after each change, so merges and splits are just regroupings.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import psycopg
from psycopg.types.json import Jsonb
from pydantic_core import to_jsonable_python

from services.cases import action_texts, domain, process_state
from services.common.event_handlers import EventHandlers, PayloadHandler
from services.common.inbox import PermanentEventError
from services.common.outbox import add_event
from services.contracts import catalog
from services.contracts.cases import case_refs, employer_credit_code
from services.contracts.cases_events import (
    AcceptanceDecided,
    ActionRecorded,
    CallbackRecorded,
    CaseMerged,
    CaseOpened,
    CaseSplit,
    ClosureRecorded,
    CompensationDecided,
    ComplaintForwarded,
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    FiguresConfirmed,
    InspectorAssigned,
    NoticeRecorded,
    OrderIssued,
    PartiesRecorded,
    PaymentRecorded,
    ProcessReported,
    ProcessSnapshot,
    ServiceRecorded,
    VerificationRecorded,
)
from services.contracts.events import EventEnvelope, EventPayload, Topics
from services.contracts.intake_events import ComplaintSubmitted
from services.contracts.referrals_events import (
    DepartmentsConfigured,
    HandoffEscalated,
    ReferralKind,
    ReferralMade,
)
from services.contracts.sanctions_events import ListingPublished, ListingStateReported

log = logging.getLogger(__name__)

CONSUMER_NAME = "cases-ledger"
TOPICS = [Topics.INTAKE_COMPLAINTS, Topics.CASES, Topics.REFERRALS, Topics.SANCTIONS]

# Letters that mean a department missed its handoff deadline (the rungs above the handoff letter).
LADDER_LETTERS = {"reminder", "supervision", "warning_letter", "accountability_recommendation",
                  "accountability_transfer"}

Conn = psycopg.Connection[Any]
P = TypeVar("P", bound=EventPayload)


class _AboutACase(Protocol):
    """A referrals or sanctions event that names a case (every one of theirs with a `case_id`)."""

    @property
    def case_id(self) -> str: ...

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


class LedgerProjection:
    """The inbox handler `(conn, envelope) -> None` of the cases worker."""

    def __init__(self) -> None:
        # Referrals' and sanctions' events that name a case go to its timeline; a few also count as facts.
        # A listing's state reports do not: each repeats the sanctions service's own events as state.
        about_a_case: dict[type[EventPayload], PayloadHandler] = {
            cls: self._other_service for cls in catalog.events()
            if cls.TOPIC in (Topics.REFERRALS, Topics.SANCTIONS) and "case_id" in cls.model_fields
            and cls is not ListingStateReported
        }
        self.handlers = EventHandlers({
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
        }, consumer=CONSUMER_NAME)

    def __call__(self, conn: Conn, event: EventEnvelope) -> None:
        self.handlers(conn, event)

    # --- resolution -----------------------------------------------------------------------------------

    @staticmethod
    def resolve_alias(conn: Conn, case_id: str) -> str:
        row = conn.execute("SELECT case_id FROM case_aliases WHERE alias = %s", (case_id,)).fetchone()
        return row["case_id"] if row else case_id

    def case_of_process(self, conn: Conn, process_case_id: str) -> str:
        row = conn.execute("SELECT case_id FROM processes WHERE process_case_id = %s", (process_case_id,)).fetchone()
        if row:
            return str(row["case_id"])
        row = conn.execute(
            "SELECT case_id FROM complaints WHERE process_case_id = %s ORDER BY submitted_at LIMIT 1",
            (process_case_id,),
        ).fetchone()
        return str(row["case_id"]) if row else self.resolve_alias(conn, process_case_id)

    @staticmethod
    def case_of_complaint(conn: Conn, complaint_id: str) -> str | None:
        row = conn.execute("SELECT case_id FROM complaints WHERE complaint_id = %s", (complaint_id,)).fetchone()
        return str(row["case_id"]) if row else None

    # --- timeline ------------------------------------------------------------------------------------

    @staticmethod
    def timeline(
        conn: Conn,
        case_id: str,
        event: EventEnvelope,
        summary: str,
        *,
        complaint_id: str | None = None,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO timeline (case_id, event_id, at, type, producer, complaint_id, actor, summary, detail) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
            (case_id, event.event_id, event.occurred_at, event.type, event.producer, complaint_id, actor, summary,
             Jsonb(detail or {})),
        )

    # --- complaints ----------------------------------------------------------------------------------

    def _complaint_submitted(self, conn: Conn, event: EventEnvelope, c: ComplaintSubmitted) -> None:
        employer, project, process_case_id = case_refs(c)
        case_id = self.resolve_alias(conn, process_case_id)
        inserted = conn.execute(
            "INSERT INTO complaints (complaint_id, case_id, process_case_id, county, channel, amount_owed, "
            "workers_affected, complainant_ref, submitted_at, deadlines, stale_for_rejection, owed_until) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (complaint_id) DO NOTHING",
            (c.complaint_id, case_id, process_case_id, c.county_code, c.channel, c.amount_owed, c.workers_affected,
             c.person_ref or c.phone_ref, c.submitted_at, Jsonb([]), c.stale_for_rejection, c.period_end),
        ).rowcount
        if not inserted:
            return
        exists = conn.execute("SELECT 1 FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
        if not exists:
            conn.execute(
                "INSERT INTO ledger (case_id, county, city, employer_ref, employer_name, employer_credit_code, "
                "project_ref, project_name, stage, status, received_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'acceptance', 'open', %s)",
                (case_id, c.county_code, domain.city_of(c.county_code), employer, c.employer_name,
                 employer_credit_code(c), project, c.project_name, c.submitted_at),
            )
            opened = CaseOpened(
                case_id=case_id, county=c.county_code, employer_ref=employer, employer_name=c.employer_name,
                employer_credit_code=employer_credit_code(c), project_ref=project, project_name=c.project_name,
                opened_by_complaint=c.complaint_id,
            )
            add_event(conn, opened.TOPIC, EventEnvelope.wrap(opened, subject=case_id, producer="cases",
                                                             occurred_at=event.occurred_at))
        self.timeline(
            conn, case_id, event,
            f"收到投诉 {c.complaint_id}：{c.workers_affected} 人、{c.amount_owed} 元（渠道 {c.channel}）"
            + (f"；工资拖欠至 {c.period_end}，已超过查处时效" if c.stale_for_rejection else ""),
            complaint_id=c.complaint_id,
            detail={"amount_owed": str(c.amount_owed), "workers_affected": c.workers_affected,
                    "stale_for_rejection": c.stale_for_rejection},
        )
        self.refresh(conn, case_id)

    def _apply_complaint_snapshot(self, conn: Conn, complaint_id: str, snapshot: ProcessSnapshot,
                                  at: datetime) -> None:
        conn.execute(
            "UPDATE complaints SET stage = %s, status = CASE WHEN %s = 'open' THEN 'open' ELSE 'closed' END, "
            "overdue = %s, deadlines = %s, snapshot_at = %s, "
            "closure_reason = COALESCE(%s, closure_reason), "
            "closed_at = CASE WHEN %s <> 'open' THEN COALESCE(closed_at, %s) ELSE closed_at END "
            "WHERE complaint_id = %s AND (snapshot_at IS NULL OR snapshot_at <= %s)",
            (snapshot.stage, snapshot.status, snapshot.overdue, Jsonb(_deadlines(snapshot)), at,
             snapshot.closure_reason, snapshot.status, at, complaint_id, at),
        )

    def ensure_process(self, conn: Conn, process_case_id: str, at: datetime, county: str | None = None) -> str:
        case_id = self.case_of_process(conn, process_case_id)
        if county is None:
            row = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
            county = row["county"] if row else ""
        conn.execute(
            "INSERT INTO processes (process_case_id, case_id, county, opened_at, stage_times) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (process_case_id) DO NOTHING",
            (process_case_id, case_id, county, at, Jsonb({"verification": at.isoformat()})),
        )
        return case_id

    def _reach_stage(self, conn: Conn, process_case_id: str, stage: str, at: datetime) -> None:
        conn.execute(
            "UPDATE processes SET stage = CASE WHEN status = 'open' THEN %s ELSE stage END, "
            "stage_times = CASE WHEN stage_times ? %s THEN stage_times "
            "ELSE stage_times || jsonb_build_object(%s::text, %s::text) END "
            "WHERE process_case_id = %s",
            (stage, stage, stage, at.isoformat(), process_case_id),
        )

    def _apply_process_snapshot(self, conn: Conn, process_case_id: str, snapshot: ProcessSnapshot | None,
                                at: datetime) -> None:
        if snapshot is None:
            return
        row = conn.execute(
            "SELECT status, snapshot_at, case_id, county FROM processes WHERE process_case_id = %s",
            (process_case_id,),
        ).fetchone()
        if row is None or (row["snapshot_at"] is not None and row["snapshot_at"] > at):
            return
        stage = snapshot.stage
        conn.execute(
            "UPDATE processes SET stage = %s, status = %s, overdue = %s, deadlines = %s, snapshot_at = %s, "
            "classification = COALESCE(%s, classification), closure_reason = COALESCE(%s, closure_reason), "
            "extension_approved = extension_approved OR %s, "
            "stage_times = CASE WHEN stage_times ? %s THEN stage_times "
            "ELSE stage_times || jsonb_build_object(%s::text, %s::text) END "
            "WHERE process_case_id = %s",
            (stage, "open" if snapshot.status == "open" else "closed", snapshot.overdue,
             Jsonb(_deadlines(snapshot)), at, snapshot.classification, snapshot.closure_reason,
             bool(snapshot.extension_approved), stage, stage, at.isoformat(), process_case_id),
        )
        if row["status"] == "open" and snapshot.status != "open":
            self._process_closed(conn, process_case_id, snapshot.closure_reason, at)
        if "police" in snapshot.referrals:
            self.fact(conn, "criminal_referral", process_case_id, row["case_id"], row["county"],
                      snapshot.referrals["police"], at)
        for d in snapshot.deadlines:
            if d.name == "handoff.response" and d.outcome == "expired":
                self.fact(conn, "handoff_overdue", process_case_id, row["case_id"], row["county"], None, at)

    def _process_closed(self, conn: Conn, process_case_id: str, reason: str | None, at: datetime) -> None:
        conn.execute(
            "UPDATE processes SET closed_at = COALESCE(closed_at, %s), status = 'closed', stage = 'closed', "
            "closure_reason = COALESCE(%s, closure_reason), "
            "stage_times = CASE WHEN stage_times ? 'closed' THEN stage_times "
            "ELSE stage_times || jsonb_build_object('closed', %s::text) END WHERE process_case_id = %s",
            (at, reason, at.isoformat(), process_case_id),
        )
        # Member complaints close with their case (their call-back is still to come).
        conn.execute(
            "UPDATE complaints SET status = 'closed', stage = 'callback', closure_reason = COALESCE(closure_reason, %s), "
            "closed_at = COALESCE(closed_at, %s) WHERE process_case_id = %s AND status = 'open' AND stage = 'in_case'",
            (reason, at, process_case_id),
        )

    @staticmethod
    def fact(conn: Conn, kind: str, process_case_id: str, case_id: str, county: str, ref: str | None,
             at: datetime) -> None:
        conn.execute(
            "INSERT INTO case_facts (kind, process_case_id, case_id, county, ref, at) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (kind, process_case_id) DO NOTHING",
            (kind, process_case_id, case_id, county, ref, at),
        )

    # --- the lifecycle's requests -------------------------------------------------------------------------

    def _on_case_opened(self, conn: Conn, event: EventEnvelope, opened: CaseOpened) -> None:
        self.timeline(conn, self.resolve_alias(conn, opened.case_id), event,
                      f"立案登记：{opened.employer_name} / {opened.project_name}")

    def _on_notice_recorded(self, conn: Conn, event: EventEnvelope, notice: NoticeRecorded) -> None:
        kind = notice.kind
        case_id: str | None
        if notice.complaint_id:
            case_id = self.case_of_complaint(conn, notice.complaint_id)
            if kind in ("acceptance.overdue", "callback.overdue"):
                conn.execute("UPDATE complaints SET overdue = true WHERE complaint_id = %s", (notice.complaint_id,))
        elif notice.case_id is not None:
            process_case_id = notice.case_id
            case_id = self.case_of_process(conn, process_case_id)
            if kind == "investigation.overdue":
                conn.execute("UPDATE processes SET investigation_overdue = true, overdue = true "
                             "WHERE process_case_id = %s", (process_case_id,))
            if kind == "handoff.ladder_exhausted":
                row = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
                self.fact(conn, "handoff_overdue", process_case_id, case_id, row["county"] if row else notice.county,
                          notice.notice_id, event.occurred_at)
        else:
            return  # a notice names the complaint or the case it is about
        if case_id is None:
            return
        self.timeline(conn, case_id, event, f"通知{notice.office}（{kind}）：{notice.text}",
                      complaint_id=notice.complaint_id,
                      detail={"kind": kind, "due_at": to_jsonable_python(notice.due_at)})
        self.refresh(conn, case_id)

    def _on_complaint_forwarded(self, conn: Conn, event: EventEnvelope, forwarded: ComplaintForwarded) -> None:
        case_id = self.case_of_complaint(conn, forwarded.complaint_id)
        if case_id is None:
            return
        conn.execute(
            "UPDATE complaints SET status = 'closed', stage = 'callback', closure_reason = 'forwarded', "
            "closed_at = COALESCE(closed_at, %s) WHERE complaint_id = %s AND status = 'open'",
            (event.occurred_at, forwarded.complaint_id),
        )
        self.timeline(conn, case_id, event,
                      f"投诉 {forwarded.complaint_id} 转送 {forwarded.forward_to}（{forwarded.forwarding_id}）",
                      complaint_id=forwarded.complaint_id)
        self.refresh(conn, case_id)

    def _on_order_issued(self, conn: Conn, event: EventEnvelope, order: OrderIssued) -> None:
        case_id = self.ensure_process(conn, order.case_id, event.occurred_at, order.county)
        if order.amends is not None:
            # An amended order (the case grew): the first order stays the process's; the stage is the workflow's.
            self.timeline(conn, case_id, event,
                          f"下达补充限期改正指令书 {order.order_id}（补充 {order.amends}）：{order.workers} 人，"
                          f"增加 {order.added_amount} 元，尚欠 {order.amount_owed} 元")
            self.refresh(conn, case_id)
            return
        conn.execute("UPDATE processes SET order_id = %s WHERE process_case_id = %s", (order.order_id, order.case_id))
        self._reach_stage(conn, order.case_id, "service", event.occurred_at)
        self.timeline(conn, case_id, event,
                      f"下达限期改正指令书 {order.order_id}：{order.workers} 人、{order.amount_owed} 元，"
                      f"限 {order.pay_days} 日支付")
        self.refresh(conn, case_id)

    def _on_compensation_decided(self, conn: Conn, event: EventEnvelope, decided: CompensationDecided) -> None:
        case_id = self.ensure_process(conn, decided.case_id, event.occurred_at, decided.county)
        conn.execute("UPDATE processes SET compensation_id = %s WHERE process_case_id = %s",
                     (decided.decision_id, decided.case_id))
        self._reach_stage(conn, decided.case_id, "refusal", event.occurred_at)
        self.timeline(conn, case_id, event,
                      f"逾期未支付，作出加付赔偿金决定 {decided.decision_id}：{decided.compensation_amount} 元")
        self.refresh(conn, case_id)

    # --- inspectors' actions ----------------------------------------------------------------------------

    def _action_case(self, conn: Conn, action: ActionRecorded) -> str:
        if action.process_case_id:
            return self.case_of_process(conn, action.process_case_id)
        if action.complaint_id:
            return self.case_of_complaint(conn, action.complaint_id) or self.resolve_alias(conn, action.case_id)
        return self.resolve_alias(conn, action.case_id)

    def _on_acceptance_decided(self, conn: Conn, event: EventEnvelope, decided: AcceptanceDecided) -> None:
        at = event.occurred_at
        complaint_id = decided.complaint_id
        row = conn.execute("SELECT case_id, process_case_id, county FROM complaints WHERE complaint_id = %s",
                           (complaint_id,)).fetchone()
        if row is None or complaint_id is None:
            return
        decision = decided.decision
        stage, status, reason = {
            "accept": ("in_case", "open", None),
            "reject": ("callback", "closed", "rejected"),
            "request_more_info": ("awaiting_information", "open", None),
            "forward": ("callback", "closed", "forwarded"),
        }[decision]
        conn.execute(
            "UPDATE complaints SET decision = %s, decided_at = %s, decided_by = %s, stage = %s, status = %s, "
            "closure_reason = COALESCE(%s, closure_reason), "
            "closed_at = CASE WHEN %s = 'closed' THEN COALESCE(closed_at, %s) ELSE closed_at END, "
            "overdue = false, deadlines = '[]' WHERE complaint_id = %s",
            (decision, at, decided.actor, stage, status, reason, status, at, complaint_id),
        )
        if decided.process is not None:
            # The workflow's own deadlines replace the locally computed acceptance period.
            self._apply_complaint_snapshot(conn, complaint_id, decided.process.model_copy(
                update={"stage": stage, "status": status, "closure_reason": reason}), at)
        if decision == "accept":
            self.ensure_process(conn, row["process_case_id"], at, row["county"])
        text = {"accept": "受理", "reject": "不予受理", "request_more_info": "要求补正材料", "forward": "转送"}[decision]
        self.timeline(conn, row["case_id"], event, f"投诉 {complaint_id}：{text}（{decided.actor}）",
                      complaint_id=complaint_id, actor=decided.actor,
                      detail={"decision": decision, "reason": decided.reason, "forward_to": decided.forward_to})
        self.refresh(conn, row["case_id"])

    def _on_verification_recorded(self, conn: Conn, event: EventEnvelope, verified: VerificationRecorded) -> None:
        at = event.occurred_at
        pid = _process_of(verified)
        case_id = self.ensure_process(conn, pid, at, verified.county)
        conn.execute(
            "UPDATE processes SET outcome = %s, classification = %s, verified_at = COALESCE(verified_at, %s), "
            "amount_verified = %s, workers_verified = %s WHERE process_case_id = %s",
            (verified.outcome, verified.classification, at, verified.confirmed_amount, verified.confirmed_workers,
             pid),
        )
        self._apply_process_snapshot(conn, pid, verified.process, at)
        text = f"核实结论：{verified.outcome}"
        if verified.confirmed_amount is not None:
            text += f"，核定 {verified.confirmed_amount} 元"
        self.timeline(conn, case_id, event, text + f"（{verified.actor}）", actor=verified.actor,
                      detail={"outcome": verified.outcome, "department": verified.department})
        self.refresh(conn, case_id)

    def _on_service_recorded(self, conn: Conn, event: EventEnvelope, served: ServiceRecorded) -> None:
        pid = _process_of(served)
        case_id = self.ensure_process(conn, pid, event.occurred_at, served.county)
        self._reach_stage(conn, pid, "payment", event.occurred_at)
        self._apply_process_snapshot(conn, pid, served.process, event.occurred_at)
        evidence = "、".join(f"{e.kind}:{e.ref}" for e in served.evidence)
        self.timeline(conn, case_id, event, f"限期改正指令书送达（{served.method}），证据：{evidence}（{served.actor}）",
                      actor=served.actor,
                      detail={"method": served.method, "evidence": to_jsonable_python(served.evidence)})
        self.refresh(conn, case_id)

    def _on_payment_recorded(self, conn: Conn, event: EventEnvelope, payment: PaymentRecorded) -> None:
        pid = _process_of(payment)
        case_id = self.ensure_process(conn, pid, event.occurred_at, payment.county)
        if payment.purpose == "wages":
            # The ledger's payments are wages recovered; the compensation's payments are in the timeline only.
            conn.execute(
                "INSERT INTO payments (process_case_id, payment_id, case_id, amount, recorded_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (pid, payment.payment_id, case_id, payment.amount, event.occurred_at),
            )
        self._apply_process_snapshot(conn, pid, payment.process, event.occurred_at)
        what = "支付" if payment.purpose == "wages" else "加付赔偿金支付"
        self.timeline(conn, case_id, event, f"记录{what} {payment.amount} 元（{payment.payment_id}，{payment.actor}）",
                      actor=payment.actor,
                      detail={"amount": str(payment.amount), "evidence": to_jsonable_python(payment.evidence)})
        self.refresh(conn, case_id)

    def _on_extension_requested(self, conn: Conn, event: EventEnvelope, requested: ExtensionRequested) -> None:
        requested = with_agency_texts(conn, event, requested)
        case_id = self._action_case(conn, requested)
        self.timeline(conn, case_id, event, f"申请延长办案期限（{requested.actor}）：{requested.reason}",
                      actor=requested.actor)

    def _on_extension_approved(self, conn: Conn, event: EventEnvelope, approved: ExtensionApproved) -> None:
        approved = with_agency_texts(conn, event, approved)
        pid = _process_of(approved)
        case_id = self.ensure_process(conn, pid, event.occurred_at, approved.county)
        conn.execute("UPDATE processes SET extension_approved = true WHERE process_case_id = %s", (pid,))
        self._apply_process_snapshot(conn, pid, approved.process, event.occurred_at)
        self.timeline(conn, case_id, event, f"批准延长办案期限（{approved.actor}）：{approved.reason}",
                      actor=approved.actor)
        self.refresh(conn, case_id)

    def _on_extension_refused(self, conn: Conn, event: EventEnvelope, refused: ExtensionRefused) -> None:
        refused = with_agency_texts(conn, event, refused)
        case_id = self._action_case(conn, refused)
        self.timeline(conn, case_id, event, f"不予批准延长办案期限（{refused.actor}）：{refused.reason}",
                      actor=refused.actor)

    def _on_closure_recorded(self, conn: Conn, event: EventEnvelope, closure: ClosureRecorded) -> None:
        pid = _process_of(closure)
        case_id = self.ensure_process(conn, pid, event.occurred_at, closure.county)
        self._apply_process_snapshot(conn, pid, closure.process, event.occurred_at)
        self.timeline(conn, case_id, event, f"结案（{closure.reason}，{closure.actor}）", actor=closure.actor)
        self.refresh(conn, case_id)

    def _on_snapshot_action(self, conn: Conn, event: EventEnvelope, action: ActionRecorded) -> None:
        """An action whose only ledger effect is the process state it carries and its timeline line."""
        pid = _process_of(action)
        case_id = self.ensure_process(conn, pid, event.occurred_at, action.county)
        self._apply_process_snapshot(conn, pid, action.process, event.occurred_at)
        summary, detail = action_texts.timeline_line(with_agency_texts(conn, event, action))
        self.timeline(conn, case_id, event, summary, actor=action.actor, detail=detail)
        self.refresh(conn, case_id)

    def _on_figures_confirmed(self, conn: Conn, event: EventEnvelope, confirmed: FiguresConfirmed) -> None:
        pid = _process_of(confirmed)
        case_id = self.ensure_process(conn, pid, event.occurred_at, confirmed.county)
        conn.execute("UPDATE processes SET amount_verified = %s, workers_verified = %s WHERE process_case_id = %s",
                     (confirmed.confirmed_amount, confirmed.confirmed_workers, pid))
        self._apply_process_snapshot(conn, pid, confirmed.process, event.occurred_at)
        self.timeline(conn, case_id, event, f"承办人重新核定本案合计：{confirmed.confirmed_workers} 人、"
                      f"{confirmed.confirmed_amount} 元（{confirmed.actor}）", actor=confirmed.actor)
        self.refresh(conn, case_id)

    def _on_callback_recorded(self, conn: Conn, event: EventEnvelope, callback: CallbackRecorded) -> None:
        complaint_id = callback.complaint_id
        case_id = self.case_of_complaint(conn, complaint_id) if complaint_id is not None else None
        if case_id is None:
            return
        conn.execute(
            "UPDATE complaints SET satisfaction = %s, called_back_at = %s, stage = 'done' WHERE complaint_id = %s",
            (callback.satisfaction, event.occurred_at, complaint_id),
        )
        self.timeline(conn, case_id, event, f"回访投诉 {complaint_id}：{callback.satisfaction}（{callback.actor}）",
                      complaint_id=complaint_id, actor=callback.actor)

    def _on_inspector_assigned(self, conn: Conn, event: EventEnvelope, assigned: InspectorAssigned) -> None:
        case_id = self.resolve_alias(conn, assigned.case_id)
        conn.execute("UPDATE ledger SET assigned_inspector = %s, updated_at = now() WHERE case_id = %s",
                     (assigned.inspector, case_id))
        self.timeline(conn, case_id, event, f"指定承办人 {assigned.inspector}（{assigned.actor}）", actor=assigned.actor)

    def _on_parties_recorded(self, conn: Conn, event: EventEnvelope, parties: PartiesRecorded) -> None:
        case_id = self.resolve_alias(conn, parties.case_id)
        conn.execute("UPDATE ledger SET contractors = %s, updated_at = now() WHERE case_id = %s",
                     (Jsonb(to_jsonable_python(parties.contractors)), case_id))
        names = "、".join(f"{c.role}:{c.name}" for c in parties.contractors) or "无"
        self.timeline(conn, case_id, event, f"记录相关单位：{names}（{parties.actor}）", actor=parties.actor)

    # --- the workflows' own reports ---------------------------------------------------------------------------

    def _on_process_reported(self, conn: Conn, event: EventEnvelope, report: ProcessReported) -> None:
        newest = process_state.keep_latest(conn, report)
        if report.complaint_id is not None:
            case_id = self.case_of_complaint(conn, report.complaint_id)
            if case_id is None:
                return  # applied when intake's event brings the complaint's row
        else:
            assert report.process_case_id is not None
            pid = report.process_case_id
            case_id = self.case_of_process(conn, pid)
            ledger = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
            if ledger is None:
                return  # a case workflow the ledger has no complaint of (applied when one arrives)
            self.ensure_process(conn, pid, report.at, ledger["county"])
            if newest:
                self._case_reported(conn, pid, case_id, ledger["county"], report)
        if report.changes:
            self.timeline(conn, case_id, event, process_state.summary(report), complaint_id=report.complaint_id,
                          detail={"seq": report.seq, "changes": report.changes})
        self.refresh(conn, case_id)

    def _case_reported(self, conn: Conn, pid: str, case_id: str, county: str, report: ProcessReported) -> None:
        """The parts of a case's report that are history rather than state: when each stage was reached, the
        closure, and the facts the reports count."""
        snapshot = report.snapshot
        self._reach_stage(conn, pid, snapshot.stage, report.at)
        if snapshot.status != "open":
            self._process_closed(conn, pid, snapshot.closure_reason, report.at)
        if "police" in snapshot.referrals:
            self.fact(conn, "criminal_referral", pid, case_id, county, snapshot.referrals["police"], report.at)
        if any(d.name.startswith("handoff.response") and d.outcome == "expired" for d in snapshot.deadlines):
            self.fact(conn, "handoff_overdue", pid, case_id, county, None, report.at)

    # --- merge and split ----------------------------------------------------------------------------------

    def _on_case_merged(self, conn: Conn, event: EventEnvelope, merge: CaseMerged) -> None:
        merge = with_agency_texts(conn, event, merge)
        survivor = self.resolve_alias(conn, merge.case_id)
        merged = merge.merged_case_id
        row = conn.execute("SELECT merged_into FROM ledger WHERE case_id = %s", (merged,)).fetchone()
        if row is None or row["merged_into"] is not None or survivor == merged:
            return
        for table in ("complaints", "processes", "payments", "case_facts", "timeline"):
            conn.execute(f"UPDATE {table} SET case_id = %s WHERE case_id = %s", (survivor, merged))
        if merge.into_process_case_id and merge.processes_merged:
            # Their complaints now follow the surviving process (the merged processes close as merged).
            conn.execute("UPDATE complaints SET process_case_id = %s WHERE process_case_id = ANY(%s)",
                         (merge.into_process_case_id, merge.processes_merged))
        conn.execute("UPDATE case_aliases SET case_id = %s WHERE case_id = %s", (survivor, merged))
        conn.execute("INSERT INTO case_aliases (alias, case_id, created_at) VALUES (%s, %s, %s) "
                     "ON CONFLICT (alias) DO UPDATE SET case_id = EXCLUDED.case_id",
                     (merged, survivor, event.occurred_at))
        conn.execute(
            "UPDATE ledger SET merged_into = %s, status = 'merged', next_deadline = NULL, updated_at = now() "
            "WHERE case_id = %s", (survivor, merged),
        )
        conn.execute(
            "UPDATE ledger SET contractors = (SELECT coalesce(jsonb_agg(DISTINCT c), '[]') FROM ("
            "SELECT jsonb_array_elements(contractors) c FROM ledger WHERE case_id IN (%s, %s)) x) WHERE case_id = %s",
            (survivor, merged, survivor),
        )
        self.timeline(conn, survivor, event, f"案件 {merged} 并入本案（{merge.actor}）：{merge.reason}", actor=merge.actor)
        self.refresh(conn, survivor)

    def _on_case_split(self, conn: Conn, event: EventEnvelope, split: CaseSplit) -> None:
        split = with_agency_texts(conn, event, split)
        source = self.resolve_alias(conn, split.case_id)
        new_case = split.new_case_id
        if conn.execute("SELECT 1 FROM ledger WHERE case_id = %s", (new_case,)).fetchone():
            return
        conn.execute(
            "INSERT INTO ledger (case_id, county, city, employer_ref, employer_name, employer_credit_code, "
            "contractors, project_ref, project_name, stage, status, received_at, split_from) "
            "SELECT %s, county, city, employer_ref, employer_name, employer_credit_code, contractors, project_ref, "
            "project_name, stage, status, received_at, case_id FROM ledger WHERE case_id = %s",
            (new_case, source),
        )
        moved = conn.execute(
            "UPDATE complaints SET case_id = %s WHERE case_id = %s AND complaint_id = ANY(%s)",
            (new_case, source, split.complaint_ids),
        ).rowcount
        if not moved:
            conn.execute("DELETE FROM ledger WHERE case_id = %s", (new_case,))
            return
        summary = f"拆分：投诉 {'、'.join(split.complaint_ids)} 另立案件 {new_case}（{split.actor}）：{split.reason}"
        self.timeline(conn, source, event, summary, actor=split.actor)
        conn.execute(
            "INSERT INTO timeline (case_id, event_id, at, type, producer, actor, summary) "
            "VALUES (%s, gen_random_uuid(), %s, %s, 'cases', %s, %s)",
            (new_case, event.occurred_at, event.type, split.actor, f"自案件 {source} 拆分设立：{split.reason}"),
        )
        self.refresh(conn, source)
        self.refresh(conn, new_case)

    # --- the department directory ----------------------------------------------------------------------

    @staticmethod
    def _departments_configured(conn: Conn, event: EventEnvelope, directory: DepartmentsConfigured) -> None:
        """The whole directory, replacing the previous one (an older configuration arriving late does not
        overwrite a newer one)."""
        newest = conn.execute("SELECT max(updated_at) AS at FROM department_directory").fetchone()
        if newest is not None and newest["at"] is not None and newest["at"] > event.occurred_at:
            return
        conn.execute("DELETE FROM department_directory")
        for entry in directory.departments:
            conn.execute(
                "INSERT INTO department_directory (department, name, kind, county, takes_handoffs, config_sha256, "
                "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (entry.id, entry.name, entry.kind, entry.county, entry.takes_handoffs, directory.config_sha256,
                 event.occurred_at),
            )

    # --- other services ------------------------------------------------------------------------------------

    def _on_referral_made(self, conn: Conn, event: EventEnvelope, made: ReferralMade) -> None:
        # A police referral is a criminal referral the reports count.
        self._other_service(conn, event, made,
                            fact="criminal_referral" if made.target is ReferralKind.POLICE else None)

    def _on_handoff_escalated(self, conn: Conn, event: EventEnvelope, escalated: HandoffEscalated) -> None:
        # A rung of the ladder above the handoff letter: the department missed its deadline.
        self._other_service(conn, event, escalated,
                            fact="handoff_overdue" if escalated.kind in LADDER_LETTERS else None)

    def _on_listing_published(self, conn: Conn, event: EventEnvelope, published: ListingPublished) -> None:
        # An employer is on the blacklist once its listing is published (a decision not to list publishes
        # nothing).
        self._other_service(conn, event, published, fact="blacklist")

    def _other_service(self, conn: Conn, event: EventEnvelope, payload: _AboutACase, fact: str | None = None) -> None:
        """Referrals' and sanctions' events that name a case: the timeline, and the facts the reports count."""
        process_case_id = payload.case_id
        case_id = self.case_of_process(conn, process_case_id)
        ledger = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
        if ledger is None:
            return
        county = getattr(payload, "county", None) or ledger["county"]
        ref = _record_named(payload)
        if fact is not None:
            self.fact(conn, fact, process_case_id, case_id, county, ref, event.occurred_at)
        fields = payload.model_dump(mode="json")
        self.timeline(conn, case_id, event, f"{event.producer}: {event.type}" + (f"（{ref}）" if ref else ""),
                      detail={name: value for name, value in fields.items()
                              if isinstance(value, str | int | float | bool)})

    # --- the ledger row ----------------------------------------------------------------------------------

    @staticmethod
    def refresh(conn: Conn, case_id: str) -> None:
        # What the workflows reported about their own state wins over what any event wrote before it.
        process_state.reapply(conn, case_id)
        complaints = conn.execute("SELECT * FROM complaints WHERE case_id = %s", (case_id,)).fetchall()
        processes = conn.execute("SELECT * FROM processes WHERE case_id = %s", (case_id,)).fetchall()
        if not complaints and not processes:
            return
        paid = conn.execute(
            "SELECT process_case_id, sum(amount) AS amount FROM payments WHERE case_id = %s GROUP BY process_case_id",
            (case_id,),
        ).fetchall()
        recovered = {r["process_case_id"]: r["amount"] for r in paid}
        # A workflow that reports counts its payments itself; its count is the one the ledger shows.
        recovered |= {p["process_case_id"]: p["amount_paid"] for p in processes if p["amount_paid"] is not None}
        s = domain.summarize(complaints, processes, recovered)
        conn.execute(
            "UPDATE ledger SET complaint_count = %s, complainant_count = %s, workers_affected = %s, "
            "amount_claimed = %s, amount_verified = %s, amount_recovered = %s, classification = %s, outcome = %s, "
            "stage = %s, status = %s, closure_reason = %s, closed_at = %s, deadlines = %s, next_deadline = %s, "
            "overdue = %s, stage_times = %s, process_case_ids = %s, received_at = %s, updated_at = now() "
            "WHERE case_id = %s AND merged_into IS NULL",
            (s.complaint_count, s.complainant_count, s.workers_affected, s.amount_claimed, s.amount_verified,
             s.amount_recovered, s.classification, s.outcome, s.stage, s.status, s.closure_reason, s.closed_at,
             Jsonb(_jsonable(s.deadlines)), s.next_deadline, s.overdue, Jsonb(s.stage_times), s.process_case_ids,
             s.received_at, case_id),
        )


def with_agency_texts(conn: Conn, event: EventEnvelope, payload: P) -> P:
    """The payload with the agencies' free text its event leaves out (`AgencyText`), as the action that made it
    kept it in `event_texts`; an event published before carries the text itself and is taken as it is."""
    fields = payload.agency_text_fields()
    if not fields:
        return payload
    row = conn.execute("SELECT texts FROM event_texts WHERE event_id = %s", (event.event_id,)).fetchone()
    if row is None:
        return payload
    return payload.model_copy(update={name: text for name, text in row["texts"].items() if name in fields})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _deadlines(snapshot: ProcessSnapshot) -> list[Any]:
    return to_jsonable_python(snapshot.deadlines)


def _process_of(action: ActionRecorded) -> str:
    """The case process an inspector's action on a case was taken in."""
    if action.process_case_id is None:
        raise PermanentEventError(f"action {action.action_id} on case {action.case_id} names no case process")
    return action.process_case_id


def _record_named(payload: _AboutACase) -> str | None:
    """The record a referrals or sanctions event is about, as the timeline names it: its referral, listing or
    letter."""
    for name in ("referral_id", "listing_id", "letter_id"):
        value = getattr(payload, name, None)
        if value:
            return str(value)
    return None
