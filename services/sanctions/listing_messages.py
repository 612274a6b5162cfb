"""What agencies and services send to a listing's blacklist procedure, and what it answers: the statement and
its review, the early-removal application and its decision (Temporal Updates, each with a validator that
refuses what the procedure cannot take now), the payments reported after the refusal (a signal), and the
`status` query.

A mixin of `BlacklistWorkflow` (`blacklist.py`), which holds the state these read and change; workflow code
(`temporalio` and the standard library only). The handlers' names, arguments and answers are the workflow's
contract (services/contracts/sanctions_workflows.py); a change to what a handler does while listings are live
must keep old histories replaying (`workflow.patched()`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from services.contracts.sanctions_workflows import (
        BlacklistInput,
        CorrectionReport,
        EarlyRemovalApplication,
        EarlyRemovalDecision,
        ListingQueries,
        ListingSignals,
        ListingStage,
        ListingStatus,
        ListingUpdates,
        StatementRecord,
        StatementReview,
    )


def early_removal_refusals(status: ListingStatus, legal_today: date) -> list[str]:
    """Why an early-removal application cannot be accepted now (empty: it can)."""
    reasons = []
    if status.stage is not ListingStage.LISTED:
        reasons.append(f"the employer is not on the list (stage {status.stage.value})")
        return reasons
    if status.paid_in_full_on is None:
        reasons.append(f"wages are not paid in full: {status.amount_corrected} of {status.amount} yuan reported paid")
    elif status.early_removal_possible_from and legal_today < status.early_removal_possible_from:
        reasons.append(
            f"six months have not passed since the correction on {status.paid_in_full_on}: "
            f"an application is possible from {status.early_removal_possible_from}"
        )
    if status.pending_application:
        reasons.append(f"application {status.pending_application} is still waiting for its decision")
    return reasons


class ListingMessages:
    """The messages' handlers, over the listing's state that the workflow's `__init__` sets."""

    _input: BlacklistInput | None
    _stage: ListingStage
    _corrections: dict[str, Decimal]
    _paid_in_full_on: date | None
    _statements: list[str]
    _review: StatementReview | None
    _defence_due: date | None
    _pending: EarlyRemovalApplication | None
    _granted: EarlyRemovalDecision | None

    # --- provided by the workflow -----------------------------------------------------------------------------

    def _legal_today(self) -> date:
        raise NotImplementedError

    def _record(self, kind: str, text: str) -> None:
        raise NotImplementedError

    def _status(self) -> ListingStatus:
        raise NotImplementedError

    # --- amounts --------------------------------------------------------------------------------------------

    def _corrected(self) -> Decimal:
        return sum(self._corrections.values(), Decimal(0))

    def _paid_in_full(self) -> bool:
        return self._paid_in_full_on is not None

    # --- messages -----------------------------------------------------------------------------------------

    @workflow.signal(name=ListingSignals.CORRECTION_REPORTED)
    def correction_reported(self, report: CorrectionReport) -> None:
        if report.correction_id in self._corrections or self._input is None:
            return
        self._corrections[report.correction_id] = report.amount
        self._record("correction", f"报告补发工资 {report.amount} 元（{report.correction_id}）")
        if self._paid_in_full_on is None and self._corrected() >= self._input.amount:
            self._paid_in_full_on = self._legal_today()
            self._record("paid_in_full", f"拖欠工资已足额支付（合计 {self._corrected()} 元）")

    @workflow.update(name=ListingUpdates.RECORD_STATEMENT)
    def record_statement(self, statement: StatementRecord) -> ListingStatus:
        if statement.statement_id not in self._statements:
            self._statements.append(statement.statement_id)
            self._record("statement", f"记录当事人陈述申辩（{statement.statement_id}）")
        return self._status()

    @record_statement.validator
    def _check_statement(self, statement: StatementRecord) -> None:
        if statement.statement_id in self._statements:
            return
        if self._stage not in (ListingStage.NOTICE, ListingStage.DEFENCE):
            raise ValueError(
                f"the statement-and-defence period is over (it ended on {self._defence_due}); stage: {self._stage.value}"
            )

    @workflow.update(name=ListingUpdates.REVIEW_STATEMENT)
    def review_statement(self, review: StatementReview) -> ListingStatus:
        if self._review is None:
            self._review = review
            verdict = "维持列入" if review.list_employer else "申辩理由成立，不予列入"
            self._record("reviewed", f"{review.decided_by} 复核陈述申辩：{verdict}")
        return self._status()

    @review_statement.validator
    def _check_review(self, review: StatementReview) -> None:
        if self._review is not None and self._review.review_id == review.review_id:
            return
        if self._stage is not ListingStage.REVIEW:
            raise ValueError(f"no statement is waiting for review (stage {self._stage.value})")

    @workflow.update(name=ListingUpdates.APPLY_FOR_EARLY_REMOVAL)
    def apply_for_early_removal(self, application: EarlyRemovalApplication) -> ListingStatus:
        if self._pending is None or self._pending.application_id != application.application_id:
            self._pending = application
            self._record(
                "early_removal_applied",
                f"受理信用修复申请（{application.application_id}），已提交信用承诺书和工资支付凭证",
            )
        return self._status()

    @apply_for_early_removal.validator
    def _check_application(self, application: EarlyRemovalApplication) -> None:
        if self._pending is not None and self._pending.application_id == application.application_id:
            return
        reasons = early_removal_refusals(self._status(), self._legal_today())
        if reasons:
            raise ValueError("; ".join(reasons))

    @workflow.update(name=ListingUpdates.DECIDE_EARLY_REMOVAL)
    def decide_early_removal(self, decision: EarlyRemovalDecision) -> ListingStatus:
        if self._pending is not None and self._pending.application_id == decision.application_id:
            self._pending = None
            if decision.grant:
                self._granted = decision
                self._record("early_removal_granted", f"{decision.decided_by} 批准信用修复：{decision.reason}")
            else:
                self._record("early_removal_refused", f"{decision.decided_by} 不予信用修复：{decision.reason}")
        return self._status()

    @decide_early_removal.validator
    def _check_decision(self, decision: EarlyRemovalDecision) -> None:
        if self._granted is not None and self._granted.application_id == decision.application_id:
            return
        if self._pending is None or self._pending.application_id != decision.application_id:
            raise ValueError(f"application {decision.application_id} is not waiting for a decision")

    @workflow.query(name=ListingQueries.STATUS)
    def status(self) -> ListingStatus:
        return self._status()
