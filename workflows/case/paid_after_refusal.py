"""Wages paid in full after the refusal, and a standing criminal referral: the police are told (补充材料函)
and decide; the bureau withdraws the referral only on a proposal its head approves, once the wages *and* the
additional compensation are paid (法释〔2013〕3号 art. 6 conditions leniency on both, and leaves it to the police
and the prosecutors; the withdrawal is the bureau taking back its own referral before they decided). The
police's decision is recorded here (`record_police_decision`), and in the refusal stage the inspector closes the
case (`close_case`: referred to the police, an administrative decision, or paid in full)."""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        CaseStage,
        CaseStatus,
        ClosureReason,
        ClosureRequest,
        Office,
        PaymentRecord,
        PoliceDecision,
        PoliceDecisionRecord,
        ReferralSupplementRequest,
        ReferralWithdrawal,
        ReferralWithdrawalDecision,
        ReferralWithdrawalProposal,
        Status,
        Updates,
        WithdrawReferralRequest,
    )
    from services.contracts.lifecycle.activities import send_referral_supplement, withdraw_referral
    from workflows.base import refuse
    from workflows.case.referral_approval import ReferralApprovalStage
    from workflows.core import WaitResult
    from workflows.texts import CLOSURE_TEXT


class PaidAfterRefusal(ReferralApprovalStage):
    """After the refusal: the police told of a late payment, the proposed withdrawal of the referral, the police's
    decision and the inspector's closure."""

    async def _paid_after_refusal(self) -> WaitResult | None:
        """Wages paid in full after the refusal. A standing criminal referral is not withdrawn by the bureau:
        the police are sent the payment's evidence (补充材料函) and decide (法释〔2013〕3号 art. 6 leaves
        leniency to them and the prosecutors, and asks for the compensation too, which stays due). The case
        then waits for the police's decision (or an inspector's closure); a declined referral stays declined."""
        state = self._state
        police_standing = "police" in state.referrals and not state.police_referral_withdrawn
        declined = state.police_decision is not None and state.police_decision.decision is PoliceDecision.DECLINED
        if police_standing and not declined and not self._is_done("referral.supplemented"):
            late = self._payments_after_deadline()
            ref = await self._activity(
                send_referral_supplement,
                ReferralSupplementRequest(
                    idempotency_key=self._key("referral.supplement"),
                    case_id=self._input.case_id,
                    referral_id=state.referrals["police"],
                    amount_paid=sum((p.amount for p in late), Decimal(0)),
                    payment_ids=[p.payment_id for p in late],
                    evidence=[e for p in late for e in p.evidence],
                ),
            )
            self._record(
                "referral.supplemented",
                f"逾期后已足额支付劳动报酬：向公安机关发送补充材料函（{ref.id}），附支付凭证；"
                "加付赔偿金仍应支付，是否立案由公安机关依法决定",
            )
            self._mark_done("referral.supplemented")
        while police_standing and state.police_decision is None and not self._withdrawal_approved():
            result = await self._wait(
                lambda: (
                    state.police_decision is not None
                    or state.closure_request is not None
                    or self._withdrawal_approved()
                    or self._withdrawal_unannounced()
                ),
                None,
            )
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if self._withdrawal_unannounced():
                await self._announce_withdrawal_proposal()
                continue
            break
        if self._withdrawal_approved() and state.police_decision is None and not state.police_referral_withdrawn:
            await self._withdraw_referrals("劳动报酬及加付赔偿金已付清，经本局负责人批准撤回移送")
            self._close(ClosureReason.PAID_IN_FULL, "逾期后足额支付工资及加付赔偿金；经批准撤回移送")
        elif state.closure_request is not None and state.police_decision is None:
            request = state.closure_request
            self._close(
                request.reason,
                f"{request.closed_by} 结案（工资已足额支付）" + (f"：{request.notes}" if request.notes else ""),
            )
        elif state.police_decision is not None and state.police_decision.decision is PoliceDecision.CASE_OPENED:
            self._close(ClosureReason.REFERRED_TO_POLICE, "公安机关立案；逾期后已足额支付，已告知公安机关")
        elif state.police_decision is not None:
            self._close(ClosureReason.PAID_IN_FULL, "逾期后足额支付；公安机关不予立案")
        else:
            self._close(ClosureReason.PAID_IN_FULL, "逾期后足额支付")
        return None

    def _payments_after_deadline(self) -> list[PaymentRecord]:
        """The payments made after the order's deadline, by their dates."""
        deadline = self._state.deadlines.get("order.payment")
        dates = self._state.payment_dates
        return [
            p
            for p in self._state.payments
            if deadline is None or dates.get(p.payment_id, deadline.due_at) > deadline.due_at
        ] or self._state.payments[-1:]

    # --- the proposed withdrawal of the police referral (updates of the case workflow) ----------------------

    @workflow.update(name=Updates.PROPOSE_REFERRAL_WITHDRAWAL)
    def propose_referral_withdrawal(self, proposal: ReferralWithdrawalProposal) -> CaseStatus:
        self._state.referral_withdrawal = ReferralWithdrawal(proposal=proposal, proposed_at=self._legal_now())
        self._record(
            "referral.withdrawal_proposed",
            f"{proposal.proposed_by} 报请撤回移送（工资及加付赔偿金已付清）：{proposal.reason}，待本局负责人审批",
        )
        return self._status()

    @propose_referral_withdrawal.validator
    def _validate_withdrawal_proposal(self, proposal: ReferralWithdrawalProposal) -> None:
        state = self._state
        if state.status is not Status.OPEN or state.stage is not CaseStage.REFUSAL:
            raise refuse("只有逾期未支付、尚未结案的案件才能报请撤回移送 (only an open case past its refusal can)")
        if "police" not in state.referrals or state.police_referral_withdrawn:
            raise refuse("本案没有有效的移送公安记录 (the case has no standing criminal referral)")
        if state.police_decision is not None:
            raise refuse("公安机关已作出决定，不能撤回移送 (the police have decided; the referral is theirs now)")
        pending = state.referral_withdrawal
        if pending is not None and pending.decision is None:
            raise refuse("撤回移送的报请待审批 (a proposed withdrawal awaits the bureau head)")
        if not self._fully_paid():
            raise refuse(f"尚欠工资 {self._outstanding()} 元 (wages of {self._outstanding()} yuan are unpaid)")
        due = self._compensation_due() or Decimal(0)
        if self._compensation_paid() < due:
            unpaid = due - self._compensation_paid()
            raise refuse(f"加付赔偿金尚欠 {unpaid} 元 (the additional compensation has {unpaid} yuan unpaid)")

    @workflow.update(name=Updates.DECIDE_REFERRAL_WITHDRAWAL)
    def decide_referral_withdrawal(self, decision: ReferralWithdrawalDecision) -> CaseStatus:
        withdrawal = self._state.referral_withdrawal
        assert withdrawal is not None  # the validator's condition
        withdrawal.decision, withdrawal.decided_at = decision, self._legal_now()
        if decision.approved:
            self._record("referral.withdrawal_approved", f"本局负责人（{decision.decided_by}）批准撤回移送")
        else:
            self._record(
                "referral.withdrawal_refused", f"本局负责人（{decision.decided_by}）不批准撤回移送：{decision.reason}"
            )
        return self._status()

    @decide_referral_withdrawal.validator
    def _validate_withdrawal_decision(self, decision: ReferralWithdrawalDecision) -> None:
        withdrawal = self._state.referral_withdrawal
        if withdrawal is None or withdrawal.decision is not None:
            raise refuse("没有待审批的撤回移送报请 (no proposed withdrawal awaits a decision)")
        if decision.decided_by == withdrawal.proposal.proposed_by:
            raise refuse("报请人不能审批本人的报请 (the proposer cannot decide on their own proposal)")
        if self._state.police_decision is not None:
            raise refuse("公安机关已作出决定 (the police have decided meanwhile)")

    def _withdrawal_approved(self) -> bool:
        withdrawal = self._state.referral_withdrawal
        return withdrawal is not None and withdrawal.decision is not None and withdrawal.decision.approved

    def _withdrawal_unannounced(self) -> bool:
        withdrawal = self._state.referral_withdrawal
        return (
            withdrawal is not None
            and withdrawal.decision is None
            and not self._is_done(f"referral.withdrawal_proposed@{withdrawal.proposed_at.isoformat()}")
        )

    async def _announce_withdrawal_proposal(self) -> None:
        withdrawal = self._state.referral_withdrawal
        assert withdrawal is not None
        step = f"referral.withdrawal_proposed@{withdrawal.proposed_at.isoformat()}"
        await self._notice(
            Office.BUREAU_HEAD,
            "referral.withdrawal_proposed",
            f"案件 {self._input.case_id}：报请撤回移送公安机关（工资及加付赔偿金已付清），请审批",
            step=step,
        )
        self._mark_done(step)

    async def _withdraw_referrals(self, reason: str) -> None:
        """Withdraw the police referral and the procuratorate request, each once."""
        state = self._state
        for target in ("police", "procuratorate"):
            if target in state.referrals:
                await self._activity(
                    withdraw_referral,
                    WithdrawReferralRequest(
                        idempotency_key=self._key(f"withdraw:{target}"),
                        case_id=self._input.case_id,
                        referral_id=state.referrals[target],
                        reason=reason,
                    ),
                )
        state.police_referral_withdrawn = True
        self._record("referral.withdrawn", reason)

    # --- the police's decision and the inspector's closure (updates) ----------------------------------------

    @workflow.update(name=Updates.RECORD_POLICE_DECISION)
    def record_police_decision(self, record: PoliceDecisionRecord) -> CaseStatus:
        self._state.police_decision = record
        text = "公安机关已立案" if record.decision is PoliceDecision.CASE_OPENED else "公安机关决定不予立案"
        self._record("police.decision", text + (f"（{record.police_ref}）" if record.police_ref else ""))
        return self._status()

    @record_police_decision.validator
    def _validate_police_decision(self, record: PoliceDecisionRecord) -> None:
        self._require_stage("记录公安机关决定", CaseStage.REFUSAL)
        if "police" not in self._state.referrals or self._state.police_referral_withdrawn:
            raise refuse("本案没有有效的移送公安记录 (the case has no standing criminal referral)")
        if self._state.police_decision is not None:
            raise refuse("公安机关决定已记录 (the police decision is already recorded)")

    @workflow.update(name=Updates.CLOSE_CASE)
    def close_case(self, request: ClosureRequest) -> CaseStatus:
        self._state.closure_request = request
        return self._status()

    @close_case.validator
    def _validate_close(self, request: ClosureRequest) -> None:
        state = self._state
        if state.status is Status.OPEN and state.stage is not CaseStage.REFUSAL:
            raise refuse(
                f"案件 {self._input.case_id} 当前阶段为 {state.stage.value}，按流程自动结案，不能手动结案"
                f" (in stage {state.stage.value} the case closes through its own steps, e.g. the"
                " verification outcome, the department's answer or full payment)"
            )
        self._require_stage("结案", CaseStage.REFUSAL)
        if state.closure_request is not None:
            raise refuse("结案申请已提交 (closure is already requested)")
        if request.reason is ClosureReason.REFERRED_TO_POLICE:
            if "police" not in state.referrals or state.police_referral_withdrawn:
                raise refuse("本案未移送公安机关 (the case was not referred to the police)")
        elif request.reason is ClosureReason.ADMINISTRATIVE_DECISION:
            if state.compensation_id is None:
                raise refuse("尚未作出行政处理决定 (no administrative decision has been made)")
        elif request.reason is ClosureReason.PAID_IN_FULL:
            if not self._fully_paid():
                raise refuse(
                    f"尚欠 {self._outstanding()} 元，不能以足额支付结案 ({self._outstanding()} yuan outstanding)"
                )
        else:
            raise refuse(
                f"逾期未支付的案件不能以「{CLOSURE_TEXT[request.reason]}」结案"
                f" (reason {request.reason.value} is not possible after refusal to pay)"
            )
