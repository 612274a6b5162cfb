"""What the complaint and case workflows share, on top of their core (`workflows/core.py`) and their
deadlines (`workflows/deadlines.py`): the main loop over the stages, the reports to the ledger, the hand-over
to a new run, and the refusal of an impossible transition.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        CalendarConfig,
        CaseStatus,
        ComplaintStatus,
        DeadlineConfirmation,
        Signals,
        Updates,
    )
    from services.contracts.lifecycle.activities import report_process
    from services.contracts.process_reports import (
        ProcessReport,
        ProcessSnapshot,
        describe_changes,
        snapshot_of,
    )
    from services.contracts.state_reporting import ReportProgress, StateReporting
    from workflows.core import WaitResult
    from workflows.deadlines import DeadlineWaits

# Every change of a workflow's state is reported to the ledger (services/contracts/process_reports.py).
# Histories from before the change report nothing; such a workflow starts reporting when an operator asks
# for its state (`anxin audit ledger --fix`), behind a patch of its own.
PROCESS_REPORTS = "2026-11-process-reports"
PROCESS_REPORTS_ON_REQUEST = "2026-11-process-reports-on-request"


class LifecycleWorkflow(DeadlineWaits, StateReporting):
    """Base of both lifecycle workflows (not a workflow itself)."""

    # --- the main loop ----------------------------------------------------------------------------------------

    async def _drive(self, stages: Mapping[Any, Callable[[], Awaitable[WaitResult | None]]], last_stage: Any) -> None:
        """Run the stage the state is in until `last_stage`, handing over to a new run (continue-as-new) at a
        safe point when the history is long; then let what is in flight finish."""
        try:
            while getattr(self._state, "stage") is not last_stage:  # noqa: B009 (the stage is the subclass's)
                if await stages[getattr(self._state, "stage")]() is WaitResult.CONTINUE_AS_NEW:  # noqa: B009
                    await self._settle_before_handover()
                    workflow.continue_as_new(self._input.model_copy(update={"resume": self._state.model_dump()}))
            await self._settle_before_handover()
        except asyncio.CancelledError:
            # An operator cancelled the workflow: a run that is ending reports nothing more.
            self._ending = True
            raise

    # --- reports to the ledger (the loop itself: services/contracts/state_reporting.py) ----------------------

    def _report_progress(self) -> ReportProgress:
        return self._state

    def _report_key(self) -> str:
        return self._state.model_dump_json(include=set(self.REPORTED_FIELDS)) + self._parked_report_key()

    def _status(self, *, timeline: bool = True) -> CaseStatus | ComplaintStatus:
        """The answer to the `status` query."""
        raise NotImplementedError

    def _snapshot(self) -> ProcessSnapshot:
        """The state the ledger keeps of this process (`snapshot_of` its status, without the timeline)."""
        return snapshot_of(self._workflow_id(), self._status(timeline=False))

    async def _send_report(self, seq: int, before: ProcessSnapshot | None, snapshot: ProcessSnapshot) -> None:
        report = ProcessReport(
            idempotency_key=self._key(f"report:{seq}"),
            workflow_id=self._workflow_id(),
            seq=seq,
            at=self._legal_now(),
            changes=describe_changes(before, snapshot),
            snapshot=snapshot,
        )
        await self._activity(report_process, report, timeout=timedelta(seconds=30), hold_on_refusal=False)

    def _report_not_taken(self, seq: int, err: ActivityError) -> None:
        self._record("report.failed", f"状态报告 {seq} 未被台账接收：{err.cause or err}")

    def _deadlines_may_be_local(self) -> bool:
        # Only a workflow that does not report: see DEADLINES_AS_LOCAL_ACTIVITIES in workflows/deadlines.py.
        return self._reporter is None

    # --- handing over to a new run ---------------------------------------------------------------------------

    def _outbox_empty(self) -> bool:
        raise NotImplementedError

    async def _settle_before_handover(self) -> None:
        """Let update handlers finish, queued messages go out and the last state be reported before this run
        ends."""
        await workflow.wait_condition(
            lambda: (
                (self._outbox_empty() and self._reports_settled() and workflow.all_handlers_finished())
                or self._failure is not None
            )
        )
        self._check_failure()

    # --- the signals both workflows answer alike ---------------------------------------------------------------

    @workflow.signal(name=Signals.CALENDAR_UPDATED)
    def calendar_updated(self, calendar: CalendarConfig) -> None:
        self._calendar_updated(calendar)

    @workflow.signal(name=Signals.RETRY_REFUSED_STEP)
    def retry_refused_step(self) -> None:
        self._retry_refused_step()

    @workflow.signal(name=Signals.REPORT_STATE)
    def report_state(self) -> None:
        self._report_again(PROCESS_REPORTS_ON_REQUEST)

    # --- the update both workflows answer alike ----------------------------------------------------------------

    @workflow.update(name=Updates.CONFIRM_DEADLINE)
    def confirm_deadline(self, confirmation: DeadlineConfirmation) -> CaseStatus | ComplaintStatus:
        self._confirm_deadline(confirmation.name, confirmation.confirmed_by, confirmation.note)
        return self._status()

    @confirm_deadline.validator
    def _validate_deadline_confirmation(self, confirmation: DeadlineConfirmation) -> None:
        deadline = self._state.deadlines.get(confirmation.name)
        if deadline is None or deadline.outcome != "pending" or not deadline.provisional:
            raise refuse(f"没有待确认的暂定期限「{confirmation.name}」 (no pending provisional deadline of that name)")


def refuse(message: str) -> ApplicationError:
    """The error an update validator raises to refuse an impossible transition, with the reason."""
    return ApplicationError(message, type="TransitionRefused", non_retryable=True)
