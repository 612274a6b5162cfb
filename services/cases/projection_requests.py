"""The ledger projection's handlers of the lifecycle's requests (notices, forwardings, orders, compensation
decisions) and of the inspectors' actions, each with the process snapshot taken right after it
(`projection.py` composes them)."""

from __future__ import annotations

from psycopg.types.json import Jsonb
from pydantic_core import to_jsonable_python

from services.cases import action_texts
from services.cases.projection_records import (
    Conn,
    LedgerRecords,
    process_of,
    with_agency_texts,
)
from services.contracts.case_decision_events import (
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    FiguresConfirmed,
)
from services.contracts.case_ledger_events import InspectorAssigned, PartiesRecorded
from services.contracts.cases_events import (
    AcceptanceDecided,
    ActionRecorded,
    CallbackRecorded,
    CaseOpened,
    ClosureRecorded,
    CompensationDecided,
    ComplaintForwarded,
    NoticeRecorded,
    OrderIssued,
    PaymentRecorded,
    ServiceRecorded,
    VerificationRecorded,
)
from services.contracts.events import EventEnvelope


class LifecycleRequests(LedgerRecords):
    # --- the lifecycle's requests -------------------------------------------------------------------------

    def _on_case_opened(self, conn: Conn, event: EventEnvelope, opened: CaseOpened) -> None:
        self.timeline(
            conn,
            self.resolve_alias(conn, opened.case_id),
            event,
            f"立案登记：{opened.employer_name} / {opened.project_name}",
        )

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
                conn.execute(
                    "UPDATE processes SET investigation_overdue = true, overdue = true WHERE process_case_id = %s",
                    (process_case_id,),
                )
            if kind == "handoff.ladder_exhausted":
                row = conn.execute("SELECT county FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
                self.fact(
                    conn,
                    "handoff_overdue",
                    process_case_id,
                    case_id,
                    row["county"] if row else notice.county,
                    notice.notice_id,
                    event.occurred_at,
                )
        else:
            return  # a notice names the complaint or the case it is about
        if case_id is None:
            return
        self.timeline(
            conn,
            case_id,
            event,
            f"通知{notice.office}（{kind}）：{notice.text}",
            complaint_id=notice.complaint_id,
            detail={"kind": kind, "due_at": to_jsonable_python(notice.due_at)},
        )
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
        self.timeline(
            conn,
            case_id,
            event,
            f"投诉 {forwarded.complaint_id} 转送 {forwarded.forward_to}（{forwarded.forwarding_id}）",
            complaint_id=forwarded.complaint_id,
        )
        self.refresh(conn, case_id)

    def _on_order_issued(self, conn: Conn, event: EventEnvelope, order: OrderIssued) -> None:
        case_id = self.ensure_process(conn, order.case_id, event.occurred_at, order.county)
        if order.amends is not None:
            # An amended order (the case grew): the first order stays the process's; the stage is the workflow's.
            self.timeline(
                conn,
                case_id,
                event,
                f"下达补充限期改正指令书 {order.order_id}（补充 {order.amends}）：{order.workers} 人，"
                f"增加 {order.added_amount} 元，尚欠 {order.amount_owed} 元",
            )
            self.refresh(conn, case_id)
            return
        conn.execute("UPDATE processes SET order_id = %s WHERE process_case_id = %s", (order.order_id, order.case_id))
        self._reach_stage(conn, order.case_id, "service", event.occurred_at)
        self.timeline(
            conn,
            case_id,
            event,
            f"下达限期改正指令书 {order.order_id}：{order.workers} 人、{order.amount_owed} 元，"
            f"限 {order.pay_days} 日支付",
        )
        self.refresh(conn, case_id)

    def _on_compensation_decided(self, conn: Conn, event: EventEnvelope, decided: CompensationDecided) -> None:
        case_id = self.ensure_process(conn, decided.case_id, event.occurred_at, decided.county)
        conn.execute(
            "UPDATE processes SET compensation_id = %s WHERE process_case_id = %s",
            (decided.decision_id, decided.case_id),
        )
        self._reach_stage(conn, decided.case_id, "refusal", event.occurred_at)
        self.timeline(
            conn,
            case_id,
            event,
            f"逾期未支付，作出加付赔偿金决定 {decided.decision_id}：{decided.compensation_amount} 元",
        )
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
        row = conn.execute(
            "SELECT case_id, process_case_id, county FROM complaints WHERE complaint_id = %s", (complaint_id,)
        ).fetchone()
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
            self._apply_complaint_snapshot(
                conn,
                complaint_id,
                decided.process.model_copy(update={"stage": stage, "status": status, "closure_reason": reason}),
                at,
            )
        if decision == "accept":
            self.ensure_process(conn, row["process_case_id"], at, row["county"])
        text = {"accept": "受理", "reject": "不予受理", "request_more_info": "要求补正材料", "forward": "转送"}[
            decision
        ]
        self.timeline(
            conn,
            row["case_id"],
            event,
            f"投诉 {complaint_id}：{text}（{decided.actor}）",
            complaint_id=complaint_id,
            actor=decided.actor,
            detail={"decision": decision, "reason": decided.reason, "forward_to": decided.forward_to},
        )
        self.refresh(conn, row["case_id"])

    def _on_verification_recorded(self, conn: Conn, event: EventEnvelope, verified: VerificationRecorded) -> None:
        at = event.occurred_at
        pid = process_of(verified)
        case_id = self.ensure_process(conn, pid, at, verified.county)
        conn.execute(
            "UPDATE processes SET outcome = %s, classification = %s, verified_at = COALESCE(verified_at, %s), "
            "amount_verified = %s, workers_verified = %s WHERE process_case_id = %s",
            (verified.outcome, verified.classification, at, verified.confirmed_amount, verified.confirmed_workers, pid),
        )
        self._apply_process_snapshot(conn, pid, verified.process, at)
        text = f"核实结论：{verified.outcome}"
        if verified.confirmed_amount is not None:
            text += f"，核定 {verified.confirmed_amount} 元"
        self.timeline(
            conn,
            case_id,
            event,
            text + f"（{verified.actor}）",
            actor=verified.actor,
            detail={"outcome": verified.outcome, "department": verified.department},
        )
        self.refresh(conn, case_id)

    def _on_service_recorded(self, conn: Conn, event: EventEnvelope, served: ServiceRecorded) -> None:
        pid = process_of(served)
        case_id = self.ensure_process(conn, pid, event.occurred_at, served.county)
        self._reach_stage(conn, pid, "payment", event.occurred_at)
        self._apply_process_snapshot(conn, pid, served.process, event.occurred_at)
        evidence = "、".join(f"{e.kind}:{e.ref}" for e in served.evidence)
        self.timeline(
            conn,
            case_id,
            event,
            f"限期改正指令书送达（{served.method}），证据：{evidence}（{served.actor}）",
            actor=served.actor,
            detail={"method": served.method, "evidence": to_jsonable_python(served.evidence)},
        )
        self.refresh(conn, case_id)

    def _on_payment_recorded(self, conn: Conn, event: EventEnvelope, payment: PaymentRecorded) -> None:
        pid = process_of(payment)
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
        self.timeline(
            conn,
            case_id,
            event,
            f"记录{what} {payment.amount} 元（{payment.payment_id}，{payment.actor}）",
            actor=payment.actor,
            detail={"amount": str(payment.amount), "evidence": to_jsonable_python(payment.evidence)},
        )
        self.refresh(conn, case_id)

    def _on_extension_requested(self, conn: Conn, event: EventEnvelope, requested: ExtensionRequested) -> None:
        requested = with_agency_texts(conn, event, requested)
        case_id = self._action_case(conn, requested)
        self.timeline(
            conn, case_id, event, f"申请延长办案期限（{requested.actor}）：{requested.reason}", actor=requested.actor
        )

    def _on_extension_approved(self, conn: Conn, event: EventEnvelope, approved: ExtensionApproved) -> None:
        approved = with_agency_texts(conn, event, approved)
        pid = process_of(approved)
        case_id = self.ensure_process(conn, pid, event.occurred_at, approved.county)
        conn.execute("UPDATE processes SET extension_approved = true WHERE process_case_id = %s", (pid,))
        self._apply_process_snapshot(conn, pid, approved.process, event.occurred_at)
        self.timeline(
            conn, case_id, event, f"批准延长办案期限（{approved.actor}）：{approved.reason}", actor=approved.actor
        )
        self.refresh(conn, case_id)

    def _on_extension_refused(self, conn: Conn, event: EventEnvelope, refused: ExtensionRefused) -> None:
        refused = with_agency_texts(conn, event, refused)
        case_id = self._action_case(conn, refused)
        self.timeline(
            conn, case_id, event, f"不予批准延长办案期限（{refused.actor}）：{refused.reason}", actor=refused.actor
        )

    def _on_closure_recorded(self, conn: Conn, event: EventEnvelope, closure: ClosureRecorded) -> None:
        pid = process_of(closure)
        case_id = self.ensure_process(conn, pid, event.occurred_at, closure.county)
        self._apply_process_snapshot(conn, pid, closure.process, event.occurred_at)
        self.timeline(conn, case_id, event, f"结案（{closure.reason}，{closure.actor}）", actor=closure.actor)
        self.refresh(conn, case_id)

    def _on_snapshot_action(self, conn: Conn, event: EventEnvelope, action: ActionRecorded) -> None:
        """An action whose only ledger effect is the process state it carries and its timeline line."""
        pid = process_of(action)
        case_id = self.ensure_process(conn, pid, event.occurred_at, action.county)
        self._apply_process_snapshot(conn, pid, action.process, event.occurred_at)
        summary, detail = action_texts.timeline_line(with_agency_texts(conn, event, action))
        self.timeline(conn, case_id, event, summary, actor=action.actor, detail=detail)
        self.refresh(conn, case_id)

    def _on_figures_confirmed(self, conn: Conn, event: EventEnvelope, confirmed: FiguresConfirmed) -> None:
        pid = process_of(confirmed)
        case_id = self.ensure_process(conn, pid, event.occurred_at, confirmed.county)
        conn.execute(
            "UPDATE processes SET amount_verified = %s, workers_verified = %s WHERE process_case_id = %s",
            (confirmed.confirmed_amount, confirmed.confirmed_workers, pid),
        )
        self._apply_process_snapshot(conn, pid, confirmed.process, event.occurred_at)
        self.timeline(
            conn,
            case_id,
            event,
            f"承办人重新核定本案合计：{confirmed.confirmed_workers} 人、"
            f"{confirmed.confirmed_amount} 元（{confirmed.actor}）",
            actor=confirmed.actor,
        )
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
        self.timeline(
            conn,
            case_id,
            event,
            f"回访投诉 {complaint_id}：{callback.satisfaction}（{callback.actor}）",
            complaint_id=complaint_id,
            actor=callback.actor,
        )

    def _on_inspector_assigned(self, conn: Conn, event: EventEnvelope, assigned: InspectorAssigned) -> None:
        case_id = self.resolve_alias(conn, assigned.case_id)
        conn.execute(
            "UPDATE ledger SET assigned_inspector = %s, updated_at = now() WHERE case_id = %s",
            (assigned.inspector, case_id),
        )
        self.timeline(
            conn, case_id, event, f"指定承办人 {assigned.inspector}（{assigned.actor}）", actor=assigned.actor
        )

    def _on_parties_recorded(self, conn: Conn, event: EventEnvelope, parties: PartiesRecorded) -> None:
        case_id = self.resolve_alias(conn, parties.case_id)
        conn.execute(
            "UPDATE ledger SET contractors = %s, updated_at = now() WHERE case_id = %s",
            (Jsonb(to_jsonable_python(parties.contractors)), case_id),
        )
        names = "、".join(f"{c.role}:{c.name}" for c in parties.contractors) or "无"
        self.timeline(conn, case_id, event, f"记录相关单位：{names}（{parties.actor}）", actor=parties.actor)
