"""Paying the case's workers from the project's wage deposit or the county's emergency fund, once the employer
let the order's deadline pass unpaid (services/contracts/case_payouts.py; docs/process.md).

The inspector's decision (the Update `decide_payout`) asks the monitoring service for the payout through its
activity `monitoring.request_payout`, inside the Update: the inspector's answer says whether the service took
the request, and a request it refuses for good (`PayoutRequestRefused`) refuses the decision with its reason,
leaving nothing recorded. The city office's approval or refusal and the bank's payment come back as the Update
`record_payout_outcome`, from the cases service reading the monitoring service's events.

A payout pays the workers; the employer still owes the money (to the deposit or the fund). So nothing here
touches the employer's payments: the refusal stage's referral, sanctions and closure go on as they were, judged
on what the employer paid. A payout only limits what a further payout may ask for (the wages no payout covers).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.contracts.case_payouts import (
        CasePayout,
        CasePayoutMessages,
        CasePayouts,
        PayoutDecision,
        PayoutOutcome,
        PayoutOutcomeKind,
    )
    from services.contracts.guarantee_funds import (
        PAYOUT_REQUEST_REFUSED,
        REQUEST_PAYOUT_ACTIVITY,
        PayoutAccepted,
        PayoutRequest,
        PayoutSource,
        PayoutStage,
    )
    from services.contracts.lifecycle import CaseStage, CaseStatus, Status, TaskQueues
    from workflows.base import refuse
    from workflows.case.closure import CaseClosure

# The case asks for payouts from the deposit or the emergency fund (this module). The Update is new, so no
# earlier history has it; the marker names the histories that asked for a payout.
CASE_PAYOUTS = "2026-12-case-payouts"

SOURCE_TEXT = {PayoutSource.DEPOSIT: "动用工资保证金", PayoutSource.EMERGENCY_FUND: "应急周转金先行垫付"}

# The request is retried while the monitoring service does not answer, for as long as an inspector may wait
# for the answer; after that the decision is refused and may be made again (the same decision id asks once).
REQUEST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=[PAYOUT_REQUEST_REFUSED],
)
REQUEST_PATIENCE = timedelta(minutes=5)

# How far each outcome takes a payout: an outcome at or behind where it stands changes nothing.
_ORDER = {
    PayoutStage.REQUESTED: 0,
    PayoutStage.APPROVED: 1,
    PayoutStage.REFUSED: 2,
    PayoutStage.PAID: 2,
    PayoutStage.SETTLED: 3,
}
_STAGE_OF = {
    PayoutOutcomeKind.APPROVED: PayoutStage.APPROVED,
    PayoutOutcomeKind.REFUSED: PayoutStage.REFUSED,
    PayoutOutcomeKind.PAID: PayoutStage.PAID,
}


class GuaranteePayouts(CaseClosure):
    """The inspector's decision to pay the workers from a deposit or fund, and what became of each payout."""

    # --- sums ----------------------------------------------------------------------------------------------

    def _payouts(self) -> CasePayouts:
        items = list(self._state.payouts)
        paid = [p for p in items if p.stage in (PayoutStage.PAID, PayoutStage.SETTLED)]
        committed = sum((p.amount for p in items if p.stage is not PayoutStage.REFUSED), Decimal(0))
        return CasePayouts(
            items=items,
            paid_amount=sum((p.amount for p in paid), Decimal(0)),
            workers_paid=sum(p.workers_paid for p in paid),
            committed=committed,
            uncovered=max(self._outstanding() - committed, Decimal(0)),
        )

    def _payout_of_decision(self, decision_id: str) -> CasePayout | None:
        return next((p for p in self._state.payouts if p.decision_id == decision_id), None)

    def _payout_named(self, payout_id: str) -> CasePayout | None:
        return next((p for p in self._state.payouts if p.payout_id == payout_id), None)

    @workflow.query(name=CasePayoutMessages.PAYOUTS)
    def payouts(self) -> CasePayouts:
        return self._payouts()

    # --- the inspector's decision --------------------------------------------------------------------------

    @workflow.update(name=CasePayoutMessages.DECIDE_PAYOUT)
    async def decide_payout(self, decision: PayoutDecision) -> CasePayouts:
        state = self._state
        earlier = self._payout_of_decision(decision.decision_id)
        if earlier is not None:
            # The same decision again (a retried request): the first one's answer.
            await workflow.wait_condition(lambda: earlier.payout_id is not None or earlier not in state.payouts)
            if earlier not in state.payouts:
                raise refuse(
                    "该决定的支付申请未被受理，请重新提交 (the decision's request was not taken; decide again)"
                )
            return self._payouts()
        workflow.patched(CASE_PAYOUTS)
        entry = CasePayout(
            decision_id=decision.decision_id,
            source=decision.source,
            project_id=decision.project_id,
            amount=decision.amount,
            workers_paid=decision.workers_paid,
            decided_by=decision.decided_by,
        )
        # Held while the request is out, so that a second decision meanwhile counts this one's amount.
        state.payouts.append(entry)
        request = PayoutRequest(
            case_id=self._input.case_id,
            county=self._input.county,
            project_id=decision.project_id,
            source=decision.source,
            amount=decision.amount,
            workers_paid=decision.workers_paid,
            requested_by=decision.decided_by,
            idempotency_key=self._key(f"payout:{decision.decision_id}"),
        )
        try:
            accepted = await workflow.execute_activity(
                REQUEST_PAYOUT_ACTIVITY,
                request,
                task_queue=TaskQueues.MONITORING,
                result_type=PayoutAccepted,
                start_to_close_timeout=timedelta(minutes=1),
                schedule_to_close_timeout=REQUEST_PATIENCE,
                retry_policy=REQUEST_RETRY,
            )
        except ActivityError as err:
            state.payouts.remove(entry)
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == PAYOUT_REQUEST_REFUSED:
                raise refuse(f"支付申请未被受理：{cause.message}") from None
            raise refuse(
                "监测服务未能受理支付申请，请稍后以同一决定重试 (the monitoring service did not take the request;"
                " try the same decision again later)"
            ) from None
        entry.payout_id, entry.sequence, entry.stage = accepted.payout_id, accepted.sequence, accepted.stage
        text = (
            f"决定{SOURCE_TEXT[decision.source]}支付 {decision.workers_paid} 名劳动者工资 {decision.amount} 元"
            f"（{decision.decided_by}，{accepted.payout_id}），报市根治欠薪办审批；用人单位的支付义务不变"
        )
        self._record("payout.requested", text)
        self._progress("payout_requested", f"已申请{SOURCE_TEXT[decision.source]}支付工资，待审批")
        return self._payouts()

    @decide_payout.validator
    def _validate_payout_decision(self, decision: PayoutDecision) -> None:
        state = self._state
        earlier = self._payout_of_decision(decision.decision_id)
        if earlier is not None:
            same = (earlier.source, earlier.project_id, earlier.amount, earlier.workers_paid) == (
                decision.source,
                decision.project_id,
                decision.amount,
                decision.workers_paid,
            )
            if not same:
                raise refuse(f"决定 {decision.decision_id} 已用于另一支付申请 (the decision id was used for another)")
            return
        if state.status is not Status.OPEN:
            raise refuse(f"案件 {self._input.case_id} 已结案，不能申请垫付 (the case is closed)")
        if state.stage is not CaseStage.REFUSAL:
            raise refuse(
                f"案件 {self._input.case_id} 当前阶段为 {state.stage.value}，限期改正期满未支付后才能动用工资保证金或"
                f"应急周转金 (the case is in stage {state.stage.value}; a payout needs the order's deadline passed"
                " unpaid: stage refusal)"
            )
        uncovered = self._payouts().uncovered
        if decision.amount > uncovered:
            raise refuse(
                f"申请金额 {decision.amount} 元超过尚未支付且未申请垫付的工资 {uncovered} 元"
                f" (the amount exceeds the {uncovered} yuan of wages unpaid and not covered by a payout)"
            )

    # --- what became of a payout -----------------------------------------------------------------------------

    @workflow.update(name=CasePayoutMessages.RECORD_PAYOUT_OUTCOME)
    def record_payout_outcome(self, outcome: PayoutOutcome) -> CaseStatus:
        entry = self._payout_named(outcome.payout_id)
        assert entry is not None  # the validator's condition
        stage = _STAGE_OF[outcome.outcome]
        if _ORDER[stage] <= _ORDER[entry.stage]:
            return self._status()  # told again, or behind where the payout stands: nothing changes
        entry.stage = stage
        source = SOURCE_TEXT[entry.source]
        if stage is PayoutStage.APPROVED:
            self._record("payout.approved", f"市根治欠薪办批准{source} {outcome.amount} 元（{entry.payout_id}）")
        elif stage is PayoutStage.REFUSED:
            self._record("payout.refused", f"市根治欠薪办不批准{source}（{entry.payout_id}）")
            self._progress("payout_refused", f"{source}的申请未获批准")
        else:
            assert outcome.paid_on is not None and outcome.workers_paid is not None  # the model's rule
            entry.amount, entry.workers_paid, entry.paid_on = outcome.amount, outcome.workers_paid, outcome.paid_on
            text = (
                f"{source}已向 {outcome.workers_paid} 名劳动者支付工资 {outcome.amount} 元（{entry.payout_id}，"
                f"{outcome.paid_on}）；不视为用人单位支付，用人单位仍欠 {self._outstanding()} 元"
            )
            self._record("payout.paid", text)
            self._progress("payout_paid", f"{source}已支付工资 {outcome.amount} 元")
        return self._status()

    @record_payout_outcome.validator
    def _validate_payout_outcome(self, outcome: PayoutOutcome) -> None:
        if self._payout_named(outcome.payout_id) is None:
            raise refuse(f"本案没有支付 {outcome.payout_id} (the case asked for no payout {outcome.payout_id})")
