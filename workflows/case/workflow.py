"""The case workflow: its input and state, the main loop over the stages, the signals of its member complaints
and the status query.

The stages are method groups in their own modules (see `workflows/case/__init__.py`), each with the agencies'
updates it answers and their validators; this class combines them.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.common.workflow_runner import record_runner_patches
    from services.contracts.lifecycle import (
        CASE_WORKFLOW_TYPE,
        CaseInput,
        CaseMember,
        CaseProgress,
        CaseStage,
        CaseStatus,
        ComplaintLeft,
        MassIncidentReport,
        Queries,
        Signals,
    )
    from workflows.base import PROCESS_REPORTS
    from workflows.case.guarantee_payout import GuaranteePayouts
    from workflows.case.handoff import HandoffStage
    from workflows.case.investigation import InvestigationLimit
    from workflows.case.order import OrderStages
    from workflows.case.refusal import RefusalStage
    from workflows.case.state import CaseState, ProgressDelivery
    from workflows.case.verification import VerificationStage


@workflow.defn(name=CASE_WORKFLOW_TYPE)
class CaseWorkflow(VerificationStage, HandoffStage, OrderStages, RefusalStage, InvestigationLimit, GuaranteePayouts):
    """The case: one method group per stage (its mixins), combined here with the main loop and the messages."""

    REPORTED_FIELDS = frozenset(
        {
            "stage",
            "status",
            "members",
            "left",
            "classification",
            "verification",
            "overdue",
            "investigation_overdue",
            "deadlines",
            "active_deadlines",
            "letters",
            "order_id",
            "service",
            "payments",
            "threshold",
            "compensation_id",
            "referrals",
            "referral_approval",
            "police_referral_withdrawn",
            "police_decision",
            "blacklist_id",
            "publication_id",
            "extension",
            "closure_reason",
            "handoff_round",
            "late_members",
            "figures",
            "amended_orders",
            "order_round",
            "merge_request",
            "referral_withdrawal",
        }
    )

    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._input = input
        self._config = input.config
        if input.resume is not None:
            self._state = CaseState.model_validate(input.resume)
        else:
            self._state = CaseState(legal_clock=workflow.now(), calendar=input.config.calendar)

    # --- main loop --------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: CaseInput) -> CaseStatus:
        # First: from here on a cold worker and a replay agree (services/common/workflow_runner.py).
        record_runner_patches()
        messenger = asyncio.create_task(self._deliver_progress(), name="messenger")
        self._start_reporting(PROCESS_REPORTS)
        origin = input.origin
        if origin is None:
            # Started by signal-with-start, so the first member is normally here already.
            await workflow.wait_condition(lambda: bool(self._state.members))
        if self._state.opened_at is None:
            if origin is None:
                first = min(m.accepted_at for m in self._state.members.values())
                text = f"立案：案件 {input.case_id}（首件投诉受理于 {first.date()}）"
            else:
                # An early-warning case opens on its project's warning, before any complaint: its investigation
                # limit counts from then (services/contracts/lifecycle/case_origin.py).
                first = origin.opened_at
                warnings = "、".join(origin.warning_ids)
                text = f"立案：预警案件 {input.case_id}（项目 {origin.project_id}，预警 {warnings}，{first.date()}）"
            self._state.opened_at = first
            self._state.legal_clock = max(self._state.legal_clock, first) if self._compressed() else first
            self._record("case.opened", text)
        self._publish_search_attributes()
        watcher = asyncio.create_task(self._guard(self._watch_investigation()), name="investigation")
        stages = {
            CaseStage.VERIFICATION: self._verification,
            CaseStage.HANDOFF: self._handoff,
            CaseStage.SERVICE: self._service,
            CaseStage.PAYMENT: self._payment,
            CaseStage.REFUSAL: self._refusal,
        }
        await self._drive(stages, CaseStage.CLOSED)
        watcher.cancel()
        messenger.cancel()
        if self._reporter is not None:
            self._reporter.cancel()
        return self._status()

    # --- signals -----------------------------------------------------------------------------------------

    @workflow.signal(name=Signals.COMPLAINT_JOINED)
    def complaint_joined(self, member: CaseMember) -> None:
        state = self._state
        if member.complaint_id in state.members or member.complaint_id in state.left:
            return  # a retried join
        state.members[member.complaint_id] = member
        if state.opened_at is not None:
            self._record(
                "case.member_joined",
                f"投诉 {member.complaint_id} 并入案件（{member.workers_affected} 人、{member.amount_owed} 元）",
            )
            self._member_joined_late(member)
        progress = CaseProgress(
            kind="joined",
            text=f"并入案件 {self._input.case_id}，当前阶段：{state.stage.value}",
            at=self._legal_now(),
            stage=state.stage,
            closure_reason=state.closure_reason,
        )
        state.outbox.append(ProgressDelivery(complaint_id=member.complaint_id, progress=progress))

    @workflow.signal(name=Signals.COMPLAINT_LEFT)
    def complaint_left(self, left: ComplaintLeft) -> None:
        if self._state.members.pop(left.complaint_id, None) is not None:
            self._state.left[left.complaint_id] = left.reason
            self._record("case.member_left", f"投诉 {left.complaint_id} 退出案件：{left.reason}")

    @workflow.signal(name=Signals.MASS_INCIDENT_REPORTED)
    def mass_incident_reported(self, report: MassIncidentReport) -> None:
        self._state.mass_incident = True
        self._record("case.mass_incident", f"报告群体性事件（{report.reported_by}）：{report.summary}")

    # --- the query ------------------------------------------------------------------------------------------

    @workflow.query(name=Queries.STATUS)
    def status(self) -> CaseStatus:
        return self._status()
