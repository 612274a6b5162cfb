"""One case — the complaints against one employer on one project (workflow id `case:<case id>`).

Started by the first accepted complaint through signal-with-start (`complaint_joined`); later complaints
join by the same signal. Workers and amounts are summed here, so the order to pay and the criminal
threshold are judged on the whole case. Each milestone is reported to every member complaint, whose own
workflow tells its complainant.

Stages: verification → (handoff with its ladder | order: service → payment → refusal) → closed, with the
investigation limit (60 working days from acceptance, +30 with approval) watched alongside all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field

    from services.contracts.lifecycle import (
        CASE_WORKFLOW_TYPE,
        CLASSIFICATION_OF,
        CLOSING_OUTCOMES,
        SA_CASE_ID,
        SA_CLASSIFICATION,
        SA_COUNTY,
        SA_NEXT_DEADLINE,
        SA_OVERDUE,
        SA_STAGE,
        SA_STATUS,
        CaseInput,
        CaseMember,
        CaseProgress,
        CaseStage,
        CaseStatus,
        Classification,
        ClosureReason,
        ClosureRequest,
        CompensationRequest,
        ComplaintLeft,
        DayUnit,
        DocumentRef,
        ExtensionApproval,
        HandoffResponse,
        HandoffReturn,
        LetterKind,
        LetterRequest,
        MassIncidentReport,
        Office,
        OrderToPayRequest,
        PaymentRecord,
        PoliceDecision,
        PoliceDecisionRecord,
        Queries,
        ReferralRequest,
        ReferralTarget,
        SanctionKind,
        SanctionRequest,
        ServiceRecord,
        Signals,
        Status,
        ThresholdAssessment,
        Updates,
        VerificationOutcome,
        VerificationResult,
        WithdrawReferralRequest,
        complaint_workflow_id,
    )
    from services.contracts.lifecycle.activities import (
        decide_additional_compensation,
        issue_letter,
        issue_order_to_pay,
        make_referral,
        mark_for_publication,
        report_correction,
        start_blacklist_procedure,
        withdraw_referral,
    )
    from services.contracts.process_reports import is_overdue
    from workflows.base import PROCESS_REPORTS, LifecycleWorkflow, refuse
    from workflows.core import LifecycleState, WaitResult
    from workflows.rules import assess_criminal_threshold
    from workflows.texts import CLOSURE_TEXT, LETTER_TEXT, OUTCOME_TEXT, SERVICE_TEXT

# The letters of one handoff round: the handoff letter and the rungs of its ladder.
HANDOFF_LETTER_KINDS = frozenset(kind.value for kind in LetterKind)


class ProgressDelivery(BaseModel):
    complaint_id: str
    progress: CaseProgress


class CaseState(LifecycleState):
    stage: CaseStage = CaseStage.VERIFICATION
    status: Status = Status.OPEN
    opened_at: datetime | None = None
    members: dict[str, CaseMember] = Field(default_factory=dict)
    left: dict[str, str] = Field(default_factory=dict)
    mass_incident: bool = False
    pending_verification: VerificationResult | None = None
    verification: VerificationResult | None = None
    classification: Classification | None = None
    handoff_response: HandoffResponse | None = None
    handoff_return: HandoffReturn | None = None
    # Raised each time a department sends the handoff back: the next handoff is a new round with its own
    # letters, deadlines and ladder (the earlier rounds stay in `letters`/`deadlines` as `name@round`).
    handoff_round: int = 1
    ladder_rung: int = 0
    letters: dict[str, str] = Field(default_factory=dict)
    order_id: str | None = None
    order_issued_at: datetime | None = None
    service: ServiceRecord | None = None
    served_at: datetime | None = None
    payments: list[PaymentRecord] = Field(default_factory=list)
    refused_at: datetime | None = None
    payments_before_refusal: int | None = None
    threshold: ThresholdAssessment | None = None
    compensation_id: str | None = None
    referrals: dict[str, str] = Field(default_factory=dict)
    police_referral_withdrawn: bool = False
    police_decision: PoliceDecisionRecord | None = None
    blacklist_id: str | None = None
    publication_id: str | None = None
    corrections_reported: list[str] = Field(default_factory=list)
    extension: ExtensionApproval | None = None
    investigation_overdue: bool = False
    closure_request: ClosureRequest | None = None
    closure_reason: ClosureReason | None = None
    outbox: list[ProgressDelivery] = Field(default_factory=list)


@workflow.defn(name=CASE_WORKFLOW_TYPE)
class CaseWorkflow(LifecycleWorkflow):
    REPORTED_FIELDS = frozenset({
        "stage", "status", "members", "left", "classification", "verification", "overdue", "investigation_overdue",
        "deadlines", "active_deadlines", "letters", "order_id", "service", "payments", "threshold",
        "compensation_id", "referrals", "police_referral_withdrawn", "police_decision", "blacklist_id",
        "publication_id", "extension", "closure_reason", "handoff_round",
    })

    @workflow.init
    def __init__(self, input: CaseInput) -> None:
        self._input = input
        self._config = input.config
        if input.resume is not None:
            self._state: CaseState = CaseState.model_validate(input.resume)
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

    # --- verification and classification ---------------------------------------------------------------

    async def _verification(self) -> WaitResult | None:
        result = await self._wait(
            lambda: self._state.pending_verification is not None or self._everyone_left(), None
        )
        if result is WaitResult.CONTINUE_AS_NEW:
            return result
        if self._state.pending_verification is None:
            self._close(ClosureReason.WITHDRAWN, "全部投诉已撤回")
            return None
        verification = self._state.pending_verification
        self._state.verification = verification
        self._state.classification = CLASSIFICATION_OF[verification.outcome]
        text = f"核实结论：{OUTCOME_TEXT[verification.outcome]}（{verification.verified_by}）"
        if verification.confirmed_amount is not None:
            text += f"，核定欠薪 {verification.confirmed_amount} 元、{self._workers()} 人"
        self._record("case.verified", text)
        self._progress("verified", text)
        self._publish_search_attributes()

        outcome = verification.outcome
        if outcome in CLOSING_OUTCOMES:
            self._close(CLOSING_OUTCOMES[outcome], OUTCOME_TEXT[outcome])
        elif outcome is VerificationOutcome.LABOUR_DISPUTE:
            if "arbitration" not in self._state.referrals:
                ref = await self._referral(
                    ReferralTarget.ARBITRATION, "劳动争议，引导申请劳动人事争议仲裁（速裁）"
                )
                self._state.referrals["arbitration"] = ref.id
            self._close(ClosureReason.REFERRED_TO_ARBITRATION, "已引导至劳动人事争议仲裁院")
        elif self._state.classification is Classification.NON_WAGE_DISPUTE:
            self._set_stage(CaseStage.HANDOFF)
        else:
            self._set_stage(CaseStage.SERVICE)
        return None

    # --- handoff and its ladder ------------------------------------------------------------------------------

    async def _handoff(self) -> WaitResult | None:
        cfg = self._config.handoff
        verification = self._state.verification
        assert verification is not None and verification.department is not None
        department = verification.department
        response_deadline = await self._deadline(
            "handoff.response", self._legal_now(), cfg.response_working_days, DayUnit.WORKING
        )
        if LetterKind.HANDOFF.value not in self._state.letters:
            await self._letter(
                LetterKind.HANDOFF, department, response_deadline.due_at, response_deadline.due_date
            )
            self._progress("handed_off", f"已向 {department} 交办，答复期限 {response_deadline.due_date}")

        def answered() -> bool:
            return self._state.handoff_response is not None or self._state.handoff_return is not None

        def rung_deadline() -> str:
            rung_index = self._state.ladder_rung
            return "handoff.response" if rung_index == 0 else f"handoff.{cfg.ladder[rung_index - 1].kind.value}"

        while not answered():
            rung_index = self._state.ladder_rung
            current = rung_deadline()
            if self._state.deadlines[current].outcome == "expired":
                # Past the top of the ladder: wait for the answer however long it takes.
                result = await self._wait(answered, None)
            else:
                result = await self._wait(answered, current)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.DONE:
                break
            expired = self._state.deadlines[current]
            self._state.overdue = True
            if rung_index < len(cfg.ladder):
                rung = cfg.ladder[rung_index]
                next_deadline = await self._deadline(
                    f"handoff.{rung.kind.value}", expired.due_at, rung.wait_working_days, DayUnit.WORKING
                )
                await self._letter(rung.kind, department, next_deadline.due_at, next_deadline.due_date)
                self._state.ladder_rung = rung_index + 1
            else:
                step = self._round_step("handoff.ladder_exhausted")
                if not self._is_done(step):
                    await self._notice(
                        Office.SUPERVISING_OFFICE,
                        step,
                        f"案件 {self._input.case_id}：{department} 经全部催督程序仍未答复",
                        step=step,
                        department=department,
                    )
                    self._record(step, f"{department} 经全部催督程序仍未答复，已报根治欠薪办")
                    self._mark_done(step)
            self._publish_search_attributes()

        # An answer that arrived before the first wait (while the letter was going out) is in time as well.
        self._settle(rung_deadline(), "met")
        self._state.overdue = False
        if self._state.handoff_return is not None:
            await self._handoff_returned()
            return None
        response = self._state.handoff_response
        assert response is not None
        self._record("handoff.answered", f"{response.department} 答复：{response.summary}")
        self._close(ClosureReason.HANDED_OFF, f"{response.department} 已答复")
        return None

    def _round_step(self, step: str) -> str:
        """A handoff step's name in the current round (the first round keeps the plain name)."""
        return step if self._state.handoff_round == 1 else f"{step}@{self._state.handoff_round}"

    async def _handoff_returned(self) -> None:
        """The department sent the handoff back: the inspector verifies and classifies the case anew."""
        returned = self._state.handoff_return
        assert returned is not None
        step = self._round_step("handoff.returned")
        if not self._is_done(step):
            await self._notice(
                Office.INSPECTOR,
                "handoff_returned",
                f"案件 {self._input.case_id}：{returned.department} 退回交办（{returned.reason}），请重新核实定性",
                step=step,
                department=returned.department,
            )
            self._mark_done(step)
        self._record(
            "handoff.returned",
            f"{returned.department} 退回交办：{returned.reason}（{returned.returned_by}）；案件重新核实定性",
        )
        self._progress("handoff_returned", "主管部门退回交办，案件将重新核实处理")
        # Put this round aside under `name@round`: the next handoff, to whichever department, starts clean.
        finished = self._state.handoff_round
        for name in [n for n in self._state.deadlines if n.startswith("handoff.") and "@" not in n]:
            self._supersede(name)
            self._state.deadlines[f"{name}@{finished}"] = self._state.deadlines.pop(name)
        for kind in [k for k in self._state.letters if k in HANDOFF_LETTER_KINDS]:
            self._state.letters[f"{kind}@{finished}"] = self._state.letters.pop(kind)
        self._state.handoff_round = finished + 1
        self._state.ladder_rung = 0
        self._state.handoff_response = None
        self._state.handoff_return = None
        self._state.pending_verification = None
        self._state.verification = None
        self._state.classification = None
        self._set_stage(CaseStage.VERIFICATION)

    async def _letter(self, kind: LetterKind, department: str, due_at: datetime, due_date: Any) -> None:
        ref = await self._activity(
            issue_letter,
            LetterRequest(
                idempotency_key=self._key(self._round_step(f"letter:{kind.value}")),
                case_id=self._input.case_id,
                county=self._input.county,
                department=department,
                kind=kind,
                response_due_at=due_at,
                response_due_date=due_date,
            ),
        )
        self._state.letters[kind.value] = ref.id
        self._record(
            f"letter.{kind.value}",
            f"向 {department} 发出{LETTER_TEXT[kind]}（{ref.id}），限 {due_date} 前答复",
        )

    # --- order to pay: service, payment, refusal ---------------------------------------------------------

    async def _service(self) -> WaitResult | None:
        cfg = self._config.order
        if self._state.order_id is None:
            ref = await self._activity(
                issue_order_to_pay,
                OrderToPayRequest(
                    idempotency_key=self._key("order"),
                    case_id=self._input.case_id,
                    county=self._input.county,
                    employer_ref=self._input.employer_ref,
                    project_ref=self._input.project_ref,
                    amount_owed=self._outstanding(),
                    workers=self._workers(),
                    pay_days=cfg.pay_days,
                    pay_unit=cfg.pay_unit,
                ),
            )
            self._state.order_id = ref.id
            self._state.order_issued_at = self._legal_now()
            unit = "个工作日" if cfg.pay_unit is DayUnit.WORKING else "日"
            text = f"下达限期改正指令书（{ref.id}）：{self._workers()} 人、{self._outstanding()} 元，送达后 {cfg.pay_days} {unit}内支付"
            self._record("order.issued", text)
            self._progress("order_issued", text)

        def served_or_paid() -> bool:
            return self._state.service is not None or self._fully_paid()

        assert self._state.order_issued_at is not None
        if not self._is_done("service.reminder"):
            await self._deadline(
                "service.reminder",
                self._state.order_issued_at,
                cfg.service_reminder_working_days,
                DayUnit.WORKING,
            )
            result = await self._wait(served_or_paid, "service.reminder")
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.EXPIRED:
                await self._notice(
                    Office.INSPECTOR,
                    "order.not_served",
                    f"案件 {self._input.case_id} 的限期改正指令书（{self._state.order_id}）尚未送达",
                    step="service.reminder",
                )
                self._record("order.not_served", "限期改正指令书尚未送达，已提醒承办人")
            self._mark_done("service.reminder")
        result = await self._wait(served_or_paid, None)
        if result is WaitResult.CONTINUE_AS_NEW:
            return result
        if self._fully_paid():
            self._close(ClosureReason.PAID_IN_FULL, "送达前已足额支付")
        else:
            self._set_stage(CaseStage.PAYMENT)
        return None

    async def _payment(self) -> WaitResult | None:
        cfg = self._config.order
        assert self._state.served_at is not None
        deadline = await self._deadline("order.payment", self._state.served_at, cfg.pay_days, cfg.pay_unit)
        result = await self._wait(self._fully_paid, deadline.name)
        if result is WaitResult.CONTINUE_AS_NEW:
            return result
        if result is WaitResult.DONE:
            self._close(ClosureReason.PAID_IN_FULL, f"在 {deadline.due_date} 期限内足额支付")
            return None
        self._state.refused_at = self._legal_now()
        self._state.payments_before_refusal = len(self._state.payments)
        self._record(
            "order.deadline_passed",
            f"限期 {deadline.due_date} 届满，仍欠 {self._outstanding()} 元未支付（拒不支付）",
        )
        self._set_stage(CaseStage.REFUSAL)
        return None

    async def _refusal(self) -> WaitResult | None:
        cfg = self._config.order
        state = self._state
        if state.compensation_id is None and not self._fully_paid():
            ref = await self._activity(
                decide_additional_compensation,
                CompensationRequest(
                    idempotency_key=self._key("compensation"),
                    case_id=self._input.case_id,
                    county=self._input.county,
                    employer_ref=self._input.employer_ref,
                    unpaid_amount=self._outstanding(),
                    rate=cfg.additional_compensation_rate,
                ),
            )
            state.compensation_id = ref.id
            rate = int(cfg.additional_compensation_rate * 100)
            self._record("compensation.decided", f"作出加付赔偿金决定（{ref.id}）：按未付金额的 {rate}% 加付")
        if state.threshold is None:
            state.threshold = assess_criminal_threshold(
                state.members.values(),
                self._config.threshold,
                amount_owed=self._amount_owed(),
                amount_paid=self._amount_paid(),
                workers=self._workers(),
            )
            self._record(
                "threshold.assessed", f"数额较大标准（{self._config.province}）：{state.threshold.basis}"
            )
        criminal = state.threshold.reached
        if criminal and "police" not in state.referrals and not self._fully_paid():
            ref = await self._referral(ReferralTarget.POLICE, state.threshold.basis)
            state.referrals["police"] = ref.id
            self._record("referral.police", f"涉嫌拒不支付劳动报酬罪，移送公安机关（{ref.id}）")
        if (
            criminal
            and cfg.request_early_procuratorate
            and "police" in state.referrals
            and "procuratorate" not in state.referrals
            and not state.police_referral_withdrawn
        ):
            ref = await self._referral(ReferralTarget.PROCURATORATE, "商请检察机关提前介入")
            state.referrals["procuratorate"] = ref.id
            self._record("referral.procuratorate", f"商请检察机关提前介入（{ref.id}）")
        if criminal or state.mass_incident:
            basis = state.threshold.basis if criminal else "拖欠工资引发群体性事件"
            if state.blacklist_id is None:
                ref = await self._sanction(start_blacklist_procedure, SanctionKind.BLACKLIST_PROCEDURE, basis)
                state.blacklist_id = ref.id
                self._record("blacklist.started", f"启动失信联合惩戒名单程序（{ref.id}）：事先告知")
            if state.publication_id is None:
                ref = await self._sanction(mark_for_publication, SanctionKind.PUBLICATION, basis)
                state.publication_id = ref.id
                self._record("publication.marked", f"列入重大劳动保障违法行为季度公布（{ref.id}）")
        if not self._is_done("refusal.reported"):
            parts = ["加付赔偿金"] if state.compensation_id else []
            if "police" in state.referrals:
                parts.append("移送公安机关")
            if state.blacklist_id:
                parts.append("启动失信惩戒程序")
            text = "用人单位逾期未支付，已" + "、".join(parts or ["依法处理"])
            self._record("refusal.escalated", text)
            self._progress("escalated", text)
            self._publish_search_attributes()
            self._mark_done("refusal.reported")

        while True:
            result = await self._wait(
                lambda: (
                    self._fully_paid()
                    or state.closure_request is not None
                    or bool(self._unreported_payments())
                    or self._incident_unsanctioned()
                ),
                None,
            )
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if self._incident_unsanctioned() and not self._fully_paid():
                return (
                    None  # run the stage again: a mass incident reported after refusal starts the sanctions
                )
            for payment in self._unreported_payments():
                # Payment after refusal is still recorded and matters to sanctions (an employer that paid
                # before the listing decision may be left off).
                if state.blacklist_id or state.publication_id:
                    await self._sanction(
                        report_correction,
                        SanctionKind.CORRECTION,
                        f"拒不支付后补发 {payment.amount} 元（{payment.payment_id}）",
                        step=f"correction:{payment.payment_id}",
                        amount=payment.amount,
                    )
                state.corrections_reported.append(payment.payment_id)
            if self._fully_paid():
                police_opened = (
                    state.police_decision is not None
                    and state.police_decision.decision is PoliceDecision.CASE_OPENED
                )
                if "police" in state.referrals and not police_opened and not state.police_referral_withdrawn:
                    # Paid in full before the police opened a criminal case: no crime (法释〔2013〕3号 art. 6),
                    # so the referral does not proceed.
                    for target in ("police", "procuratorate"):
                        if target in state.referrals:
                            await self._activity(
                                withdraw_referral,
                                WithdrawReferralRequest(
                                    idempotency_key=self._key(f"withdraw:{target}"),
                                    case_id=self._input.case_id,
                                    referral_id=state.referrals[target],
                                    reason="公安机关立案前已足额支付劳动报酬",
                                ),
                            )
                    state.police_referral_withdrawn = True
                    self._record("referral.withdrawn", "公安机关立案前已足额支付，撤回移送，不再追究刑事责任")
                if police_opened:
                    self._close(
                        ClosureReason.REFERRED_TO_POLICE, "公安机关立案后足额支付，已记录供司法机关参考"
                    )
                else:
                    self._close(ClosureReason.PAID_IN_FULL, "逾期后足额支付")
                return None
            if state.closure_request is not None:
                request = state.closure_request
                self._close(
                    request.reason,
                    f"{request.closed_by} 结案" + (f"：{request.notes}" if request.notes else ""),
                )
                return None

    def _incident_unsanctioned(self) -> bool:
        return self._state.mass_incident and self._state.blacklist_id is None

    def _unreported_payments(self) -> list[PaymentRecord]:
        """Payments recorded after the deadline passed that the loop has not yet acted on."""
        first = self._state.payments_before_refusal
        if first is None:
            return []
        return [
            p for p in self._state.payments[first:] if p.payment_id not in self._state.corrections_reported
        ]

    async def _referral(self, target: ReferralTarget, basis: str) -> DocumentRef:
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

    async def _sanction(
        self,
        activity: Callable[[SanctionRequest], Awaitable[DocumentRef]],
        kind: SanctionKind,
        basis: str,
        *,
        step: str | None = None,
        amount: Decimal | None = None,
    ) -> DocumentRef:
        return await self._activity(
            activity,
            SanctionRequest(
                idempotency_key=self._key(step or f"sanction:{kind.value}"),
                case_id=self._input.case_id,
                county=self._input.county,
                employer_ref=self._input.employer_ref,
                kind=kind,
                amount=self._outstanding() if amount is None else amount,
                basis=basis,
            ),
        )

    # --- the investigation limit -----------------------------------------------------------------------------

    async def _watch_investigation(self) -> None:
        cfg = self._config.investigation
        state = self._state
        assert state.opened_at is not None

        def closed() -> bool:
            return state.status is not Status.OPEN

        while not closed():
            extended = state.extension is not None
            total = cfg.limit_working_days + (cfg.extension_working_days if extended else 0)
            limit = await self._deadline(
                f"investigation.limit.{total}", state.opened_at, total, DayUnit.WORKING
            )

            def settled(extended: bool = extended) -> bool:
                return closed() or (state.extension is not None) != extended

            restart = False
            for before in cfg.warning_working_days_before:
                step = f"investigation.warning.{total}.{before}"
                if before >= total or self._is_done(step):
                    continue
                await self._deadline(step, state.opened_at, total - before, DayUnit.WORKING)
                result = await self._wait(settled, step)
                if result is not WaitResult.EXPIRED:
                    restart = True
                    break
                await self._notice(
                    Office.INSPECTOR,
                    "investigation.warning",
                    f"案件 {self._input.case_id} 距办案期限 {limit.due_date} 还有 {before} 个工作日",
                    step=step,
                    due_at=limit.due_at,
                )
                self._record(
                    "investigation.warning", f"预警：距办案期限 {limit.due_date} 还有 {before} 个工作日"
                )
                self._mark_done(step)
            if restart:
                if closed() or self._should_continue_as_new():
                    return
                continue
            step = f"investigation.overdue.{total}"
            if not self._is_done(step):
                result = await self._wait(settled, limit.name)
                if result is WaitResult.EXPIRED:
                    state.investigation_overdue = True
                    await self._notice(
                        Office.SUPERVISING_OFFICE,
                        "investigation.overdue",
                        f"案件 {self._input.case_id} 超过办案期限 {limit.due_date} 仍未办结",
                        step=step,
                        due_at=limit.due_at,
                    )
                    self._record(
                        "investigation.overdue", f"超过办案期限 {limit.due_date} 仍未办结，标记为超期"
                    )
                    self._publish_search_attributes()
                    self._mark_done(step)
                elif closed() or self._should_continue_as_new():
                    return
                else:
                    continue
            await workflow.wait_condition(lambda: settled() or self._should_continue_as_new())
            if self._should_continue_as_new() and not settled():
                return

    # --- closing and reporting ------------------------------------------------------------------------------

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

    # --- sums ----------------------------------------------------------------------------------------------

    def _everyone_left(self) -> bool:
        return not self._state.members and bool(self._state.left)

    def _amount_owed(self) -> Decimal:
        verification = self._state.verification
        if verification is not None and verification.confirmed_amount is not None:
            return verification.confirmed_amount
        return sum((m.amount_owed for m in self._state.members.values()), Decimal(0))

    def _workers(self) -> int:
        verification = self._state.verification or self._state.pending_verification
        if verification is not None and verification.confirmed_workers is not None:
            return verification.confirmed_workers
        return sum(m.workers_affected for m in self._state.members.values())

    def _amount_paid(self) -> Decimal:
        return sum((p.amount for p in self._state.payments), Decimal(0))

    def _outstanding(self) -> Decimal:
        return max(self._amount_owed() - self._amount_paid(), Decimal(0))

    def _fully_paid(self) -> bool:
        return bool(self._state.payments) and self._outstanding() <= 0

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
            raise refuse(
                f"案件 {self._input.case_id} 已结案（{reason}），不能{action} (the case is closed: {reason})"
            )
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
            raise refuse(
                f"支付记录 {payment.payment_id} 已存在 (payment {payment.payment_id} is already recorded)"
            )
        outstanding = self._outstanding()
        if payment.amount > outstanding:
            raise refuse(
                f"支付金额 {payment.amount} 元超过尚欠金额 {outstanding} 元"
                f" (the amount exceeds the {outstanding} yuan outstanding)"
            )

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
            raise refuse(
                "办案期限已届满，延期须在届满前批准 (an extension must be approved before the limit passes)"
            )

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

    # --- views -----------------------------------------------------------------------------------------------

    def _overdue(self) -> bool:
        state = self._state
        return state.overdue or state.investigation_overdue or self._needs_attention()

    def _status(self, *, timeline: bool = True) -> CaseStatus:
        state = self._state
        verification = state.verification
        return CaseStatus(
            case_id=self._input.case_id,
            county=self._input.county,
            stage=state.stage,
            status=state.status,
            classification=state.classification,
            outcome=verification.outcome if verification else None,
            members=list(state.members),
            workers=self._workers(),
            amount_owed=self._amount_owed(),
            amount_paid=self._amount_paid(),
            outstanding=self._outstanding(),
            deadlines=dict(state.deadlines),
            next_deadline=self._next_deadline(),
            investigation_overdue=state.investigation_overdue,
            extension_approved=state.extension is not None,
            overdue=is_overdue(state.status, state.overdue, state.investigation_overdue),
            letters=dict(state.letters),
            order_id=state.order_id,
            served=state.service is not None,
            threshold=state.threshold,
            compensation_decision_id=state.compensation_id,
            referrals=dict(state.referrals),
            police_referral_withdrawn=state.police_referral_withdrawn,
            police_decision=state.police_decision.decision if state.police_decision else None,
            blacklist_procedure_id=state.blacklist_id,
            publication_id=state.publication_id,
            closure_reason=state.closure_reason,
            timeline=list(state.timeline) if timeline else [],
        )

    def _search_attribute_values(self) -> list[tuple[SearchAttributeKey[Any], Any]]:
        state = self._state
        return [
            (SA_CASE_ID, self._input.case_id),
            (SA_COUNTY, self._input.county),
            (SA_STAGE, state.stage.value),
            (SA_STATUS, state.status.value),
            (SA_CLASSIFICATION, state.classification.value if state.classification else None),
            (SA_NEXT_DEADLINE, self._next_deadline()),
            (SA_OVERDUE, self._overdue()),
        ]
