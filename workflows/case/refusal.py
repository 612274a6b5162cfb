"""The refusal stage, after the order's deadline passed unpaid: additional compensation, the criminal
threshold, the police referral and procuratorate request, the sanctions, and payment after refusal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        ClosureReason,
        CompensationRequest,
        DocumentRef,
        ListingGround,
        Office,
        PaymentPurpose,
        PaymentRecord,
        PoliceDecision,
        ReferralKind,
        SanctionKind,
        SanctionRequest,
        WithdrawReferralRequest,
        compensation_amount,
    )
    from services.contracts.lifecycle.activities import (
        decide_additional_compensation,
        mark_for_publication,
        report_correction,
        start_blacklist_procedure,
        withdraw_referral,
    )
    from services.contracts.sanction_rules import ListingCriteriaNotMet, is_major_violation, listing_ground
    from workflows.case.order import PAYMENT_BY_DATE
    from workflows.case.paid_after_refusal import PaidAfterRefusal
    from workflows.core import WaitResult
    from workflows.rules import assess_criminal_threshold


# The blacklist proposal and the publication mark judged by the rules the sanctions service applies
# (services/contracts/sanction_rules.py): no proposal the service would refuse, and large arrears published
# below the criminal threshold too.
SANCTIONS_BY_SHARED_RULES = "2026-11-sanctions-by-shared-rules"
# A criminal referral waits for the case team's report and the bureau head's approval
# (workflows/case/referral_approval.py); the sanctions no longer wait for it.
REFERRAL_BY_APPROVAL = "2026-11-referral-by-approval"
# Wages paid after a criminal referral: the police are told (补充材料函) and decide; the bureau no longer
# withdraws the referral on wages alone.
POLICE_TOLD_OF_PAYMENT = "2026-11-police-told-of-payment"


class RefusalStage(PaidAfterRefusal):
    """Refusal to pay: compensation, threshold, referral, sanctions; then payment or an inspector's closure."""

    async def _refusal(self) -> WaitResult | None:
        cfg = self._config.order
        state = self._state
        if state.compensation_id is None and not self._fully_paid():
            decision_request = CompensationRequest(
                idempotency_key=self._key("compensation"),
                case_id=self._input.case_id,
                county=self._input.county,
                employer_ref=self._input.employer_ref,
                unpaid_amount=self._outstanding(),
                rate=cfg.additional_compensation_rate,
            )
            ref = await self._activity(decide_additional_compensation, decision_request)
            state.compensation_id = ref.id
            state.compensation_amount = compensation_amount(decision_request.unpaid_amount, decision_request.rate)
            rate = int(cfg.additional_compensation_rate * 100)
            self._record("compensation.decided", f"作出加付赔偿金决定（{ref.id}）：按未付金额的 {rate}% 加付")
        if state.threshold is None:
            state.threshold = assess_criminal_threshold(
                state.members.values(),
                self._config.threshold,
                amount_owed=self._amount_owed(),
                amount_paid=self._amount_paid(),
                workers=self._workers(),
            )
            again = "（补充指令书逾期后按全案重新评估）" if self._amended_payment_expired() else ""
            self._record(
                "threshold.assessed", f"数额较大标准（{self._config.province}）{again}：{state.threshold.basis}"
            )
        criminal = state.threshold.reached
        if workflow.patched(REFERRAL_BY_APPROVAL):
            # The sanctions first: they do not wait for the referral's approval, which may take days.
            await self._sanctions_by_rule(criminal)
            referral_to_approve = criminal and "police" not in state.referrals and not self._fully_paid()
            self._report_refusal(referral_to_approve=referral_to_approve)
            if referral_to_approve:
                result = await self._referral_by_approval(state.threshold)
                if result is WaitResult.CONTINUE_AS_NEW:
                    return result
            await self._procuratorate_request(criminal)
        else:
            if criminal and "police" not in state.referrals and not self._fully_paid():
                ref = await self._referral(ReferralKind.POLICE, state.threshold.basis)
                state.referrals["police"] = ref.id
                self._record("referral.police", f"涉嫌拒不支付劳动报酬罪，移送公安机关（{ref.id}）")
            await self._procuratorate_request(criminal)
            if workflow.patched(SANCTIONS_BY_SHARED_RULES):
                await self._sanctions_by_rule(criminal)
            elif criminal or state.mass_incident:
                basis = state.threshold.basis if criminal else "拖欠工资引发群体性事件"
                if state.blacklist_id is None:
                    ref = await self._sanction(start_blacklist_procedure, SanctionKind.BLACKLIST_PROCEDURE, basis)
                    state.blacklist_id = ref.id
                    self._record("blacklist.started", f"启动失信联合惩戒名单程序（{ref.id}）：事先告知")
                if state.publication_id is None:
                    ref = await self._sanction(mark_for_publication, SanctionKind.PUBLICATION, basis)
                    state.publication_id = ref.id
                    self._record("publication.marked", f"列入重大劳动保障违法行为季度公布（{ref.id}）")
            self._report_refusal()

        while True:
            amended = self._amended_payment_pending()
            result = await self._wait(
                lambda: (
                    self._fully_paid()
                    or state.closure_request is not None
                    or bool(self._unreported_payments())
                    or self._incident_unsanctioned()
                    or self._figures_pending()
                ),
                amended,
                settle_when_done=False,
            )
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.EXPIRED:
                # The amended order's time to pay passed unpaid: the refusal steps again, on the whole case.
                self._record(
                    "order.amended_deadline_passed",
                    f"补充限期改正指令书期限届满，仍欠 {self._outstanding()} 元未支付；按全案重新评估",
                )
                state.threshold = None
                return None
            if amended is not None and (self._fully_paid() or state.closure_request is not None):
                self._settle(amended, "met" if self._fully_paid() else "superseded")
            if self._figures_pending():
                # New totals after the refusal: an amended order for the amount added, with its own time to pay.
                if await self._amend_order():
                    if amended is not None:
                        self._supersede(amended)
                    await self._amended_payment_deadline()
                continue
            if self._incident_unsanctioned() and not self._fully_paid():
                return None  # run the stage again: a mass incident reported after refusal starts the sanctions
            for payment in self._unreported_payments():
                # Payment after refusal is still recorded and matters to sanctions (an employer that paid
                # before the listing decision may be left off).
                if state.blacklist_id or state.publication_id:
                    await self._sanction(
                        report_correction,
                        SanctionKind.CORRECTION,
                        f"拒不支付后补发 {payment.amount} 元（{payment.payment_id}）",
                        step=f"correction:{payment.payment_id}",
                        amount=payment.amount,
                    )
                state.corrections_reported.append(payment.payment_id)
            if self._fully_paid():
                await self._review_if_paid_on_time()
                if workflow.patched(POLICE_TOLD_OF_PAYMENT):
                    return await self._paid_after_refusal()
                police_opened = (
                    state.police_decision is not None and state.police_decision.decision is PoliceDecision.CASE_OPENED
                )
                if "police" in state.referrals and not police_opened and not state.police_referral_withdrawn:
                    # Paid in full before the police opened a criminal case: no crime (法释〔2013〕3号 art. 6),
                    # so the referral does not proceed.
                    for target in ("police", "procuratorate"):
                        if target in state.referrals:
                            await self._activity(
                                withdraw_referral,
                                WithdrawReferralRequest(
                                    idempotency_key=self._key(f"withdraw:{target}"),
                                    case_id=self._input.case_id,
                                    referral_id=state.referrals[target],
                                    reason="公安机关立案前已足额支付劳动报酬",
                                ),
                            )
                    state.police_referral_withdrawn = True
                    self._record("referral.withdrawn", "公安机关立案前已足额支付，撤回移送，不再追究刑事责任")
                if police_opened:
                    self._close(ClosureReason.REFERRED_TO_POLICE, "公安机关立案后足额支付，已记录供司法机关参考")
                else:
                    self._close(ClosureReason.PAID_IN_FULL, "逾期后足额支付")
                return None
            if state.closure_request is not None:
                request = state.closure_request
                self._close(
                    request.reason,
                    f"{request.closed_by} 结案" + (f"：{request.notes}" if request.notes else ""),
                )
                return None

    async def _procuratorate_request(self, criminal: bool) -> None:
        """The request for the procuratorate's early involvement (提前介入), once the police are referred."""
        state = self._state
        if (
            criminal
            and self._config.order.request_early_procuratorate
            and "police" in state.referrals
            and "procuratorate" not in state.referrals
            and not state.police_referral_withdrawn
        ):
            ref = await self._referral(ReferralKind.PROCURATORATE, "商请检察机关提前介入")
            state.referrals["procuratorate"] = ref.id
            self._record("referral.procuratorate", f"商请检察机关提前介入（{ref.id}）")

    def _report_refusal(self, *, referral_to_approve: bool = False) -> None:
        """The refusal's consequences, told once to the timeline, the complainants and the search attributes."""
        state = self._state
        if self._is_done("refusal.reported"):
            return
        parts = ["加付赔偿金"] if state.compensation_id else []
        if "police" in state.referrals:
            parts.append("移送公安机关")
        elif referral_to_approve:
            parts.append("报请移送公安机关")
        if state.blacklist_id:
            parts.append("启动失信惩戒程序")
        text = "用人单位逾期未支付，已" + "、".join(parts or ["依法处理"])
        self._record("refusal.escalated", text)
        self._progress("escalated", text)
        self._publish_search_attributes()
        self._mark_done("refusal.reported")

    async def _sanctions_by_rule(self, criminal: bool) -> None:
        """The blacklist procedure when the listing criteria hold now (wages still unpaid, and the threshold
        reached or a mass incident), otherwise a timeline line saying why not; the publication mark when the
        arrears unpaid at the deadline are a major violation (or a mass incident)."""
        state = self._state
        assert state.threshold is not None
        if state.blacklist_id is None:
            try:
                ground = listing_ground(
                    unpaid_amount=self._outstanding(), threshold_reached=criminal, mass_incident=state.mass_incident
                )
            except ListingCriteriaNotMet as exc:
                if (criminal or state.mass_incident) and not self._is_done("blacklist.not_proposed"):
                    self._record("blacklist.not_proposed", f"不启动失信联合惩戒名单程序：{exc}")
                    self._mark_done("blacklist.not_proposed")
            else:
                basis = "拖欠工资引发群体性事件" if ground is ListingGround.MASS_INCIDENT else state.threshold.basis
                ref = await self._sanction(
                    start_blacklist_procedure, SanctionKind.BLACKLIST_PROCEDURE, basis, ground=ground
                )
                state.blacklist_id = ref.id
                self._record("blacklist.started", f"启动失信联合惩戒名单程序（{ref.id}）：事先告知")
        unpaid = self._unpaid_at_refusal()
        major = is_major_violation(
            amount=unpaid,
            referred_to_judiciary=criminal,
            large_arrears=self._config.publication.large_arrears_amount,
        )
        if state.publication_id is None and unpaid > 0 and (major or state.mass_incident):
            basis = (
                state.threshold.basis
                if criminal
                else (
                    "拖欠工资引发群体性事件"
                    if state.mass_incident and not major
                    else f"拖欠工资数额较大（{unpaid} 元）"
                )
            )
            ref = await self._sanction(mark_for_publication, SanctionKind.PUBLICATION, basis, amount=unpaid)
            state.publication_id = ref.id
            self._record("publication.marked", f"列入重大劳动保障违法行为季度公布（{ref.id}）")

    async def _review_if_paid_on_time(self) -> None:
        """Wages recorded as paid after the refusal steps ran, but paid (by the evidence's date) on or before
        the order's deadline: the case counts as paid on time, and the steps already taken go to the inspector
        for review (a decision or referral is withdrawn by people, not by the workflow)."""
        state = self._state
        deadline = state.deadlines.get("order.payment")
        if deadline is None or not self._paid_by(deadline.due_at) or self._is_done("refusal.review"):
            return
        if not workflow.patched(PAYMENT_BY_DATE):
            return
        taken = [
            what
            for what, done in (
                ("加付赔偿金决定", state.compensation_id),
                ("移送公安机关", "police" in state.referrals),
                ("失信联合惩戒名单程序", state.blacklist_id),
                ("重大违法行为公布", state.publication_id),
            )
            if done
        ]
        text = f"支付日期在 {deadline.due_date} 期限内（登记在后），视为按期支付；已采取的措施待复核：" + (
            "、".join(taken) or "无"
        )
        await self._notice(
            Office.INSPECTOR, "refusal.review", f"案件 {self._input.case_id}：{text}", step="refusal.review"
        )
        self._record("refusal.review", text)
        self._mark_done("refusal.review")

    def _unpaid_at_refusal(self) -> Decimal:
        """What was still unpaid when the order's deadline passed, by the payments' dates (later payments do
        not undo the refusal)."""
        deadline = self._state.deadlines.get("order.payment")
        paid = self._amount_paid_by(deadline.due_at) if deadline is not None else Decimal(0)
        return max(self._amount_owed() - paid, Decimal(0))

    def _incident_unsanctioned(self) -> bool:
        return self._state.mass_incident and self._state.blacklist_id is None

    def _unreported_payments(self) -> list[PaymentRecord]:
        """Payments recorded after the deadline passed that the loop has not yet acted on."""
        first = self._state.payments_before_refusal
        if first is None:
            return []
        return [
            p
            for p in self._state.payments[first:]
            if p.purpose is PaymentPurpose.WAGES and p.payment_id not in self._state.corrections_reported
        ]

    async def _sanction(
        self,
        activity: Callable[[SanctionRequest], Awaitable[DocumentRef]],
        kind: SanctionKind,
        basis: str,
        *,
        step: str | None = None,
        amount: Decimal | None = None,
        ground: ListingGround | None = None,
    ) -> DocumentRef:
        return await self._activity(
            activity,
            SanctionRequest(
                idempotency_key=self._key(step or f"sanction:{kind.value}"),
                case_id=self._input.case_id,
                county=self._input.county,
                employer_ref=self._input.employer_ref,
                kind=kind,
                amount=self._outstanding() if amount is None else amount,
                basis=basis,
                ground=ground,
            ),
        )
