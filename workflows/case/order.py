"""The order to pay: issued, served on the employer (with a reminder while it is not), then paid by its
deadline or refused. The inspector records the service and the payments (updates `record_service`,
`record_payment`); a payment counts from the date on its evidence."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.legal_time import CHINA_TZ
    from services.contracts.lifecycle import (
        CaseStage,
        CaseStatus,
        ClosureReason,
        DayUnit,
        Deadline,
        Office,
        OrderToPayRequest,
        PaymentPurpose,
        PaymentRecord,
        ServiceRecord,
        Updates,
    )
    from services.contracts.lifecycle.activities import issue_order_to_pay
    from workflows.base import refuse
    from workflows.case.growth import CASE_GROWS, CaseGrowth
    from workflows.core import WaitResult
    from workflows.texts import SERVICE_TEXT


# Payment on time is judged by the date the wages were paid, not the date the payment was recorded; the
# refusal steps wait a grace period for a late record of an on-time payment.
PAYMENT_BY_DATE = "2026-11-payment-by-date"


class OrderStages(CaseGrowth):
    """The order to pay through its service and payment stages."""

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
            if workflow.patched(CASE_GROWS):
                self._state.ordered_amount, self._state.ordered_workers = self._amount_owed(), self._workers()
            unit = "个工作日" if cfg.pay_unit is DayUnit.WORKING else "日"
            text = f"下达限期改正指令书（{ref.id}）：{self._workers()} 人、{self._outstanding()} 元，送达后 {cfg.pay_days} {unit}内支付"
            self._record("order.issued", text)
            self._progress("order_issued", text)

        def served_or_paid() -> bool:
            return self._state.service is not None or self._fully_paid()

        def served_paid_or_grown() -> bool:
            return served_or_paid() or self._figures_pending()

        assert self._state.order_issued_at is not None
        reminder = self._order_step("service.reminder")
        if not self._is_done(reminder):
            await self._deadline(
                reminder,
                self._state.order_issued_at,
                cfg.service_reminder_working_days,
                DayUnit.WORKING,
            )
            result = await self._wait(served_or_paid, reminder)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.EXPIRED:
                await self._notice(
                    Office.INSPECTOR,
                    "order.not_served",
                    f"案件 {self._input.case_id} 的限期改正指令书（{self._state.order_id}）尚未送达",
                    step=reminder,
                )
                self._record("order.not_served", "限期改正指令书尚未送达，已提醒承办人")
            self._mark_done(reminder)
        while True:
            result = await self._wait(served_paid_or_grown, None)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if not self._figures_pending():
                break
            # New totals before the order was served: the amended order is served with it.
            await self._amend_order()
        if self._fully_paid():
            self._close(ClosureReason.PAID_IN_FULL, "送达前已足额支付")
        else:
            self._set_stage(CaseStage.PAYMENT)
        return None

    async def _payment(self) -> WaitResult | None:
        cfg = self._config.order
        assert self._state.served_at is not None
        deadline = await self._deadline("order.payment", self._state.served_at, cfg.pay_days, cfg.pay_unit)
        result = await self._wait(
            lambda: self._fully_paid() or self._figures_pending(), deadline.name, settle_when_done=False
        )
        if result is WaitResult.CONTINUE_AS_NEW:
            return result
        if result is WaitResult.DONE and not self._fully_paid():
            # New totals while the order runs: an amended order starts a new round; otherwise wait on.
            if await self._amend_order():
                self._start_order_round()
            return None
        if result is WaitResult.DONE:
            self._settle(deadline.name, "met")
            self._close(ClosureReason.PAID_IN_FULL, f"在 {deadline.due_date} 期限内足额支付")
            return None
        if workflow.patched(PAYMENT_BY_DATE):
            result = await self._late_record_grace(deadline)
            if result is WaitResult.CONTINUE_AS_NEW:
                return result
            if result is WaitResult.DONE:
                self._close(
                    ClosureReason.PAID_IN_FULL,
                    f"支付日期在 {deadline.due_date} 期限内，足额支付（期限届满后登记）",
                )
                return None
        self._state.refused_at = self._legal_now()
        self._state.payments_before_refusal = len(self._state.payments)
        self._record(
            "order.deadline_passed",
            f"限期 {deadline.due_date} 届满，仍欠 {self._outstanding()} 元未支付（拒不支付）",
        )
        self._set_stage(CaseStage.REFUSAL)
        return None

    async def _late_record_grace(self, deadline: Deadline) -> WaitResult:
        """After the deadline passed with the wages not recorded as paid: DONE when payments dated on or before
        it cover the amount (an inspector records a payment the morning after, with the bank's date), waiting
        up to the configured grace for such a record before the refusal steps; EXPIRED when none came."""

        def paid_on_time() -> bool:
            return self._paid_by(deadline.due_at)

        if paid_on_time():
            return WaitResult.DONE
        grace = self._config.order.late_record_grace_working_days
        if grace == 0:
            return WaitResult.EXPIRED
        if not self._is_done("order.late_record_awaited"):
            self._record(
                "order.late_record_awaited",
                f"限期 {deadline.due_date} 届满，未登记足额支付；{grace} 个工作日内核对期限内的支付凭证后认定是否拒不支付",
            )
            self._mark_done("order.late_record_awaited")
        late_record = await self._deadline("order.late_record", deadline.due_at, grace, DayUnit.WORKING)
        return await self._wait(paid_on_time, late_record.name)

    # --- service and payments (updates) ---------------------------------------------------------------------

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
