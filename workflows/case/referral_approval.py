"""The criminal referral by approval (国务院令第310号 art. 5): when the refusal reaches the criminal threshold,
the case team (at least two officers) writes the referral report with the subjective element and its
evidence, and the bureau's head approves or refuses within 3 days. The case team is reminded when its report
is late; the head is reminded, and the supervising office told when the decision lapses. Approval sends the
referral to the police (its letter as before); a refusal is recorded with its reason; wages paid in full (or
the case closed) before the decision make the proposal moot."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        CaseStatus,
        DayUnit,
        Office,
        ReferralApproval,
        ReferralDecisionRecord,
        ReferralKind,
        ReferralReport,
        ThresholdAssessment,
        Updates,
    )
    from workflows.base import refuse
    from workflows.case.growth import CaseGrowth
    from workflows.core import WaitResult
    from workflows.texts import SUBJECTIVE_ELEMENT_TEXT


class Rung(NamedTuple):
    """A deadline of the approval and what happens when it passes: who is told what."""

    name: str
    start: datetime
    amount: int
    unit: DayUnit
    office: Office
    text: str


class ReferralApprovalStage(CaseGrowth):
    """The referral proposal, its report and its decision, inside the refusal stage."""

    async def _referral_by_approval(self, threshold: ThresholdAssessment) -> WaitResult | None:
        state = self._state
        if state.referral_approval is None:
            state.referral_approval = ReferralApproval(proposed_at=self._legal_now())
            text = "达到数额较大标准，涉嫌拒不支付劳动报酬罪：由办案组（至少两名执法人员）提交移送报告，报本局负责人批准后移送公安机关"
            self._record("referral.proposed", text)
            await self._notice(
                Office.INSPECTOR,
                "referral.report_requested",
                f"案件 {self._input.case_id}：{text}",
                step="referral.report_requested",
            )
        approval = state.referral_approval
        while approval.outcome in ("awaiting_report", "awaiting_decision"):
            if self._fully_paid() or state.closure_request is not None:
                approval.outcome = "moot"
                why = "工资已足额支付" if self._fully_paid() else "案件已由承办人结案"
                self._record("referral.moot", f"移送审批完成前{why}，不再报请移送")
                break
            result = await self._await_approval_step(approval)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if self._figures_pending() and await self._amend_order():
                # The case grew while the referral awaits approval: the amended order goes out now; its time to
                # pay is followed once the approval is done.
                await self._amended_payment_deadline()
        if approval.outcome == "approved" and "police" not in state.referrals:
            assert approval.report is not None and approval.decision is not None
            element = SUBJECTIVE_ELEMENT_TEXT[approval.report.subjective_element]
            basis = f"{threshold.basis}；{element}；经本局负责人批准移送"
            ref = await self._referral(ReferralKind.POLICE, basis)
            state.referrals["police"] = ref.id
            self._record(
                "referral.police",
                f"经本局负责人（{approval.decision.decided_by}）批准，涉嫌拒不支付劳动报酬罪，移送公安机关（{ref.id}）",
            )
        return None

    async def _await_approval_step(self, approval: ReferralApproval) -> WaitResult:
        """Wait for the report or the decision, whichever is awaited, until it comes, the proposal becomes moot,
        or the next deadline passes (its notice then goes out, once)."""
        awaited = approval.outcome

        def moved() -> bool:
            return (
                approval.outcome != awaited
                or self._fully_paid()
                or self._state.closure_request is not None
                or self._figures_pending()
            )

        rung = next((r for r in self._approval_rungs(approval) if not self._is_done(r.name)), None)
        if rung is None:
            return await self._wait(moved, None)
        await self._deadline(rung.name, rung.start, rung.amount, rung.unit)
        result = await self._wait(moved, rung.name, settle_when_done=False)
        if result is WaitResult.DONE and (
            approval.outcome != awaited or self._fully_paid() or self._state.closure_request is not None
        ):
            self._settle(rung.name, "met")
        if result is WaitResult.EXPIRED:
            await self._notice(rung.office, rung.name, f"案件 {self._input.case_id}：{rung.text}", step=rung.name)
            self._record(rung.name, rung.text)
            self._mark_done(rung.name)
        return result

    def _approval_rungs(self, approval: ReferralApproval) -> list[Rung]:
        cfg = self._config.referral_approval
        if approval.outcome == "awaiting_report":
            return [
                Rung(
                    "referral.report",
                    approval.proposed_at,
                    cfg.report_working_days,
                    DayUnit.WORKING,
                    Office.INSPECTOR,
                    f"涉嫌犯罪案件移送报告 {cfg.report_working_days} 个工作日内尚未提交",
                )
            ]
        assert approval.reported_at is not None
        unit = "个工作日" if cfg.decision_unit is DayUnit.WORKING else "日"
        return [
            Rung(
                "referral.approval_reminder",
                approval.reported_at,
                cfg.reminder_days,
                cfg.decision_unit,
                Office.BUREAU_HEAD,
                f"移送报告待本局负责人审批（应于报告后 {cfg.decision_days} {unit}内作出决定）",
            ),
            Rung(
                "referral.approval",
                approval.reported_at,
                cfg.decision_days,
                cfg.decision_unit,
                Office.SUPERVISING_OFFICE,
                f"本局负责人逾期（{cfg.decision_days} {unit}）未对移送报告作出批准或者不批准的决定",
            ),
        ]

    # --- the report and the decision (updates) --------------------------------------------------------------

    @workflow.update(name=Updates.SUBMIT_REFERRAL_REPORT)
    def submit_referral_report(self, report: ReferralReport) -> CaseStatus:
        approval = self._state.referral_approval
        assert approval is not None  # the validator's condition
        approval.report, approval.reported_at, approval.outcome = report, self._legal_now(), "awaiting_decision"
        element = SUBJECTIVE_ELEMENT_TEXT[report.subjective_element]
        self._record(
            "referral.reported",
            f"办案组（{'、'.join(report.team)}）提交涉嫌犯罪案件移送报告（{element}），报本局负责人审批",
        )
        return self._status()

    @submit_referral_report.validator
    def _validate_referral_report(self, report: ReferralReport) -> None:
        approval = self._state.referral_approval
        if approval is None or approval.outcome != "awaiting_report":
            raise refuse("没有待提交的移送报告 (no criminal referral awaits its report)")

    @workflow.update(name=Updates.DECIDE_REFERRAL)
    def decide_referral(self, decision: ReferralDecisionRecord) -> CaseStatus:
        approval = self._state.referral_approval
        assert approval is not None  # the validator's condition
        approval.decision, approval.decided_at = decision, self._legal_now()
        approval.outcome = "approved" if decision.approved else "refused"
        if decision.approved:
            self._record("referral.approved", f"本局负责人（{decision.decided_by}）批准移送公安机关")
        else:
            self._record("referral.refused", f"本局负责人（{decision.decided_by}）不批准移送：{decision.reason}")
        return self._status()

    @decide_referral.validator
    def _validate_referral_decision(self, decision: ReferralDecisionRecord) -> None:
        approval = self._state.referral_approval
        if approval is None or approval.outcome != "awaiting_decision" or approval.report is None:
            raise refuse("没有待审批的移送报告 (no referral report awaits a decision)")
        if decision.decided_by in approval.report.team:
            raise refuse("办案组成员不能审批本组的移送报告 (a member of the case team cannot decide on its report)")
