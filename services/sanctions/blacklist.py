"""The blacklist procedure (失信联合惩戒名单), one durable workflow per proposed listing, for years.

prior notice (事先告知书) → statement-and-defence period (陈述申辩) → [review of a statement] → decision
(列入决定书) or a recorded decision not to list → publication and sharing with the credit systems →
removal when the listing period ends (a durable timer, 3 years) or earlier by credit repair (信用修复).

Workflow id `listing:<listing_id>` on task queue `anxin-sanctions`; the activities (records, documents and
events in the sanctions service's own schema) are hosted by the `sanctions-worker` process. The workflow
keeps the legal clock: on a compressed clock (`working_day_seconds > 0`) one legal day passes in that many
seconds of workflow time, so demos and end-to-end tests run the whole life in minutes.

The workflow reports its state to the sanctions service each time it changes (one truth:
services/contracts/listing_reports.py), with the reporter the lifecycle workflows use
(services/contracts/state_reporting.py; the listing's hooks in services/sanctions/listing_reporting.py); the
run ends only once its last state is reported.

The agencies' messages — the statement and its review, the early-removal application and its decision (updates
with validators), the corrections (a signal) — and the `status` query are handled in
services/sanctions/listing_messages.py, over the state this workflow holds.

The statement-and-defence period is counted on the official calendar and recomputed when the bureau enters a
year it reached into provisionally (services/sanctions/defence_period.py).

The history stays short (a handful of activities and messages over the whole life, and a report per
change), so no continue-as-new is needed. Changes to this code while listings are live must keep old
histories replaying: use `workflow.patched()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.common.workflow_runner import record_runner_patches
    from services.contracts.legal_time import end_of_day, legal_date
    from services.contracts.lifecycle import Deadline
    from services.contracts.sanctions_workflows import (
        BLACKLIST_WORKFLOW_TYPE,
        BlacklistInput,
        DecisionCommand,
        DocumentInfo,
        EarlyRemovalApplication,
        EarlyRemovalDecision,
        ListingStage,
        ListingStatus,
        ListingTimelineEntry,
        NoticeCommand,
        NotListedReason,
        PublishCommand,
        RemovalCommand,
        RemovalReason,
        SanctionsActivities,
        StatementReview,
    )
    from services.contracts.state_reporting import Reports
    from services.sanctions.defence_period import DefencePeriod
    from services.sanctions.domain import add_months
    from services.sanctions.listing_messages import ListingMessages
    from services.sanctions.listing_reporting import LISTING_REPORTS, ListingReporting

ACTIVITY_TIMEOUT = timedelta(minutes=2)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10)
)


@workflow.defn(name=BLACKLIST_WORKFLOW_TYPE)
class BlacklistWorkflow(ListingMessages, DefencePeriod, ListingReporting):
    @workflow.init
    def __init__(self, listing: BlacklistInput) -> None:
        # Known before any signal or update of the first activation is handled.
        self._input: BlacklistInput | None = listing
        self._stage = ListingStage.NOTICE
        self._corrections: dict[str, Decimal] = {}
        self._paid_in_full_on: date | None = None
        self._statements: list[str] = []
        self._review: StatementReview | None = None
        self._notice: DocumentInfo | None = None
        self._defence_due: date | None = None
        self._decided_on: date | None = None
        self._decision_document: str | None = None
        self._not_listed_reason: NotListedReason | None = None
        self._expires_on: date | None = None
        self._pending: EarlyRemovalApplication | None = None
        self._granted: EarlyRemovalDecision | None = None
        self._removal_reason: RemovalReason | None = None
        self._removed_on: date | None = None
        self._timeline: list[ListingTimelineEntry] = []
        self._reports = Reports()
        self._calendar = listing.config.calendar
        self._wall_anchor: datetime = workflow.now()
        self._legal_anchor: datetime = (
            listing.proposed_at if listing.config.working_day_seconds > 0 else self._wall_anchor
        )

    # --- the legal clock ---------------------------------------------------------------------------------

    def _scale(self) -> float:
        """Legal seconds per second of workflow time (1 on the real clock)."""
        assert self._input is not None
        seconds = self._input.config.working_day_seconds
        return 86400.0 / seconds if seconds > 0 else 1.0

    def _legal_now(self) -> datetime:
        elapsed = (workflow.now() - self._wall_anchor).total_seconds()
        return self._legal_anchor + timedelta(seconds=elapsed * self._scale())

    def _legal_today(self) -> date:
        return legal_date(self._legal_now())

    def _wait_for(self, legal_instant: datetime) -> float:
        """Seconds of workflow time until `legal_instant` (at least a moment)."""
        remaining = (legal_instant - self._legal_now()).total_seconds() / self._scale()
        return max(remaining, 0.001)

    def _record(self, kind: str, text: str) -> None:
        self._timeline.append(ListingTimelineEntry(at=self._legal_now(), kind=kind, text=text))

    # --- the procedure --------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, listing: BlacklistInput) -> ListingStatus:
        # First: from here on a cold worker and a replay agree (services/common/workflow_runner.py).
        record_runner_patches()
        self._start_reporting(LISTING_REPORTS)
        try:
            if self._reporter is None:  # started before listings reported their state
                await self._procedure(listing)
            else:
                # A failure of the reporter ends the wait (and fails the workflow task) instead of vanishing.
                procedure = asyncio.create_task(self._procedure(listing))
                await workflow.wait_condition(lambda: procedure.done() or self._failure is not None)
                self._check_failure()
                await procedure
            if self._reporter is not None:
                await workflow.wait_condition(lambda: self._reports_settled() or self._failure is not None)
                self._check_failure()
        except asyncio.CancelledError:
            # An operator cancelled the workflow: a run that is ending reports nothing more.
            self._ending = True
            raise
        return self._status()

    async def _procedure(self, listing: BlacklistInput) -> None:
        cfg = listing.config
        self._record("proposed", f"启动失信联合惩戒名单程序：{listing.basis}")

        # Prior notice and the statement-and-defence period.
        issued_at = self._legal_now()
        deadline = await self._compute_defence(issued_at, cfg.defence_days, cfg.defence_unit, cfg.working_day_seconds)
        self._defence = deadline
        self._defence_due = deadline.due_date
        self._notice = await self._activity(
            SanctionsActivities.ISSUE_PRIOR_NOTICE,
            NoticeCommand(
                listing_id=listing.listing_id,
                issued_at=issued_at,
                defence_days=cfg.defence_days,
                defence_unit=cfg.defence_unit,
                defence_due_date=deadline.due_date,
            ),
            DocumentInfo,
        )
        self._stage = ListingStage.DEFENCE
        self._record("notice", f"送达事先告知书（{self._notice.document_number}），陈述申辩期至 {deadline.due_date}")
        # Payment in full ends the wait early: the employer may then be left off at once.
        await self._wait_defence_period(
            lambda: self._paid_in_full() and cfg.leave_off_when_paid, cfg.working_day_seconds
        )

        # The decision.
        if self._paid_in_full() and cfg.leave_off_when_paid:
            await self._not_listed(NotListedReason.PAID_BEFORE_DECISION, "作出决定前已足额支付拖欠工资")
            return
        if self._statements:
            self._stage = ListingStage.REVIEW
            self._record("review", "当事人提出陈述申辩，等待复核")
            await workflow.wait_condition(
                lambda: self._review is not None or (self._paid_in_full() and cfg.leave_off_when_paid)
            )
            if self._review is None:
                await self._not_listed(NotListedReason.PAID_BEFORE_DECISION, "作出决定前已足额支付拖欠工资")
                return
            if not self._review.list_employer:
                await self._not_listed(NotListedReason.DEFENCE_ACCEPTED, f"陈述申辩理由成立：{self._review.reason}")
                return

        decided_at = self._legal_now()
        self._decided_on = legal_date(decided_at)
        self._expires_on = add_months(self._decided_on, 12 * cfg.listing_years)
        decision = await self._activity(
            SanctionsActivities.RECORD_DECISION,
            DecisionCommand(
                listing_id=listing.listing_id,
                listed=True,
                decided_at=decided_at,
                reason=listing.basis,
                expires_on=self._expires_on,
            ),
            DocumentInfo,
        )
        self._decision_document = decision.document_id
        await self._activity(
            SanctionsActivities.PUBLISH_LISTING,
            PublishCommand(listing_id=listing.listing_id, published_at=self._legal_now(), expires_on=self._expires_on),
            DocumentInfo,
        )
        self._stage = ListingStage.LISTED
        self._record(
            "listed",
            f"作出列入决定（{decision.document_number}），已公布并推送信用平台，期满日 {self._expires_on}",
        )

        # Listed: removal when the period ends, or earlier by credit repair.
        await self._until(lambda: self._granted is not None, end_of_day(self._expires_on))
        granted = self._granted
        reason = RemovalReason.CREDIT_REPAIR if granted is not None else RemovalReason.EXPIRED
        removed_at = self._legal_now()
        await self._activity(
            SanctionsActivities.REMOVE_LISTING,
            RemovalCommand(
                listing_id=listing.listing_id,
                reason=reason,
                removed_at=removed_at,
                application_id=granted.application_id if granted else None,
            ),
            DocumentInfo,
        )
        self._stage = ListingStage.REMOVED
        self._removal_reason = reason
        self._removed_on = legal_date(removed_at)
        self._record(
            "removed",
            "信用修复，提前移出名单" if granted else f"列入期限 {cfg.listing_years} 年届满，移出名单",
        )

    async def _until(self, condition: Callable[[], bool], legal_instant: datetime) -> None:
        """Wait for `condition` or until the legal instant, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(condition, timeout=self._wait_for(legal_instant))

    def _defence_due_changed(self, deadline: Deadline) -> None:
        self._defence_due = deadline.due_date

    async def _not_listed(self, reason: NotListedReason, text: str) -> None:
        assert self._input is not None
        decided_at = self._legal_now()
        await self._activity(
            SanctionsActivities.RECORD_DECISION,
            DecisionCommand(
                listing_id=self._input.listing_id,
                listed=False,
                decided_at=decided_at,
                reason=text,
                not_listed_reason=reason,
            ),
            DocumentInfo,
        )
        self._decided_on = legal_date(decided_at)
        self._not_listed_reason = reason
        self._stage = ListingStage.NOT_LISTED
        self._record("not_listed", f"决定不予列入：{text}")

    async def _activity(self, name: str, command: object, result_type: type[DocumentInfo]) -> DocumentInfo:
        return await workflow.execute_activity(
            name,
            command,
            result_type=result_type,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    # --- the state as the status query and the reports give it ------------------------------------------------

    def _status(self) -> ListingStatus:
        assert self._input is not None
        months = self._input.config.early_removal_months
        return ListingStatus(
            listing_id=self._input.listing_id,
            case_id=self._input.case_id,
            stage=self._stage,
            ground=self._input.ground,
            amount=self._input.amount,
            amount_corrected=self._corrected(),
            paid_in_full_on=self._paid_in_full_on,
            notice_document_id=self._notice.document_id if self._notice else None,
            defence_due_date=self._defence_due,
            defence_due_provisional=self._defence is not None and self._defence.provisional,
            statements=list(self._statements),
            decided_on=self._decided_on,
            decision_document_id=self._decision_document,
            not_listed_reason=self._not_listed_reason,
            expires_on=self._expires_on,
            early_removal_possible_from=add_months(self._paid_in_full_on, months) if self._paid_in_full_on else None,
            pending_application=self._pending.application_id if self._pending else None,
            removal_reason=self._removal_reason,
            removed_on=self._removed_on,
            timeline=list(self._timeline),
        )
