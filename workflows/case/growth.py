"""A case that grows after verification: a complaint joining the verified case reopens its figures.

Until the inspector confirms the case's totals anew (`confirm_figures`), the late complaint counts at what it
claims, so the case cannot close "paid in full" while its worker is unpaid. A confirmation above what the
order states brings an amended order (补充限期改正指令书) stating the new total and the amount added:

- before the refusal (the order issued, served or running), the amended order replaces the round: the order's
  deadlines so far are put aside as `name@round`, and it is served and paid by its own deadline like the
  first, so the refusal, when it comes, judges the whole case;
- after the refusal, the amended order gives its own time to pay (`order.amended_payment#n`, counted from its
  issue: the employer is already under order), and when that passes unpaid the refusal steps run again on
  the whole case: the criminal threshold is assessed anew, the referral proposed if it is now reached, the
  listing criteria judged again.
"""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        CaseMember,
        CaseStage,
        CaseStatus,
        Deadline,
        FiguresConfirmation,
        OrderToPayRequest,
        Status,
        Updates,
    )
    from services.contracts.lifecycle.activities import issue_order_to_pay
    from workflows.base import refuse
    from workflows.case.closure import CaseClosure
    from workflows.case.views import AMENDED_PAYMENT

# Complaints joining a verified case reopen its figures, and amended orders follow (this module).
CASE_GROWS = "2026-11-case-grows"


class CaseGrowth(CaseClosure):
    """Late complaints, the inspector's new totals and the amended orders they bring."""

    def _member_joined_late(self, member: CaseMember) -> None:
        """Called when a complaint joins: after verification its claim is counted until confirmed anew."""
        state = self._state
        if state.verification is None or state.status is not Status.OPEN or not workflow.patched(CASE_GROWS):
            return
        state.late_members.append(member.complaint_id)
        self._record(
            "case.figures_reopened",
            f"投诉 {member.complaint_id} 在核实后并入（{member.workers_affected} 人、{member.amount_owed} 元）："
            "暂按投诉金额计入，待承办人重新核定本案合计",
        )

    @workflow.update(name=Updates.CONFIRM_FIGURES)
    def confirm_figures(self, confirmation: FiguresConfirmation) -> CaseStatus:
        self._apply_figure_confirmation(confirmation)
        return self._status()

    @confirm_figures.validator
    def _validate_figures(self, confirmation: FiguresConfirmation) -> None:
        self._validate_figure_confirmation(confirmation)

    def _apply_figure_confirmation(self, confirmation: FiguresConfirmation) -> None:
        state = self._state
        state.figures = confirmation
        state.late_members = []
        state.figures_confirmed += 1
        text = (
            f"承办人（{confirmation.confirmed_by}）重新核定本案合计：{confirmation.confirmed_workers} 人、"
            f"{confirmation.confirmed_amount} 元" + (f"（{confirmation.notes}）" if confirmation.notes else "")
        )
        self._record("case.figures_confirmed", text)
        self._progress("figures_confirmed", text)

    def _validate_figure_confirmation(self, confirmation: FiguresConfirmation) -> None:
        state = self._state
        if state.status is not Status.OPEN:
            raise refuse("案件已结案，不能重新核定金额 (the case is closed)")
        if state.stage not in (CaseStage.SERVICE, CaseStage.PAYMENT, CaseStage.REFUSAL):
            raise refuse(
                f"案件当前阶段为 {state.stage.value}，核实结论记录后、责令支付阶段方可重新核定合计"
                " (the totals are confirmed anew once the order stages have begun; before that, in the"
                " verification outcome)"
            )
        if self._figures_pending():
            raise refuse("上一次重新核定尚在处理 (the previous confirmation is still being applied)")
        paid = self._amount_paid()
        if confirmation.confirmed_amount < paid:
            raise refuse(
                f"核定金额 {confirmation.confirmed_amount} 元少于已支付的 {paid} 元"
                f" (the confirmed amount is below the {paid} yuan already paid)"
            )

    def _figures_pending(self) -> bool:
        """A confirmation the main loop has not yet acted on."""
        return self._state.figures_confirmed != self._state.figures_applied

    async def _amend_order(self) -> bool:
        """Act on the latest confirmation: issue an amended order when the case now owes more (or more workers)
        than the orders so far state. True when one was issued."""
        state = self._state
        state.figures_applied = state.figures_confirmed
        if state.order_id is None:
            return False
        ordered_amount, ordered_workers = self._ordered()
        added = self._amount_owed() - ordered_amount
        if added <= 0 and self._workers() <= ordered_workers:
            return False
        cfg = self._config.order
        number = len(state.amended_orders) + 1
        ref = await self._activity(
            issue_order_to_pay,
            OrderToPayRequest(
                idempotency_key=self._key(f"order.amended:{number}"),
                case_id=self._input.case_id,
                county=self._input.county,
                employer_ref=self._input.employer_ref,
                project_ref=self._input.project_ref,
                amount_owed=self._outstanding(),
                workers=self._workers(),
                pay_days=cfg.pay_days,
                pay_unit=cfg.pay_unit,
                amends=state.amended_orders[-1] if state.amended_orders else state.order_id,
                added_amount=max(added, 0),
            ),
        )
        state.amended_orders.append(ref.id)
        state.ordered_amount, state.ordered_workers = self._amount_owed(), self._workers()
        text = (
            f"下达补充限期改正指令书（{ref.id}）：本案核定 {self._workers()} 人、{self._amount_owed()} 元，"
            f"较原指令书增加 {max(added, 0)} 元；尚欠 {self._outstanding()} 元"
        )
        self._record("order.amended", text)
        self._progress("order_amended", text)
        return True

    def _ordered(self) -> tuple[Decimal, int]:
        """What the orders so far state (for an order issued before this was kept: the verified figures, or the
        complaints that joined before verification)."""
        state = self._state
        if state.ordered_amount is not None and state.ordered_workers is not None:
            return state.ordered_amount, state.ordered_workers
        verification = state.verification
        early = [m for c, m in state.members.items() if c not in state.late_members]
        amount = (
            verification.confirmed_amount
            if verification and verification.confirmed_amount is not None
            else (sum((m.amount_owed for m in early), Decimal(0)))
        )
        workers = (
            verification.confirmed_workers
            if verification and verification.confirmed_workers is not None
            else (sum(m.workers_affected for m in early))
        )
        return amount, workers

    def _start_order_round(self) -> None:
        """Before the refusal, an amended order starts a new round of service and payment: the round's
        deadlines are put aside as `name@round`, and the case waits for the amended order to be served."""
        state = self._state
        finished = state.order_round
        for name in [n for n in state.deadlines if n.split(".")[0] in ("order", "service") and "@" not in n]:
            self._supersede(name)
            state.deadlines[f"{name}@{finished}"] = state.deadlines.pop(name)
        state.order_round = finished + 1
        state.service = None
        state.served_at = None
        state.order_issued_at = self._legal_now()
        self._set_stage(CaseStage.SERVICE)

    def _order_step(self, step: str) -> str:
        """An order step's name in the current round (the first round keeps the plain name)."""
        round_ = self._state.order_round
        return step if round_ == 1 else f"{step}@{round_}"

    def _amended_payment_expired(self) -> bool:
        """Whether the latest amended order's time to pay passed unpaid (the refusal steps run again)."""
        deadline = self._state.deadlines.get(f"{AMENDED_PAYMENT}#{len(self._state.amended_orders)}")
        return deadline is not None and deadline.outcome == "expired"

    def _amended_payment_pending(self) -> str | None:
        """The pending time to pay of an amended order issued after the refusal, if any."""
        name = f"{AMENDED_PAYMENT}#{len(self._state.amended_orders)}"
        deadline = self._state.deadlines.get(name)
        return name if deadline is not None and deadline.outcome == "pending" else None

    async def _amended_payment_deadline(self) -> Deadline:
        """After the refusal: the amended order's time to pay, counted from its issue."""
        cfg = self._config.order
        name = f"{AMENDED_PAYMENT}#{len(self._state.amended_orders)}"
        return await self._deadline(name, self._legal_now(), cfg.pay_days, cfg.pay_unit)
