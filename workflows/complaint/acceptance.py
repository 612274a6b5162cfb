"""The complaint's acceptance (受理): the decision within 5 working days, with the reminder to the inspector and
the escalation to the supervising office (their texts name the two-year limit of 劳动保障监察条例 art. 20 when
the complaint is past it), and a request for more information and the wait for it. The inspector's decision
and the complainant's supplement arrive as updates, checked by their validators."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        AcceptanceDecision,
        AcceptanceDecisionKind,
        ClosureReason,
        ComplaintStage,
        ComplaintStatus,
        DayUnit,
        ForwardRequest,
        Office,
        RejectionReason,
        SupplementedInformation,
        Updates,
    )
    from services.contracts.lifecycle.activities import forward_complaint
    from workflows.base import refuse
    from workflows.complaint.follow_up import ComplaintFollowUp
    from workflows.core import WaitResult
    from workflows.texts import REJECTION_TEXT


class ComplaintAcceptance(ComplaintFollowUp):
    """Acceptance and more information: the stages before the complaint joins its case or closes."""

    async def _acceptance(self) -> WaitResult | None:
        decision_period, reminder_period = self._config.acceptance.periods(self._state.acceptance_round)
        start = self._state.acceptance_start
        deadline = await self._deadline(decision_period.name, start, decision_period.working_days, DayUnit.WORKING)

        def decided() -> bool:
            return self._state.pending_decision is not None or self._state.pending_withdrawal is not None

        if reminder_period is not None and not self._is_done(reminder_period.name):
            reminder_step = reminder_period.name
            await self._deadline(reminder_step, start, reminder_period.working_days, DayUnit.WORKING)
            result = await self._wait(decided, reminder_step)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.EXPIRED:
                await self._notice(
                    Office.INSPECTOR,
                    "acceptance.reminder",
                    f"投诉 {self._input.complaint_id} 须在 {deadline.due_date} 前作出受理决定{self._too_old_note()}",
                    step=reminder_step,
                    due_at=deadline.due_at,
                )
                self._record("acceptance.reminder", f"提醒承办人：受理期限 {deadline.due_date} 将至")
            self._mark_done(reminder_step)

        escalation_step = f"{decision_period.name}.escalation"
        if not self._is_done(escalation_step):
            result = await self._wait(decided, deadline.name)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.EXPIRED:
                await self._notice(
                    Office.SUPERVISING_OFFICE,
                    "acceptance.overdue",
                    f"投诉 {self._input.complaint_id} 超过受理期限（{deadline.due_date}）仍未作出受理决定"
                    f"{self._too_old_note()}",
                    step=escalation_step,
                    due_at=deadline.due_at,
                )
                self._state.overdue = True
                self._record("acceptance.overdue", f"超过受理期限 {deadline.due_date}，已报根治欠薪办督办")
                self._publish_search_attributes()
            self._mark_done(escalation_step)

        result = await self._wait(decided, None)
        if result is WaitResult.CONTINUE_AS_NEW:
            return result
        self._state.overdue = False
        if self._state.pending_withdrawal is not None:
            self._close(ClosureReason.WITHDRAWN, "投诉人撤回投诉")
            return None
        decision = self._state.pending_decision
        assert decision is not None
        await self._apply_decision(decision)
        return None

    async def _apply_decision(self, decision: AcceptanceDecision) -> None:
        complaint_id = self._input.complaint_id
        if decision.decision is AcceptanceDecisionKind.ACCEPT:
            self._state.accepted_at = self._legal_now()
            self._record("complaint.accepted", f"已受理（承办人 {decision.decided_by}）")
            self._notify("complaint.accepted", step="accepted")
            self._state.stage = ComplaintStage.IN_CASE
        elif decision.decision is AcceptanceDecisionKind.REJECT:
            assert decision.reason is not None
            text = f"不予受理：{REJECTION_TEXT[decision.reason]}。{decision.explanation}"
            self._record("complaint.rejected", text)
            self._notify("complaint.rejected", step="rejected", reason=decision.reason.value)
            self._close(ClosureReason.REJECTED, text, notify=False)
        elif decision.decision is AcceptanceDecisionKind.REQUEST_MORE_INFO:
            items = "、".join(decision.missing_items)
            self._record("complaint.more_info_requested", f"请投诉人补正材料：{items}")
            self._notify(
                "complaint.more_info_requested",
                step=f"more_info#{self._state.acceptance_round}",
                items=items,
            )
            self._state.info_requested_at = self._legal_now()
            self._state.pending_decision = None
            self._state.stage = ComplaintStage.AWAITING_INFORMATION
        else:
            assert decision.forward_to is not None
            await self._activity(
                forward_complaint,
                ForwardRequest(
                    idempotency_key=self._key("forward"),
                    complaint_id=complaint_id,
                    county=self._input.county,
                    forward_to=decision.forward_to,
                    note=decision.explanation,
                ),
            )
            text = f"不属本机关管辖，已转送 {decision.forward_to}（首问负责，由接收机关向投诉人反馈）"
            self._record("complaint.forwarded", text)
            self._notify("complaint.forwarded", step="forwarded", office=decision.forward_to)
            self._close(ClosureReason.FORWARDED, text, notify=False)
        self._publish_search_attributes()

    async def _awaiting_information(self) -> WaitResult | None:
        round_ = self._state.acceptance_round
        assert self._state.info_requested_at is not None
        deadline = await self._deadline(
            f"information#{round_}",
            self._state.info_requested_at,
            self._config.acceptance.more_info_wait_working_days,
            DayUnit.WORKING,
        )
        result = await self._wait(
            lambda: self._state.pending_supplement is not None or self._state.pending_withdrawal is not None,
            deadline.name,
        )
        if result is WaitResult.CONTINUE_AS_NEW:
            return result
        if result is WaitResult.EXPIRED:
            self._close(ClosureReason.INFORMATION_NOT_SUPPLIED, f"投诉人未在 {deadline.due_date} 前补正材料，不予受理")
        elif self._state.pending_withdrawal is not None:
            self._close(ClosureReason.WITHDRAWN, "投诉人撤回投诉")
        else:
            supplement = self._state.pending_supplement
            assert supplement is not None
            self._record("complaint.information_supplemented", f"投诉人已补正：{'、'.join(supplement.items)}")
            # The acceptance period runs again from receipt of the completed material.
            self._state.acceptance_round += 1
            self._state.acceptance_start = self._legal_now()
            self._state.pending_supplement = None
            self._state.stage = ComplaintStage.AWAITING_ACCEPTANCE
            self._publish_search_attributes()
        return None

    # --- the inspector decides, the complainant supplies ----------------------------------------------------

    @workflow.update(name=Updates.DECIDE_ACCEPTANCE)
    def decide_acceptance(self, decision: AcceptanceDecision) -> ComplaintStatus:
        self._state.pending_decision = decision
        self._record("acceptance.decided", f"受理决定：{decision.decision.value}（{decision.decided_by}）")
        return self._status()

    @decide_acceptance.validator
    def _validate_acceptance(self, decision: AcceptanceDecision) -> None:
        state = self._state
        if state.stage is not ComplaintStage.AWAITING_ACCEPTANCE or state.pending_decision is not None:
            raise refuse(
                f"投诉 {self._input.complaint_id} 当前阶段为 {state.stage.value}，不能再作受理决定"
                f" (complaint is in stage {state.stage.value}; the acceptance decision is already made)"
            )
        if state.pending_withdrawal is not None:
            raise refuse("投诉人已撤回投诉 (the complainant has withdrawn the complaint)")
        limit_years = self._config.acceptance.violation_limit_years
        owed_until = self._input.owed_until
        if (
            decision.decision is AcceptanceDecisionKind.REJECT
            and decision.reason is RejectionReason.VIOLATION_TOO_OLD
            and owed_until is not None
            and not self._past_violation_limit()
        ):
            raise refuse(
                f"工资拖欠至 {owed_until}，未超过 {limit_years} 年，不能以超过时效为由不予受理"
                f" (wages were owed until {owed_until}, within the {limit_years}-year limit)"
            )

    @workflow.update(name=Updates.SUPPLEMENT_INFORMATION)
    def supplement_information(self, supplement: SupplementedInformation) -> ComplaintStatus:
        self._state.pending_supplement = supplement
        return self._status()

    @supplement_information.validator
    def _validate_supplement(self, supplement: SupplementedInformation) -> None:
        if self._state.stage is not ComplaintStage.AWAITING_INFORMATION or self._state.pending_supplement:
            raise refuse(
                f"投诉 {self._input.complaint_id} 未在等待补正材料（当前阶段 {self._state.stage.value}）"
                " (no additional information was requested)"
            )
