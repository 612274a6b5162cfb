"""The ledger's record of a case's payouts from the project's wage deposit or the emergency fund (table
`case_payouts`, and the case's timeline): handlers of the ledger projection's inbox (`projection.py`).

- the monitoring service's payout events, keyed by the case (services/contracts/guarantee_funds.py): the row of
  each payout kept current — requested, approved, refused, paid (amount, workers, date), what the general
  contractor or the employer still owes back, settled, or written off by the city office (the advance never to
  be repaid: nothing owed back any more) — and a timeline line for the steps the case's own events do not tell
  (requested by the service, overdue, the top-ups, the recoveries and a write-off);
- the cases service's own payout events (services/contracts/case_payout_events.py): the inspector's decision,
  with the process right after it, and each outcome as the case recorded it.

A payout pays the workers, not for the employer: nothing here touches the case's `payments` or its amount
recovered. A payout of a case the ledger does not know is left out.
"""

from __future__ import annotations

from decimal import Decimal

from services.cases.projection_records import Conn, LedgerRecords, process_of
from services.contracts.case_payout_events import PayoutDecided, PayoutOutcomeRecorded
from services.contracts.events import EventEnvelope
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
    PayoutSource,
    WriteOffBasis,
)

WRITE_OFF_BASIS_TEXT = {
    WriteOffBasis.EMPLOYER_DEREGISTERED: "用人单位已注销",
    WriteOffBasis.BANKRUPTCY_CLOSED: "破产程序终结",
    WriteOffBasis.ENFORCEMENT_TERMINATED: "终结执行",
}
SOURCE_TEXT = {PayoutSource.DEPOSIT.value: "工资保证金", PayoutSource.EMERGENCY_FUND.value: "应急周转金"}
OUTCOME_TEXT = {"approved": "批准", "refused": "不批准"}

PayoutStep = (
    PayoutOverdue
    | DepositTopUpDemanded
    | DepositTopUpReminded
    | DepositToppedUp
    | FundRecoveryRecorded
    | FundRecoveryReminded
    | FundAdvanceWrittenOff
)


class PayoutRecords(LedgerRecords):
    """The handlers of the payouts' events."""

    def _ledger_case(self, conn: Conn, process_case_id: str) -> str | None:
        case_id = self.case_of_process(conn, process_case_id)
        found = conn.execute("SELECT 1 FROM ledger WHERE case_id = %s", (case_id,)).fetchone()
        return case_id if found else None

    def _on_payout_requested(self, conn: Conn, event: EventEnvelope, requested: PayoutRequested) -> None:
        case_id = self._ledger_case(conn, requested.case_id)
        if case_id is None:
            return
        conn.execute(
            "INSERT INTO case_payouts (payout_id, case_id, process_case_id, county, source, project_id, sequence, "
            "stage, amount_requested, workers_paid, requested_by, requested_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 'requested', %s, %s, %s, %s, %s) ON CONFLICT (payout_id) DO NOTHING",
            (
                requested.payout_id,
                case_id,
                requested.case_id,
                requested.county,
                requested.source.value,
                requested.project_id,
                requested.sequence,
                requested.amount,
                requested.workers_paid,
                requested.requested_by,
                event.occurred_at,
                event.occurred_at,
            ),
        )
        self.timeline(
            conn,
            case_id,
            event,
            f"监测服务受理{SOURCE_TEXT[requested.source.value]}支付申请（{requested.payout_id}，本案第 "
            f"{requested.sequence} 笔），待市根治欠薪办审批",
            actor=requested.requested_by,
            detail={"payout_id": requested.payout_id, "amount": str(requested.amount)},
        )

    def _on_payout_decided(self, conn: Conn, event: EventEnvelope, decided: PayoutDecided) -> None:
        pid = process_of(decided)
        case_id = self.ensure_process(conn, pid, event.occurred_at, decided.county)
        self._apply_process_snapshot(conn, pid, decided.process, event.occurred_at)
        self.timeline(
            conn,
            case_id,
            event,
            f"决定动用{SOURCE_TEXT[decided.source]}向 {decided.workers_paid} 名劳动者支付工资 {decided.amount} 元"
            f"（{decided.actor}，{decided.payout_id}）",
            actor=decided.actor,
            detail={
                "payout_id": decided.payout_id,
                "source": decided.source,
                "amount": str(decided.amount),
                "workers_paid": decided.workers_paid,
                "project_id": decided.project_id,
            },
        )
        self.refresh(conn, case_id)

    def _on_payout_decision(self, conn: Conn, event: EventEnvelope, decision: PayoutApproved | PayoutRefused) -> None:
        stage = "approved" if isinstance(decision, PayoutApproved) else "refused"
        conn.execute(
            "UPDATE case_payouts SET stage = %s, updated_at = %s WHERE payout_id = %s AND stage = 'requested'",
            (stage, event.occurred_at, decision.payout_id),
        )

    def _on_payout_paid(self, conn: Conn, event: EventEnvelope, paid: PayoutPaid) -> None:
        conn.execute(
            "UPDATE case_payouts SET stage = 'paid', amount_paid = %s, workers_paid = %s, paid_on = %s, "
            "owed_back = COALESCE(owed_back, %s), updated_at = %s "
            "WHERE payout_id = %s AND stage IN ('requested', 'approved')",
            (paid.amount, paid.workers_paid, paid.paid_on, paid.amount, event.occurred_at, paid.payout_id),
        )

    def _on_payout_step(self, conn: Conn, event: EventEnvelope, step: PayoutStep) -> None:
        case_id = self._ledger_case(conn, step.case_id)
        if case_id is None:
            return
        source = SOURCE_TEXT[step.source.value]
        owed: Decimal | None = None
        settled = False
        ends_as = "settled"
        match step:
            case PayoutOverdue():
                text = f"{source}支付逾期：银行应于 {step.pay_by} 前向劳动者支付（{step.payout_id}）"
            case DepositTopUpDemanded():
                text = f"责令总承包单位 {step.general_contractor.name} 于 {step.due_date} 前补足工资保证金 {step.amount} 元"
                owed = step.amount
            case DepositTopUpReminded():
                text = f"工资保证金补足逾期，第 {step.reminder} 次催告：尚欠 {step.outstanding} 元"
                owed = step.outstanding
            case DepositToppedUp():
                text = f"总承包单位补足工资保证金 {step.amount} 元，尚欠 {step.outstanding} 元"
                owed, settled = step.outstanding, step.outstanding <= 0
            case FundRecoveryReminded():
                text = f"应急周转金垫付款追偿第 {step.reminder} 次催告：用人单位尚欠 {step.outstanding} 元"
                owed = step.outstanding
            case FundRecoveryRecorded():
                text = f"用人单位归还应急周转金垫付款 {step.amount} 元，尚欠 {step.outstanding} 元"
                owed, settled = step.outstanding, step.repaid
            case FundAdvanceWrittenOff():
                text = (
                    f"市根治欠薪办核销应急周转金垫付款 {step.amount} 元（{WRITE_OFF_BASIS_TEXT[step.basis]}；"
                    f"已收回 {step.recovered} 元），不再向用人单位追偿"
                )
                owed, settled, ends_as = Decimal("0.00"), True, "written_off"
        if owed is not None:
            conn.execute(
                "UPDATE case_payouts SET owed_back = %s, stage = CASE WHEN %s THEN %s::text ELSE stage END, "
                "updated_at = %s WHERE payout_id = %s",
                (owed, settled, ends_as, event.occurred_at, step.payout_id),
            )
        self.timeline(conn, case_id, event, text, detail={"payout_id": step.payout_id})

    def _on_payout_outcome_recorded(self, conn: Conn, event: EventEnvelope, recorded: PayoutOutcomeRecorded) -> None:
        case_id = self._ledger_case(conn, recorded.case_id)
        if case_id is None:
            return
        source = SOURCE_TEXT[recorded.source]
        if recorded.outcome == "paid":
            text = (
                f"{source}已向 {recorded.workers_paid} 名劳动者支付工资 {recorded.amount} 元（{recorded.payout_id}，"
                f"{recorded.paid_on}），记入本案；不视为用人单位支付"
            )
        else:
            text = (
                f"市根治欠薪办{OUTCOME_TEXT[recorded.outcome]}{source}支付 {recorded.amount} 元（{recorded.payout_id}）"
            )
        if not recorded.on_process:
            text += "（案件流程已结束，仅记入台账）"
        self.timeline(
            conn,
            case_id,
            event,
            text,
            detail={"payout_id": recorded.payout_id, "outcome": recorded.outcome, "amount": str(recorded.amount)},
        )
