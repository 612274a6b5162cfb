"""After the acceptance decision: the complaint in its case (joined by signal-with-start, the case's progress
told to the complainant, the complaint leaving the case on withdrawal), its closure, the call-back (回访) with
its reminder and grace, and the messages to the complainant, sent in order by the notifier."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        CallbackRecord,
        CaseInput,
        CaseMember,
        CaseProgress,
        ClosureReason,
        ComplaintLeft,
        ComplaintStage,
        ComplaintStatus,
        DayUnit,
        JoinCaseRequest,
        Notification,
        Office,
        Signals,
        Status,
        Updates,
        case_workflow_id,
    )
    from services.contracts.lifecycle.activities import join_case, notify_complainant
    from workflows.base import refuse
    from workflows.complaint.views import ComplaintViews
    from workflows.core import WaitResult
    from workflows.texts import CLOSURE_TEXT, SATISFACTION_TEXT


class ComplaintFollowUp(ComplaintViews):
    """The complaint in its case, its closure and call-back; the messages to the complainant."""

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

    # --- the call-back and the case's progress -----------------------------------------------------------------

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
