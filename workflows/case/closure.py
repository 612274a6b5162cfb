"""How a case ends and whom it tells: closure, the stage it is in (and the stage an update needs), its progress to
every member complaint, and the referrals it makes (to arbitration on verification, to the police and
procuratorate on refusal)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        CaseProgress,
        CaseStage,
        ClosureReason,
        DocumentRef,
        ReferralKind,
        ReferralRequest,
        Signals,
        Status,
        complaint_workflow_id,
    )
    from services.contracts.lifecycle.activities import make_referral
    from workflows.base import refuse
    from workflows.case.state import ProgressDelivery
    from workflows.case.views import CaseViews
    from workflows.texts import CLOSURE_TEXT


class CaseClosure(CaseViews):
    """Closing the case, moving it to a stage, telling its member complaints, referring it."""

    # --- closing, and progress to the member complaints ----------------------------------------------------

    def _close(self, reason: ClosureReason, text: str) -> None:
        state = self._state
        state.closure_reason = reason
        state.status = Status.CLOSED
        state.stage = CaseStage.CLOSED
        state.overdue = False
        self._record("case.closed", f"结案（{CLOSURE_TEXT[reason]}）：{text}")
        self._progress("closed", f"案件办结：{CLOSURE_TEXT[reason]}", closure_reason=reason)
        self._publish_search_attributes()

    def _set_stage(self, stage: CaseStage) -> None:
        self._state.stage = stage
        self._publish_search_attributes()

    def _progress(self, kind: str, text: str, *, closure_reason: ClosureReason | None = None) -> None:
        progress = CaseProgress(
            kind=kind, text=text, at=self._legal_now(), stage=self._state.stage, closure_reason=closure_reason
        )
        for complaint_id in self._state.members:
            self._state.outbox.append(ProgressDelivery(complaint_id=complaint_id, progress=progress))

    async def _deliver_progress(self) -> None:
        while True:
            await workflow.wait_condition(lambda: bool(self._state.outbox))
            delivery = self._state.outbox[0]
            try:
                handle = workflow.get_external_workflow_handle(complaint_workflow_id(delivery.complaint_id))
                await handle.signal(Signals.CASE_PROGRESS, delivery.progress)
            except FailureError:
                # The complaint's workflow is gone (e.g. terminated by an operator): the case goes on.
                self._record("progress.undelivered", f"未能通知投诉 {delivery.complaint_id}（流程已结束）")
            self._state.outbox.pop(0)

    def _outbox_empty(self) -> bool:
        return not self._state.outbox

    # --- referrals -----------------------------------------------------------------------------------------

    async def _referral(self, target: ReferralKind, basis: str) -> DocumentRef:
        return await self._activity(
            make_referral,
            ReferralRequest(
                idempotency_key=self._key(f"referral:{target.value}"),
                case_id=self._input.case_id,
                county=self._input.county,
                employer_ref=self._input.employer_ref,
                target=target,
                unpaid_amount=self._outstanding(),
                workers=self._workers(),
                basis=basis,
            ),
        )

    # --- the stage an update needs --------------------------------------------------------------------------

    def _require_stage(self, action: str, *stages: CaseStage) -> None:
        state = self._state
        if state.status is not Status.OPEN:
            reason = state.closure_reason.value if state.closure_reason else "closed"
            raise refuse(f"案件 {self._input.case_id} 已结案（{reason}），不能{action} (the case is closed: {reason})")
        if state.stage not in stages:
            allowed = "/".join(s.value for s in stages)
            raise refuse(
                f"案件 {self._input.case_id} 当前阶段为 {state.stage.value}，不能{action}"
                f" (the case is in stage {state.stage.value}; this needs stage {allowed})"
            )
