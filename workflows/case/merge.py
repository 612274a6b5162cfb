"""Merging a case's process into another's (an inspector merges two ledger cases before verification): its
complaints move to the surviving case's workflow — each joins it as a member and is told which case it now
follows — and this process closes as merged. After verification a case has its own order or handoff, so
the workflow refuses the merge and the two processes stay side by side under one ledger case."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        CaseMergeRequest,
        CaseProgress,
        CaseStage,
        CaseStatus,
        ClosureReason,
        Signals,
        Status,
        Updates,
        case_workflow_id,
    )
    from workflows.base import refuse
    from workflows.case.closure import CaseClosure
    from workflows.case.state import ProgressDelivery


class CaseMerge(CaseClosure):
    """The `merge_into` update's validation, and the hand-over of the members to the surviving process."""

    @workflow.update(name=Updates.MERGE_INTO)
    def merge_into(self, request: CaseMergeRequest) -> CaseStatus:
        self._state.merge_request = request
        self._record(
            "case.merge_requested", f"{request.merged_by} 将本案并入案件 {request.into_case_id}：{request.reason}"
        )
        return self._status()

    @merge_into.validator
    def _validate_merge(self, request: CaseMergeRequest) -> None:
        state = self._state
        if state.status is not Status.OPEN:
            raise refuse("案件已结案，不能合并 (the case is closed)")
        if request.into_case_id == self._input.case_id:
            raise refuse("不能并入本案 (a case cannot be merged into itself)")
        if state.stage is not CaseStage.VERIFICATION or state.pending_verification is not None:
            raise refuse(
                f"案件当前阶段为 {state.stage.value}，已作出核实结论的案件不能合并办理"
                " (only a case not yet verified can move its complaints to another case's process)"
            )
        if state.merge_request is not None:
            raise refuse("合并已在办理 (the merge is already under way)")

    async def _merge_away(self) -> None:
        """Move every member to the surviving process, tell each complaint, and close as merged. If the
        surviving process is gone, the merge is recorded as failed and this case goes on."""
        state = self._state
        request = state.merge_request
        assert request is not None
        survivor = workflow.get_external_workflow_handle(case_workflow_id(request.into_case_id))
        for complaint_id, member in list(state.members.items()):
            try:
                await survivor.signal(Signals.COMPLAINT_JOINED, member)
            except FailureError as err:
                self._record("case.merge_failed", f"未能并入案件 {request.into_case_id}：{err}；本案继续办理")
                state.merge_request = None
                return
            del state.members[complaint_id]
            state.left[complaint_id] = f"并入案件 {request.into_case_id}"
            progress = CaseProgress(
                kind="moved",
                text=f"投诉并入案件 {request.into_case_id} 办理（{request.reason}）",
                at=self._legal_now(),
                stage=state.stage,
                moved_to=request.into_case_id,
            )
            state.outbox.append(ProgressDelivery(complaint_id=complaint_id, progress=progress))
        self._close(
            ClosureReason.MERGED,
            f"并入案件 {request.into_case_id} 办理（{request.merged_by}）：{request.reason}",
        )
