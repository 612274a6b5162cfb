"""What the case shows: its sums over the member complaints, the `status` answer and its search attributes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import (
        SA_CASE_ID,
        SA_CLASSIFICATION,
        SA_COUNTY,
        SA_NEXT_DEADLINE,
        SA_OVERDUE,
        SA_STAGE,
        SA_STATUS,
        CaseInput,
        CaseMember,
        CaseStatus,
        PaymentPurpose,
        PaymentRecord,
        compensation_amount,
    )
    from services.contracts.process_reports import is_overdue
    from workflows.base import LifecycleWorkflow
    from workflows.case.state import CaseState

# The time to pay of an amended order issued after the refusal (`<name>#<n>`, workflows/case/growth.py).
AMENDED_PAYMENT = "order.amended_payment"


class CaseViews(LifecycleWorkflow):
    """The case's state and input, and the views computed from them (every stage uses the sums)."""

    _state: CaseState
    _input: CaseInput

    # --- sums ----------------------------------------------------------------------------------------------

    def _everyone_left(self) -> bool:
        # An early-warning case stands on its project's warning: complaints that joined it and left take nothing
        # away from it.
        return self._input.origin is None and not self._state.members and bool(self._state.left)

    def _amount_owed(self) -> Decimal:
        state = self._state
        confirmed = (
            state.figures.confirmed_amount
            if state.figures is not None
            else (state.verification.confirmed_amount if state.verification is not None else None)
        )
        if confirmed is None:
            return sum((m.amount_owed for m in state.members.values()), Decimal(0))
        # Complaints that joined after the figures were confirmed count at their claim until confirmed anew.
        return confirmed + sum((m.amount_owed for m in self._late_members()), Decimal(0))

    def _workers(self) -> int:
        state = self._state
        verification = state.verification or state.pending_verification
        confirmed = (
            state.figures.confirmed_workers
            if state.figures is not None
            else (verification.confirmed_workers if verification is not None else None)
        )
        if confirmed is None:
            return sum(m.workers_affected for m in state.members.values())
        return confirmed + sum(m.workers_affected for m in self._late_members())

    def _late_members(self) -> list[CaseMember]:
        return [self._state.members[c] for c in self._state.late_members if c in self._state.members]

    def _wage_payments(self) -> list[PaymentRecord]:
        """The payments of wages (the additional compensation's payments do not count against what is owed)."""
        return [p for p in self._state.payments if p.purpose is PaymentPurpose.WAGES]

    def _amount_paid(self) -> Decimal:
        return sum((p.amount for p in self._wage_payments()), Decimal(0))

    def _compensation_due(self) -> Decimal | None:
        """The additional compensation decided on refusal (None before a decision)."""
        state = self._state
        if state.compensation_id is None:
            return None
        if state.compensation_amount is not None:
            return state.compensation_amount
        # Decided before its amount was kept: the rule applied to what was unpaid at the deadline.
        deadline = state.deadlines.get("order.payment")
        unpaid = self._amount_owed() - (self._amount_paid_by(deadline.due_at) if deadline else Decimal(0))
        return compensation_amount(max(unpaid, Decimal(0)), self._config.order.additional_compensation_rate)

    def _compensation_paid(self) -> Decimal:
        return sum((p.amount for p in self._state.payments if p.purpose is PaymentPurpose.COMPENSATION), Decimal(0))

    def _outstanding(self) -> Decimal:
        return max(self._amount_owed() - self._amount_paid(), Decimal(0))

    def _fully_paid(self) -> bool:
        return bool(self._wage_payments()) and self._outstanding() <= 0

    def _expiry_needs_official_date(self, deadline_name: str) -> bool:
        # The order's deadline decides refusal to pay, with its irreversible steps. (The short grace after
        # it, for late records of on-time payments, counts from the date so held.)
        # An amended order's time to pay, after the refusal, decides the refusal steps again on the whole case.
        return deadline_name == "order.payment" or deadline_name.startswith(AMENDED_PAYMENT)

    def _paid_by(self, instant: datetime) -> bool:
        """Whether payments made by `instant` cover the amount owed."""
        return bool(self._wage_payments()) and self._amount_paid_by(instant) >= self._amount_owed()

    def _amount_paid_by(self, instant: datetime) -> Decimal:
        """What was paid by `instant`: a payment counts from its `paid_at` (the date on its evidence), or,
        without one, from when it was recorded. (A payment recorded before its date was kept, in a state
        resumed from an older run, counts by whether it came before the refusal.)"""
        state = self._state
        before_refusal = state.payments_before_refusal if state.payments_before_refusal is not None else 0
        total = Decimal(0)
        for index, payment in enumerate(state.payments):
            if payment.purpose is not PaymentPurpose.WAGES:
                continue
            made = state.payment_dates.get(payment.payment_id)
            if (made <= instant) if made is not None else index < before_refusal:
                total += payment.amount
        return total

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
            amended_orders=list(state.amended_orders),
            unconfirmed_members=[m.complaint_id for m in self._late_members()],
            served=state.service is not None,
            threshold=state.threshold,
            compensation_decision_id=state.compensation_id,
            compensation_amount=self._compensation_due(),
            compensation_paid=self._compensation_paid(),
            referrals=dict(state.referrals),
            referral_approval=state.referral_approval,
            police_referral_withdrawn=state.police_referral_withdrawn,
            referral_withdrawal=state.referral_withdrawal,
            police_decision=state.police_decision.decision if state.police_decision else None,
            blacklist_procedure_id=state.blacklist_id,
            publication_id=state.publication_id,
            closure_reason=state.closure_reason,
            timeline=list(state.timeline) if timeline else [],
            parked=self._parked(),
            origin=self._input.origin,
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
