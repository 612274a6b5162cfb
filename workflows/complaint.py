"""One complaint, from receipt to call-back (workflow id `complaint:<complaint id>`).

Each worker's complaint has its own acceptance (5 working days, reminder, escalation), notifications and
call-back. Once accepted it joins its case (`case:<case id>`, signal-with-start through an activity); the
case workflow investigates on behalf of all its complaints and reports each milestone back, which this
workflow tells the complainant.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from pydantic import Field

    from services.contracts.lifecycle import (
        COMPLAINT_WORKFLOW_TYPE,
        SA_CASE_ID,
        SA_COMPLAINT_ID,
        SA_COUNTY,
        SA_NEXT_DEADLINE,
        SA_OVERDUE,
        SA_STAGE,
        SA_STATUS,
        AcceptanceDecision,
        AcceptanceDecisionKind,
        CallbackRecord,
        CaseInput,
        CaseMember,
        CaseProgress,
        CaseStage,
        ClosureReason,
        ComplaintInput,
        ComplaintLeft,
        ComplaintStage,
        ComplaintStatus,
        DayUnit,
        ForwardRequest,
        JoinCaseRequest,
        Notification,
        Office,
        Queries,
        RejectionReason,
        Signals,
        Status,
        SupplementedInformation,
        Updates,
        Withdrawal,
        acceptance_suggestion,
        case_workflow_id,
    )
    from services.contracts.lifecycle.activities import forward_complaint, join_case, notify_complainant
    from services.contracts.owed_period import past_violation_limit, violation_limit_basis
    from services.contracts.process_reports import is_overdue
    from workflows.base import PROCESS_REPORTS, LifecycleWorkflow, refuse
    from workflows.core import LifecycleState, WaitResult
    from workflows.texts import CLOSURE_TEXT, REJECTION_TEXT, SATISFACTION_TEXT


class ComplaintState(LifecycleState):
    stage: ComplaintStage = ComplaintStage.AWAITING_ACCEPTANCE
    status: Status = Status.OPEN
    acceptance_round: int = 1
    # Receipt of the complaint, or of the supplemented material: the acceptance period counts from it.
    acceptance_start: datetime
    pending_decision: AcceptanceDecision | None = None
    accepted_at: datetime | None = None
    info_requested_at: datetime | None = None
    pending_supplement: SupplementedInformation | None = None
    pending_withdrawal: Withdrawal | None = None
    case_stage: CaseStage | None = None
    case_closure: CaseProgress | None = None
    closure_reason: ClosureReason | None = None
    closed_at: datetime | None = None
    callback: CallbackRecord | None = None
    # The case whose process this complaint follows after a merge moved it (otherwise the input's).
    moved_to: str | None = None
    outbox: list[Notification] = Field(default_factory=list)


@workflow.defn(name=COMPLAINT_WORKFLOW_TYPE)
class ComplaintWorkflow(LifecycleWorkflow):
    REPORTED_FIELDS = frozenset(
        {
            "stage",
            "status",
            "overdue",
            "deadlines",
            "active_deadlines",
            "closure_reason",
            "closed_at",
            "callback",
            "case_stage",
        }
    )

    @workflow.init
    def __init__(self, input: ComplaintInput) -> None:
        self._input = input
        self._config = input.config
        if input.resume is not None:
            self._state: ComplaintState = ComplaintState.model_validate(input.resume)
        else:
            self._state = ComplaintState(
                legal_clock=input.received_at,
                calendar=input.config.calendar,
                acceptance_start=input.received_at,
            )

    # --- main loop --------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ComplaintInput) -> ComplaintStatus:
        notifier = asyncio.create_task(self._deliver_notifications(), name="notifier")
        self._start_reporting(PROCESS_REPORTS)
        self._publish_search_attributes()
        if not self._is_done("received"):
            self._record(
                "complaint.received",
                f"收到投诉 {input.complaint_id}（渠道：{input.channel}）",
                at=input.received_at,
            )
            self._notify("complaint.received", step="received")
            self._mark_done("received")
        stages = {
            ComplaintStage.AWAITING_ACCEPTANCE: self._acceptance,
            ComplaintStage.AWAITING_INFORMATION: self._awaiting_information,
            ComplaintStage.IN_CASE: self._in_case,
            ComplaintStage.CALLBACK: self._callback,
        }
        await self._drive(stages, ComplaintStage.DONE)
        notifier.cancel()
        if self._reporter is not None:
            self._reporter.cancel()
        return self._status()

    async def _acceptance(self) -> WaitResult | None:
        cfg = self._config.acceptance
        round_ = self._state.acceptance_round
        suffix = "" if round_ == 1 else f"#{round_}"
        start = self._state.acceptance_start
        deadline = await self._deadline(f"acceptance{suffix}", start, cfg.decision_working_days, DayUnit.WORKING)

        def decided() -> bool:
            return self._state.pending_decision is not None or self._state.pending_withdrawal is not None

        before = cfg.reminder_working_days_before
        reminder_step = f"acceptance{suffix}.reminder"
        if 0 < before < cfg.decision_working_days and not self._is_done(reminder_step):
            await self._deadline(reminder_step, start, cfg.decision_working_days - before, DayUnit.WORKING)
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

        escalation_step = f"acceptance{suffix}.escalation"
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

    async def _in_case(self) -> WaitResult | None:
        if not self._is_done("join_case"):
            await self._activity(join_case, self._join_request())
            self._record("complaint.joined_case", f"并入案件 {self._input.case_id}")
            self._mark_done("join_case")
        result = await self._wait(
            lambda: self._state.case_closure is not None or self._state.pending_withdrawal is not None, None
        )
        if result is WaitResult.CONTINUE_AS_NEW:
            return result
        closure = self._state.case_closure
        if closure is not None:
            assert closure.closure_reason is not None
            self._close(closure.closure_reason, f"案件办结：{CLOSURE_TEXT[closure.closure_reason]}")
            return None
        # If the case already finished there is nothing left to leave.
        with contextlib.suppress(FailureError):
            await workflow.get_external_workflow_handle(case_workflow_id(self._case_id())).signal(
                Signals.COMPLAINT_LEFT,
                ComplaintLeft(complaint_id=self._input.complaint_id, reason="投诉人撤回投诉"),
            )
        self._close(ClosureReason.WITHDRAWN, "投诉人撤回投诉，已退出案件")
        return None

    def _join_request(self) -> JoinCaseRequest:
        assert self._state.accepted_at is not None
        return JoinCaseRequest(
            case=CaseInput(
                case_id=self._input.case_id,
                county=self._input.county,
                employer_ref=self._input.employer_ref,
                project_ref=self._input.project_ref,
                # The calendar as it stands now, including any year entered since this complaint began.
                config=self._config.model_copy(update={"calendar": self._state.calendar}),
            ),
            member=CaseMember(
                complaint_id=self._input.complaint_id,
                amount_owed=self._input.amount_owed,
                workers_affected=self._input.workers_affected,
                months_owed=self._input.months_owed,
                accepted_at=self._state.accepted_at,
            ),
            task_queue=workflow.info().task_queue,
        )

    def _close(self, reason: ClosureReason, text: str, *, notify: bool = True) -> None:
        self._state.closure_reason = reason
        self._state.closed_at = self._legal_now()
        self._state.status = Status.CLOSED
        self._state.stage = ComplaintStage.CALLBACK
        self._state.overdue = False
        self._record("complaint.closed", f"办结（{CLOSURE_TEXT[reason]}）：{text}")
        if notify:
            self._notify("complaint.closed", step="closed", reason=reason.value)
        self._publish_search_attributes()

    async def _callback(self) -> WaitResult | None:
        cfg = self._config.callback
        assert self._state.closed_at is not None
        deadline = await self._deadline("callback", self._state.closed_at, cfg.callback_working_days, DayUnit.WORKING)

        def called_back() -> bool:
            return self._state.callback is not None

        if not self._is_done("callback.reminder"):
            result = await self._wait(called_back, deadline.name)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.EXPIRED:
                await self._notice(
                    Office.INSPECTOR,
                    "callback.overdue",
                    f"投诉 {self._input.complaint_id} 办结后未在 {deadline.due_date} 前回访",
                    step="callback.reminder",
                    due_at=deadline.due_at,
                )
                self._state.overdue = True
                self._record("callback.overdue", f"未在 {deadline.due_date} 前完成回访，已提醒承办人")
                self._publish_search_attributes()
            self._mark_done("callback.reminder")

        if not called_back():
            grace = await self._deadline("callback.grace", deadline.due_at, cfg.grace_working_days, DayUnit.WORKING)
            result = await self._wait(called_back, grace.name)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.EXPIRED:
                self._record("callback.missed", f"至 {grace.due_date} 仍未完成回访，记为未回访")
        callback = self._state.callback
        if callback is not None:
            self._record(
                "callback.recorded",
                f"回访完成（{callback.called_by}）：{SATISFACTION_TEXT[callback.satisfaction]}",
            )
        self._state.overdue = False
        self._state.status = Status.COMPLETED
        self._state.stage = ComplaintStage.DONE
        self._publish_search_attributes()
        return None

    # --- notifications ----------------------------------------------------------------------------------

    def _notify(self, template: str, *, step: str, **params: str) -> None:
        """Queue a message to the complainant; the notifier sends queued messages in order."""
        self._state.outbox.append(
            Notification(
                idempotency_key=self._key(f"notify:{step}"),
                complaint_id=self._input.complaint_id,
                recipient_ref=self._input.complainant_ref,
                template=template,
                params={"complaint_id": self._input.complaint_id, **params},
            )
        )

    async def _deliver_notifications(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._state.outbox))
            message = self._state.outbox[0]
            try:
                await self._activity(
                    notify_complainant,
                    message,
                    timeout=timedelta(seconds=30),
                    hold_on_refusal=False,
                )
            except ActivityError as err:
                # A message the gateway refuses for good must not stall the complaint; it stays visible.
                self._record("notification.failed", f"通知「{message.template}」发送失败：{err.cause or err}")
            self._state.outbox.pop(0)

    def _outbox_empty(self) -> bool:
        return not self._state.outbox

    # --- agency actions -----------------------------------------------------------------------------------

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

    @workflow.update(name=Updates.WITHDRAW_COMPLAINT)
    def withdraw_complaint(self, withdrawal: Withdrawal) -> ComplaintStatus:
        self._state.pending_withdrawal = withdrawal
        self._record("complaint.withdrawal_requested", f"投诉人申请撤回：{withdrawal.reason}")
        return self._status()

    @withdraw_complaint.validator
    def _validate_withdrawal(self, withdrawal: Withdrawal) -> None:
        if self._state.status is not Status.OPEN or self._state.pending_withdrawal is not None:
            raise refuse(f"投诉 {self._input.complaint_id} 已办结，不能撤回 (the complaint is already closed)")
        if self._state.stage is ComplaintStage.AWAITING_ACCEPTANCE and self._state.pending_decision:
            raise refuse("受理决定正在处理中，请稍后再试 (an acceptance decision is being applied)")

    @workflow.update(name=Updates.RECORD_CALLBACK)
    def record_callback(self, callback: CallbackRecord) -> ComplaintStatus:
        self._state.callback = callback
        return self._status()

    @record_callback.validator
    def _validate_callback(self, callback: CallbackRecord) -> None:
        if self._state.stage is not ComplaintStage.CALLBACK:
            raise refuse(
                f"投诉 {self._input.complaint_id} 尚未办结，不能回访（当前阶段 {self._state.stage.value}）"
                " (call-back comes after closure)"
                if self._state.status is Status.OPEN
                else f"投诉 {self._input.complaint_id} 已完成回访 (the call-back is already recorded)"
            )
        if self._state.callback is not None:
            raise refuse("已记录回访结果 (the call-back is already recorded)")

    @workflow.signal(name=Signals.CASE_PROGRESS)
    def case_progress(self, progress: CaseProgress) -> None:
        self._state.case_stage = progress.stage
        if progress.moved_to is not None:
            self._state.moved_to = progress.moved_to
        self._record(f"case.{progress.kind}", progress.text, at=progress.at)
        # The case may close the same moment a withdrawal is pending: whichever the loop sees first wins.
        if progress.closure_reason is not None:
            if self._state.case_closure is None:
                self._state.case_closure = progress
        elif progress.kind != "joined":
            self._notify(f"case.{progress.kind}", step=f"case:{progress.kind}:{len(self._state.timeline)}")

    @workflow.query(name=Queries.STATUS)
    def status(self) -> ComplaintStatus:
        return self._status()

    # --- views -----------------------------------------------------------------------------------------------

    def _case_id(self) -> str:
        """The case whose process this complaint follows: its own, or the one a merge moved it to."""
        return self._state.moved_to or self._input.case_id

    def _past_violation_limit(self) -> bool:
        """Received after the violation limit (劳动保障监察条例 art. 20), judged on the China date of receipt."""
        owed_until = self._input.owed_until
        years = self._config.acceptance.violation_limit_years
        return owed_until is not None and past_violation_limit(owed_until, self._input.received_at, years)

    def _too_old_note(self) -> str:
        """What a notice about the pending acceptance adds for a complaint past the limit."""
        if not self._past_violation_limit():
            return ""
        return f"；{violation_limit_basis(self._input.owed_until, self._config.acceptance.violation_limit_years)}"

    def _expiry_needs_official_date(self, deadline_name: str) -> bool:
        # Missing information not supplied in time closes the complaint.
        return deadline_name.startswith("information#")

    def _status(self, *, timeline: bool = True) -> ComplaintStatus:
        state = self._state
        past_limit = self._past_violation_limit()
        return ComplaintStatus(
            complaint_id=self._input.complaint_id,
            case_id=self._case_id(),
            county=self._input.county,
            stage=state.stage,
            status=state.status,
            overdue=is_overdue(state.status, state.overdue),
            deadlines=dict(state.deadlines),
            next_deadline=self._next_deadline(),
            case_stage=state.case_stage,
            closure_reason=state.closure_reason,
            satisfaction=state.callback.satisfaction if state.callback else None,
            timeline=list(state.timeline) if timeline else [],
            past_violation_limit=past_limit,
            suggested_decision=acceptance_suggestion(
                state.stage, past_limit, self._input.owed_until, self._config.acceptance.violation_limit_years
            ),
            parked=self._parked(),
        )

    def _search_attribute_values(self) -> list[tuple[SearchAttributeKey[Any], Any]]:
        state = self._state
        return [
            (SA_COMPLAINT_ID, self._input.complaint_id),
            (SA_CASE_ID, self._case_id()),
            (SA_COUNTY, self._input.county),
            (SA_STAGE, state.stage.value),
            (SA_STATUS, state.status.value),
            (SA_NEXT_DEADLINE, self._next_deadline()),
            (SA_OVERDUE, state.overdue or self._needs_attention()),
        ]
