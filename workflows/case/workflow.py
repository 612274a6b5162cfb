"""The case workflow: its input and state, the main loop over the stages, and the messages it answers (the
signals of its member complaints, the agencies' updates with their validators, the status query).

The stages are method groups in their own modules (see `workflows/case/__init__.py`); this class combines
them.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.legal_time import CHINA_TZ
    from services.contracts.lifecycle import (
        CASE_WORKFLOW_TYPE,
        CaseInput,
        CaseMember,
        CaseProgress,
        CaseStage,
        CaseStatus,
        ClosureReason,
        ClosureRequest,
        ComplaintLeft,
        ExtensionApproval,
        HandoffResponse,
        HandoffReturn,
        MassIncidentReport,
        PaymentPurpose,
        PaymentRecord,
        PoliceDecision,
        PoliceDecisionRecord,
        Queries,
        ReferralDecisionRecord,
        ReferralReport,
        ServiceRecord,
        Signals,
        Status,
        Updates,
        VerificationResult,
    )
    from workflows.base import PROCESS_REPORTS, refuse
    from workflows.case.guarantee_payout import GuaranteePayouts
    from workflows.case.handoff import HandoffStage
    from workflows.case.investigation import InvestigationLimit
    from workflows.case.order import OrderStages
    from workflows.case.refusal import RefusalStage
    from workflows.case.state import CaseState, ProgressDelivery
    from workflows.case.verification import VerificationStage
    from workflows.texts import CLOSURE_TEXT, SERVICE_TEXT, SUBJECTIVE_ELEMENT_TEXT


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
        messenger = asyncio.create_task(self._deliver_progress(), name="messenger")
        self._start_reporting(PROCESS_REPORTS)
        # Started by signal-with-start, so the first member is normally here already.
        await workflow.wait_condition(lambda: bool(self._state.members))
        if self._state.opened_at is None:
            first = min(m.accepted_at for m in self._state.members.values())
            self._state.opened_at = first
            self._state.legal_clock = max(self._state.legal_clock, first) if self._compressed() else first
            self._record("case.opened", f"立案：案件 {input.case_id}（首件投诉受理于 {first.date()}）")
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

    # --- updates ------------------------------------------------------------------------------------------

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

    @workflow.update(name=Updates.RECORD_VERIFICATION)
    def record_verification(self, verification: VerificationResult) -> CaseStatus:
        self._state.pending_verification = verification
        return self._status()

    @record_verification.validator
    def _validate_verification(self, verification: VerificationResult) -> None:
        self._require_stage("记录核实结论", CaseStage.VERIFICATION)
        if self._state.pending_verification is not None:
            raise refuse("核实结论已记录 (the verification outcome is already recorded)")
        if not self._state.members:
            raise refuse("案件没有有效投诉 (the case has no active complaint)")
        if self._state.merge_request is not None:
            raise refuse("本案正在并入其他案件 (the case is being merged into another)")

    @workflow.update(name=Updates.RECORD_SERVICE)
    def record_service(self, service: ServiceRecord) -> CaseStatus:
        self._state.service = service
        self._state.served_at = service.served_at or self._legal_now()
        self._record(
            "order.served",
            f"限期改正指令书已{SERVICE_TEXT[service.method]}（{service.served_by}），证据："
            + "、".join(f"{e.kind.value}:{e.ref}" for e in service.evidence),
        )
        self._progress("order_served", f"限期改正指令书已{SERVICE_TEXT[service.method]}")
        return self._status()

    @record_service.validator
    def _validate_service(self, service: ServiceRecord) -> None:
        self._require_stage("记录送达", CaseStage.SERVICE)
        if self._state.order_id is None:
            raise refuse("限期改正指令书尚未下达 (the order to pay is not issued yet)")
        if self._state.service is not None:
            raise refuse("限期改正指令书已送达 (the order was already served)")

    @workflow.update(name=Updates.RECORD_PAYMENT)
    def record_payment(self, payment: PaymentRecord) -> CaseStatus:
        state = self._state
        state.payments.append(payment)
        state.payment_dates[payment.payment_id] = self._payment_date(payment)
        if payment.purpose is PaymentPurpose.COMPENSATION:
            due = (self._compensation_due() or 0) - self._compensation_paid()
            self._record(
                "payment.compensation_recorded",
                f"记录加付赔偿金支付 {payment.amount} 元（{payment.payment_id}），尚欠赔偿金 {max(due, 0)} 元",
            )
            return self._status()
        remaining = self._outstanding()
        kind = "全额" if remaining <= 0 else "部分"
        text = f"记录{kind}支付 {payment.amount} 元（{payment.payment_id}），尚欠 {remaining} 元"
        if state.stage is CaseStage.REFUSAL:
            text += "（逾期后支付）"
        self._record("payment.recorded", text)
        self._progress("payment_recorded", text)
        return self._status()

    @record_payment.validator
    def _validate_payment(self, payment: PaymentRecord) -> None:
        self._require_stage("记录支付", CaseStage.SERVICE, CaseStage.PAYMENT, CaseStage.REFUSAL)
        if any(p.payment_id == payment.payment_id for p in self._state.payments):
            raise refuse(f"支付记录 {payment.payment_id} 已存在 (payment {payment.payment_id} is already recorded)")
        paid_on = self._payment_date(payment)
        if paid_on > self._legal_now():
            raise refuse(f"支付日期 {paid_on.date()} 晚于今日 (the payment date {paid_on.date()} is in the future)")
        if payment.purpose is PaymentPurpose.COMPENSATION:
            due = self._compensation_due()
            if due is None or self._state.stage is not CaseStage.REFUSAL:
                raise refuse("尚未作出加付赔偿金决定 (no additional compensation has been decided)")
            if payment.amount > due - self._compensation_paid():
                raise refuse(
                    f"支付金额超过尚欠的加付赔偿金 {due - self._compensation_paid()} 元"
                    f" (the amount exceeds the {due - self._compensation_paid()} yuan of compensation unpaid)"
                )
            return
        outstanding = self._outstanding()
        if payment.amount > outstanding:
            raise refuse(
                f"支付金额 {payment.amount} 元超过尚欠金额 {outstanding} 元"
                f" (the amount exceeds the {outstanding} yuan outstanding)"
            )

    def _payment_date(self, payment: PaymentRecord) -> datetime:
        """When a payment counts as made: the date on its evidence (a time without a zone is China time), or
        now when it has none."""
        if payment.paid_at is None:
            return self._legal_now()
        return payment.paid_at if payment.paid_at.tzinfo else payment.paid_at.replace(tzinfo=CHINA_TZ)

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

    @workflow.update(name=Updates.RECORD_HANDOFF_RESPONSE)
    def record_handoff_response(self, response: HandoffResponse) -> CaseStatus:
        self._state.handoff_response = response
        return self._status()

    @record_handoff_response.validator
    def _validate_handoff_response(self, response: HandoffResponse) -> None:
        self._require_stage("记录交办答复", CaseStage.HANDOFF)
        verification = self._state.verification
        if verification is not None and verification.department != response.department:
            raise refuse(
                f"本案交办给 {verification.department}，不是 {response.department}"
                f" (the case was handed off to {verification.department})"
            )
        if self._state.handoff_response is not None or self._state.handoff_return is not None:
            raise refuse("交办答复已记录 (the department's answer is already recorded)")

    @workflow.update(name=Updates.RECORD_HANDOFF_RETURN)
    def record_handoff_return(self, returned: HandoffReturn) -> CaseStatus:
        self._state.handoff_return = returned
        return self._status()

    @record_handoff_return.validator
    def _validate_handoff_return(self, returned: HandoffReturn) -> None:
        self._require_stage("记录退回交办", CaseStage.HANDOFF)
        verification = self._state.verification
        if verification is not None and verification.department != returned.department:
            raise refuse(
                f"本案交办给 {verification.department}，不是 {returned.department}"
                f" (the case was handed off to {verification.department})"
            )
        if self._state.handoff_response is not None or self._state.handoff_return is not None:
            raise refuse("交办答复已记录 (the department's answer is already recorded)")

    @workflow.update(name=Updates.APPROVE_EXTENSION)
    def approve_extension(self, approval: ExtensionApproval) -> CaseStatus:
        self._state.extension = approval
        days = self._config.investigation.extension_working_days
        self._record(
            "investigation.extended",
            f"办案期限延长 {days} 个工作日（{approval.approved_by} 批准）：{approval.reason}",
        )
        for name, deadline in self._state.deadlines.items():
            if name.startswith("investigation.") and deadline.outcome == "pending":
                self._supersede(name)
        return self._status()

    @approve_extension.validator
    def _validate_extension(self, approval: ExtensionApproval) -> None:
        self._require_stage("延长办案期限", *[s for s in CaseStage if s is not CaseStage.CLOSED])
        if self._state.extension is not None:
            raise refuse("办案期限已延长过一次 (the investigation limit was already extended once)")
        if self._state.investigation_overdue:
            raise refuse("办案期限已届满，延期须在届满前批准 (an extension must be approved before the limit passes)")

    @workflow.update(name=Updates.RECORD_POLICE_DECISION)
    def record_police_decision(self, record: PoliceDecisionRecord) -> CaseStatus:
        self._state.police_decision = record
        text = "公安机关已立案" if record.decision is PoliceDecision.CASE_OPENED else "公安机关决定不予立案"
        self._record("police.decision", text + (f"（{record.police_ref}）" if record.police_ref else ""))
        return self._status()

    @record_police_decision.validator
    def _validate_police_decision(self, record: PoliceDecisionRecord) -> None:
        self._require_stage("记录公安机关决定", CaseStage.REFUSAL)
        if "police" not in self._state.referrals or self._state.police_referral_withdrawn:
            raise refuse("本案没有有效的移送公安记录 (the case has no standing criminal referral)")
        if self._state.police_decision is not None:
            raise refuse("公安机关决定已记录 (the police decision is already recorded)")

    @workflow.update(name=Updates.CLOSE_CASE)
    def close_case(self, request: ClosureRequest) -> CaseStatus:
        self._state.closure_request = request
        return self._status()

    @close_case.validator
    def _validate_close(self, request: ClosureRequest) -> None:
        state = self._state
        if state.status is Status.OPEN and state.stage is not CaseStage.REFUSAL:
            raise refuse(
                f"案件 {self._input.case_id} 当前阶段为 {state.stage.value}，按流程自动结案，不能手动结案"
                f" (in stage {state.stage.value} the case closes through its own steps, e.g. the"
                " verification outcome, the department's answer or full payment)"
            )
        self._require_stage("结案", CaseStage.REFUSAL)
        if state.closure_request is not None:
            raise refuse("结案申请已提交 (closure is already requested)")
        if request.reason is ClosureReason.REFERRED_TO_POLICE:
            if "police" not in state.referrals or state.police_referral_withdrawn:
                raise refuse("本案未移送公安机关 (the case was not referred to the police)")
        elif request.reason is ClosureReason.ADMINISTRATIVE_DECISION:
            if state.compensation_id is None:
                raise refuse("尚未作出行政处理决定 (no administrative decision has been made)")
        elif request.reason is ClosureReason.PAID_IN_FULL:
            if not self._fully_paid():
                raise refuse(
                    f"尚欠 {self._outstanding()} 元，不能以足额支付结案 ({self._outstanding()} yuan outstanding)"
                )
        else:
            raise refuse(
                f"逾期未支付的案件不能以「{CLOSURE_TEXT[request.reason]}」结案"
                f" (reason {request.reason.value} is not possible after refusal to pay)"
            )

    @workflow.query(name=Queries.STATUS)
    def status(self) -> CaseStatus:
        return self._status()
