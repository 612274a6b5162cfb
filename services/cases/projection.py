"""The ledger projection: applies each event from the stream to the read model (the inbox handler).

It runs inside the inbox transaction of `InboxConsumer`, so an event's effect and its id commit together
and a redelivered event changes nothing. Sources:

- intake's `complaint.submitted` (a complaint joins its case; a new case is opened),
- this service's own events (`services/contracts/cases_events.py`): the lifecycle's requests (notices,
  forwardings, orders, compensation decisions) and the inspectors' actions, each with the process
  snapshot taken right after it,
- referrals' and sanctions' events that name a case (criminal referrals, overdue handoffs, listings).

Every event also becomes a timeline row of its ledger case. Ledger rows are recomputed from their parts
(`complaints`, `processes`, `payments`) after each change, so merges and splits are just regroupings.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services.cases import domain, process_state
from services.common.outbox import add_event
from services.contracts.cases import case_id_for, employer_ref, project_ref
from services.contracts.cases_events import CaseEvents, CaseOpened
from services.contracts.events import EventEnvelope, Topics
from services.contracts.process_reports import ProcessReported

log = logging.getLogger(__name__)

CONSUMER_NAME = "cases-ledger"
TOPICS = [Topics.INTAKE_COMPLAINTS, Topics.CASES, Topics.REFERRALS, Topics.SANCTIONS]

# Letters that mean a department missed its handoff deadline (the rungs above the handoff letter).
LADDER_LETTERS = {"reminder", "supervision", "warning_letter", "accountability_recommendation",
                  "accountability_transfer"}

Conn = psycopg.Connection[Any]


class LedgerProjection:
    """The inbox handler `(conn, envelope) -> None` of the cases worker."""

    def __call__(self, conn: Conn, event: EventEnvelope) -> None:
        if event.producer == "intake" or event.type.startswith("complaint.submitted"):
            if event.type == "complaint.submitted":
                self._complaint_submitted(conn, event)
            return
        if event.producer == "cases":
            handler = getattr(self, "_on_" + event.type.replace(".", "_"), None)
            if handler is not None:
                handler(conn, event)
            return
        if event.producer == "referrals" and event.type == "departments.configured":
            self._departments_configured(conn, event)
        elif event.producer in ("referrals", "sanctions"):
            self._other_service(conn, event)

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

    def _complaint_submitted(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        employer = employer_ref(p.get("employer_credit_code"), p["employer_name_key"])
        project = project_ref(p.get("site_id"), p["county_code"], p["project_name"])
        process_case_id = case_id_for(employer, project)
        case_id = self.resolve_alias(conn, process_case_id)
        submitted_at = datetime.fromisoformat(p["submitted_at"])
        inserted = conn.execute(
            "INSERT INTO complaints (complaint_id, case_id, process_case_id, county, channel, amount_owed, "
            "workers_affected, complainant_ref, submitted_at, deadlines) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (complaint_id) DO NOTHING",
            (p["complaint_id"], case_id, process_case_id, p["county_code"], p.get("channel"),
             Decimal(p["amount_owed"]), int(p["workers_affected"]), p.get("person_ref") or p.get("phone_ref"),
             submitted_at, Jsonb([])),
        ).rowcount
        if not inserted:
            return
        exists = conn.execute("SELECT 1 FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
        if not exists:
            conn.execute(
                "INSERT INTO ledger (case_id, county, city, employer_ref, employer_name, employer_credit_code, "
                "project_ref, project_name, stage, status, received_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'acceptance', 'open', %s)",
                (case_id, p["county_code"], domain.city_of(p["county_code"]), employer, p["employer_name"],
                 p.get("employer_credit_code"), project, p["project_name"], submitted_at),
            )
            opened = CaseOpened(
                case_id=case_id, county=p["county_code"], employer_ref=employer, employer_name=p["employer_name"],
                employer_credit_code=p.get("employer_credit_code"), project_ref=project,
                project_name=p["project_name"], opened_by_complaint=p["complaint_id"],
            )
            add_event(conn, Topics.CASES, EventEnvelope(
                type=CaseEvents.CASE_OPENED, subject=case_id, producer="cases",
                occurred_at=event.occurred_at, payload=opened.model_dump(mode="json"),
            ))
        self.timeline(
            conn, case_id, event,
            f"收到投诉 {p['complaint_id']}：{p['workers_affected']} 人、{p['amount_owed']} 元（渠道 {p.get('channel')}）",
            complaint_id=p["complaint_id"],
            detail={"amount_owed": p["amount_owed"], "workers_affected": p["workers_affected"]},
        )
        self.refresh(conn, case_id)

    def _apply_complaint_snapshot(self, conn: Conn, complaint_id: str, snapshot: dict[str, Any] | None,
                                  at: datetime) -> None:
        if not snapshot:
            return
        conn.execute(
            "UPDATE complaints SET stage = %s, status = CASE WHEN %s = 'open' THEN 'open' ELSE 'closed' END, "
            "overdue = %s, deadlines = %s, snapshot_at = %s, "
            "closure_reason = COALESCE(%s, closure_reason), "
            "closed_at = CASE WHEN %s <> 'open' THEN COALESCE(closed_at, %s) ELSE closed_at END "
            "WHERE complaint_id = %s AND (snapshot_at IS NULL OR snapshot_at <= %s)",
            (snapshot["stage"], snapshot["status"], snapshot.get("overdue", False),
             Jsonb(snapshot.get("deadlines") or []), at, snapshot.get("closure_reason"), snapshot["status"], at,
             complaint_id, at),
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

    def _apply_process_snapshot(self, conn: Conn, process_case_id: str, snapshot: dict[str, Any] | None,
                                at: datetime) -> None:
        if not snapshot:
            return
        row = conn.execute(
            "SELECT status, snapshot_at, case_id, county FROM processes WHERE process_case_id = %s",
            (process_case_id,),
        ).fetchone()
        if row is None or (row["snapshot_at"] is not None and row["snapshot_at"] > at):
            return
        stage = snapshot["stage"]
        conn.execute(
            "UPDATE processes SET stage = %s, status = %s, overdue = %s, deadlines = %s, snapshot_at = %s, "
            "classification = COALESCE(%s, classification), closure_reason = COALESCE(%s, closure_reason), "
            "extension_approved = extension_approved OR %s, "
            "stage_times = CASE WHEN stage_times ? %s THEN stage_times "
            "ELSE stage_times || jsonb_build_object(%s::text, %s::text) END "
            "WHERE process_case_id = %s",
            (stage, "open" if snapshot["status"] == "open" else "closed", snapshot.get("overdue", False),
             Jsonb(snapshot.get("deadlines") or []), at, snapshot.get("classification"),
             snapshot.get("closure_reason"), bool(snapshot.get("extension_approved")), stage, stage,
             at.isoformat(), process_case_id),
        )
        if row["status"] == "open" and snapshot["status"] != "open":
            self._process_closed(conn, process_case_id, snapshot.get("closure_reason"), at)
        referrals = snapshot.get("referrals") or {}
        if "police" in referrals:
            self.fact(conn, "criminal_referral", process_case_id, row["case_id"], row["county"], referrals["police"], at)
        for d in snapshot.get("deadlines") or []:
            if d["name"] == "handoff.response" and d.get("outcome") == "expired":
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

    def _on_case_opened(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        self.timeline(conn, self.resolve_alias(conn, p["case_id"]), event,
                      f"立案登记：{p['employer_name']} / {p['project_name']}")

    def _on_case_notice_recorded(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        kind = p["kind"]
        if p.get("complaint_id"):
            case_id = self.case_of_complaint(conn, p["complaint_id"])
            if kind in ("acceptance.overdue", "callback.overdue"):
                conn.execute("UPDATE complaints SET overdue = true WHERE complaint_id = %s", (p["complaint_id"],))
        else:
            process_case_id = p["case_id"]
            case_id = self.case_of_process(conn, process_case_id)
            if kind == "investigation.overdue":
                conn.execute("UPDATE processes SET investigation_overdue = true, overdue = true "
                             "WHERE process_case_id = %s", (process_case_id,))
            if kind == "handoff.ladder_exhausted":
                row = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
                self.fact(conn, "handoff_overdue", process_case_id, case_id, row["county"] if row else p["county"],
                          p["notice_id"], event.occurred_at)
        if case_id is None:
            return
        self.timeline(conn, case_id, event, f"通知{p['office']}（{kind}）：{p['text']}",
                      complaint_id=p.get("complaint_id"), detail={"kind": kind, "due_at": p.get("due_at")})
        self.refresh(conn, case_id)

    def _on_complaint_forwarded(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        case_id = self.case_of_complaint(conn, p["complaint_id"])
        if case_id is None:
            return
        conn.execute(
            "UPDATE complaints SET status = 'closed', stage = 'callback', closure_reason = 'forwarded', "
            "closed_at = COALESCE(closed_at, %s) WHERE complaint_id = %s AND status = 'open'",
            (event.occurred_at, p["complaint_id"]),
        )
        self.timeline(conn, case_id, event, f"投诉 {p['complaint_id']} 转送 {p['forward_to']}（{p['forwarding_id']}）",
                      complaint_id=p["complaint_id"])
        self.refresh(conn, case_id)

    def _on_case_order_issued(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        case_id = self.ensure_process(conn, p["case_id"], event.occurred_at, p["county"])
        conn.execute("UPDATE processes SET order_id = %s WHERE process_case_id = %s", (p["order_id"], p["case_id"]))
        self._reach_stage(conn, p["case_id"], "service", event.occurred_at)
        self.timeline(conn, case_id, event,
                      f"下达限期改正指令书 {p['order_id']}：{p['workers']} 人、{p['amount_owed']} 元，限 {p['pay_days']} 日支付")
        self.refresh(conn, case_id)

    def _on_case_compensation_decided(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        case_id = self.ensure_process(conn, p["case_id"], event.occurred_at, p["county"])
        conn.execute("UPDATE processes SET compensation_id = %s WHERE process_case_id = %s",
                     (p["decision_id"], p["case_id"]))
        self._reach_stage(conn, p["case_id"], "refusal", event.occurred_at)
        self.timeline(conn, case_id, event,
                      f"逾期未支付，作出加付赔偿金决定 {p['decision_id']}：{p['compensation_amount']} 元")
        self.refresh(conn, case_id)

    # --- inspectors' actions ----------------------------------------------------------------------------

    def _action_case(self, conn: Conn, p: dict[str, Any]) -> str:
        if p.get("process_case_id"):
            return self.case_of_process(conn, p["process_case_id"])
        if p.get("complaint_id"):
            return self.case_of_complaint(conn, p["complaint_id"]) or self.resolve_alias(conn, p["case_id"])
        return self.resolve_alias(conn, p["case_id"])

    def _on_complaint_acceptance_decided(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        at = event.occurred_at
        complaint_id = p["complaint_id"]
        row = conn.execute("SELECT case_id, process_case_id, county FROM complaints WHERE complaint_id = %s",
                           (complaint_id,)).fetchone()
        if row is None:
            return
        decision = p["decision"]
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
            (decision, at, p["actor"], stage, status, reason, status, at, complaint_id),
        )
        snapshot = p.get("process")
        if snapshot:
            # The workflow's own deadlines replace the locally computed acceptance period.
            self._apply_complaint_snapshot(conn, complaint_id, {**snapshot, "stage": stage,
                                                                "status": status, "closure_reason": reason}, at)
        if decision == "accept":
            self.ensure_process(conn, row["process_case_id"], at, row["county"])
        text = {"accept": "受理", "reject": "不予受理", "request_more_info": "要求补正材料", "forward": "转送"}[decision]
        self.timeline(conn, row["case_id"], event, f"投诉 {complaint_id}：{text}（{p['actor']}）",
                      complaint_id=complaint_id, actor=p["actor"],
                      detail={"decision": decision, "reason": p.get("reason"), "forward_to": p.get("forward_to")})
        self.refresh(conn, row["case_id"])

    def _on_case_verification_recorded(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        at = event.occurred_at
        pid = p["process_case_id"]
        case_id = self.ensure_process(conn, pid, at, p["county"])
        conn.execute(
            "UPDATE processes SET outcome = %s, classification = %s, verified_at = COALESCE(verified_at, %s), "
            "amount_verified = %s, workers_verified = %s WHERE process_case_id = %s",
            (p["outcome"], p["classification"], at, p.get("confirmed_amount"), p.get("confirmed_workers"), pid),
        )
        self._apply_process_snapshot(conn, pid, p.get("process"), at)
        text = f"核实结论：{p['outcome']}"
        if p.get("confirmed_amount") is not None:
            text += f"，核定 {p['confirmed_amount']} 元"
        self.timeline(conn, case_id, event, text + f"（{p['actor']}）", actor=p["actor"],
                      detail={"outcome": p["outcome"], "department": p.get("department")})
        self.refresh(conn, case_id)

    def _on_case_service_recorded(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        pid = p["process_case_id"]
        case_id = self.ensure_process(conn, pid, event.occurred_at, p["county"])
        self._reach_stage(conn, pid, "payment", event.occurred_at)
        self._apply_process_snapshot(conn, pid, p.get("process"), event.occurred_at)
        evidence = "、".join(f"{e['kind']}:{e['ref']}" for e in p["evidence"])
        self.timeline(conn, case_id, event, f"限期改正指令书送达（{p['method']}），证据：{evidence}（{p['actor']}）",
                      actor=p["actor"], detail={"method": p["method"], "evidence": p["evidence"]})
        self.refresh(conn, case_id)

    def _on_case_payment_recorded(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        pid = p["process_case_id"]
        case_id = self.ensure_process(conn, pid, event.occurred_at, p["county"])
        conn.execute(
            "INSERT INTO payments (process_case_id, payment_id, case_id, amount, recorded_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (pid, p["payment_id"], case_id, Decimal(str(p["amount"])), event.occurred_at),
        )
        self._apply_process_snapshot(conn, pid, p.get("process"), event.occurred_at)
        self.timeline(conn, case_id, event, f"记录支付 {p['amount']} 元（{p['payment_id']}，{p['actor']}）",
                      actor=p["actor"], detail={"amount": str(p["amount"]), "evidence": p.get("evidence", [])})
        self.refresh(conn, case_id)

    def _on_case_extension_requested(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        case_id = self._action_case(conn, p)
        self.timeline(conn, case_id, event, f"申请延长办案期限（{p['actor']}）：{p['reason']}", actor=p["actor"])

    def _on_case_extension_approved(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        pid = p["process_case_id"]
        case_id = self.ensure_process(conn, pid, event.occurred_at, p["county"])
        conn.execute("UPDATE processes SET extension_approved = true WHERE process_case_id = %s", (pid,))
        self._apply_process_snapshot(conn, pid, p.get("process"), event.occurred_at)
        self.timeline(conn, case_id, event, f"批准延长办案期限（{p['actor']}）：{p['reason']}", actor=p["actor"])
        self.refresh(conn, case_id)

    def _on_case_closure_recorded(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        pid = p["process_case_id"]
        case_id = self.ensure_process(conn, pid, event.occurred_at, p["county"])
        self._apply_process_snapshot(conn, pid, p.get("process"), event.occurred_at)
        self.timeline(conn, case_id, event, f"结案（{p['reason']}，{p['actor']}）", actor=p["actor"])
        self.refresh(conn, case_id)

    def _on_complaint_callback_recorded(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        case_id = self.case_of_complaint(conn, p["complaint_id"])
        if case_id is None:
            return
        conn.execute(
            "UPDATE complaints SET satisfaction = %s, called_back_at = %s, stage = 'done' WHERE complaint_id = %s",
            (p["satisfaction"], event.occurred_at, p["complaint_id"]),
        )
        self.timeline(conn, case_id, event, f"回访投诉 {p['complaint_id']}：{p['satisfaction']}（{p['actor']}）",
                      complaint_id=p["complaint_id"], actor=p["actor"])

    def _on_case_inspector_assigned(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        case_id = self.resolve_alias(conn, p["case_id"])
        conn.execute("UPDATE ledger SET assigned_inspector = %s, updated_at = now() WHERE case_id = %s",
                     (p["inspector"], case_id))
        self.timeline(conn, case_id, event, f"指定承办人 {p['inspector']}（{p['actor']}）", actor=p["actor"])

    def _on_case_parties_recorded(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        case_id = self.resolve_alias(conn, p["case_id"])
        conn.execute("UPDATE ledger SET contractors = %s, updated_at = now() WHERE case_id = %s",
                     (Jsonb(p["contractors"]), case_id))
        names = "、".join(f"{c['role']}:{c['name']}" for c in p["contractors"]) or "无"
        self.timeline(conn, case_id, event, f"记录相关单位：{names}（{p['actor']}）", actor=p["actor"])

    # --- the workflows' own reports ---------------------------------------------------------------------------

    def _on_process_reported(self, conn: Conn, event: EventEnvelope) -> None:
        report = ProcessReported.model_validate(event.payload)
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

    def _on_case_merged(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        survivor = self.resolve_alias(conn, p["case_id"])
        merged = p["merged_case_id"]
        row = conn.execute("SELECT merged_into FROM ledger WHERE case_id = %s", (merged,)).fetchone()
        if row is None or row["merged_into"] is not None or survivor == merged:
            return
        for table in ("complaints", "processes", "payments", "case_facts", "timeline"):
            conn.execute(f"UPDATE {table} SET case_id = %s WHERE case_id = %s", (survivor, merged))
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
        self.timeline(conn, survivor, event, f"案件 {merged} 并入本案（{p['actor']}）：{p['reason']}", actor=p["actor"])
        self.refresh(conn, survivor)

    def _on_case_split(self, conn: Conn, event: EventEnvelope) -> None:
        p = event.payload
        source = self.resolve_alias(conn, p["case_id"])
        new_case = p["new_case_id"]
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
            (new_case, source, p["complaint_ids"]),
        ).rowcount
        if not moved:
            conn.execute("DELETE FROM ledger WHERE case_id = %s", (new_case,))
            return
        summary = f"拆分：投诉 {'、'.join(p['complaint_ids'])} 另立案件 {new_case}（{p['actor']}）：{p['reason']}"
        self.timeline(conn, source, event, summary, actor=p["actor"])
        conn.execute(
            "INSERT INTO timeline (case_id, event_id, at, type, producer, actor, summary) "
            "VALUES (%s, gen_random_uuid(), %s, %s, 'cases', %s, %s)",
            (new_case, event.occurred_at, event.type, p["actor"], f"自案件 {source} 拆分设立：{p['reason']}"),
        )
        self.refresh(conn, source)
        self.refresh(conn, new_case)

    # --- the department directory ----------------------------------------------------------------------

    @staticmethod
    def _departments_configured(conn: Conn, event: EventEnvelope) -> None:
        """services/contracts/referrals_events.py `DepartmentsConfigured`: the whole directory, replacing the
        previous one (an older configuration arriving late does not overwrite a newer one)."""
        p = event.payload
        newest = conn.execute("SELECT max(updated_at) AS at FROM department_directory").fetchone()
        if newest is not None and newest["at"] is not None and newest["at"] > event.occurred_at:
            return
        conn.execute("DELETE FROM department_directory")
        for entry in p["departments"]:
            conn.execute(
                "INSERT INTO department_directory (department, name, kind, county, takes_handoffs, config_sha256, "
                "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (entry["id"], entry["name"], entry["kind"], entry.get("county"), entry["takes_handoffs"],
                 p["config_sha256"], event.occurred_at),
            )

    # --- other services ------------------------------------------------------------------------------------

    def _other_service(self, conn: Conn, event: EventEnvelope) -> None:
        """Referrals' and sanctions' events that name a case: the facts reports count, and the timeline."""
        p = event.payload
        process_case_id = p.get("case_id")
        if not isinstance(process_case_id, str):
            return
        case_id = self.case_of_process(conn, process_case_id)
        ledger = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
        if ledger is None:
            return
        county = p.get("county") or ledger["county"]
        ref = next((str(p[k]) for k in ("referral_id", "listing_id", "letter_id", "procedure_id", "id") if p.get(k)), None)
        kind = str(p.get("kind") or "")
        etype = event.type
        if event.producer == "referrals":
            # services/contracts/referrals_events.py: a police referral made; a rung of the overdue ladder.
            if etype == "referral.made" and p.get("target") == "police":
                self.fact(conn, "criminal_referral", process_case_id, case_id, county, ref, event.occurred_at)
            if etype == "handoff.escalated" and kind in LADDER_LETTERS:
                self.fact(conn, "handoff_overdue", process_case_id, case_id, county, ref, event.occurred_at)
        elif event.producer == "sanctions" and etype == "listing.published":
            # services/contracts/sanctions_events.py: an employer is on the blacklist once its listing is
            # published (a decision not to list publishes nothing).
            self.fact(conn, "blacklist", process_case_id, case_id, county, ref, event.occurred_at)
        self.timeline(conn, case_id, event, f"{event.producer}: {etype}" + (f"（{ref}）" if ref else ""),
                      detail={k: v for k, v in p.items() if isinstance(v, str | int | float | bool) and k != "basis"})

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
