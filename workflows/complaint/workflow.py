"""The complaint workflow: its input and state, the main loop over the stages, the complainant's withdrawal and
the status query.

The stages are method groups in their own modules (see `workflows/complaint/__init__.py`); this class combines
them.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.common.workflow_runner import record_runner_patches
    from services.contracts.lifecycle import (
        COMPLAINT_WORKFLOW_TYPE,
        ComplaintInput,
        ComplaintStage,
        ComplaintStatus,
        Queries,
        Status,
        Updates,
        Withdrawal,
    )
    from workflows.base import PROCESS_REPORTS, refuse
    from workflows.complaint.acceptance import ComplaintAcceptance
    from workflows.complaint.state import ComplaintState


# The acceptance deadlines the starter computed (services/contracts/acceptance_deadlines.py) are stored at once,
# so the complaint rests on its first timer after one workflow task, with one report to the ledger and one
# upsert of its search attributes. Histories from before have no deadlines in their input and computed them
# with activities.
DEADLINES_FROM_STARTER = "2026-12-deadlines-from-starter"


@workflow.defn(name=COMPLAINT_WORKFLOW_TYPE)
class ComplaintWorkflow(ComplaintAcceptance):
    """The complaint: its stages (the mixins), combined here with the main loop, the withdrawal and the query."""

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
        # First: from here on a cold worker and a replay agree (services/common/workflow_runner.py).
        record_runner_patches()
        seeded = bool(input.deadlines) and input.resume is None and workflow.patched(DEADLINES_FROM_STARTER)
        for deadline in input.deadlines if seeded else []:
            self._store_deadline(deadline)
        notifier = asyncio.create_task(self._deliver_notifications(), name="notifier")
        self._start_reporting(PROCESS_REPORTS)
        if not seeded:
            # With its deadlines stored, the complaint's first wait, in this same task, publishes every
            # attribute in one upsert.
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

    # --- the complainant withdraws ------------------------------------------------------------------------

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

    @workflow.query(name=Queries.STATUS)
    def status(self) -> ComplaintStatus:
        return self._status()
