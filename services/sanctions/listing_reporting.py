"""The blacklist procedure's reports of its state to the sanctions service: each change of the listing's state
is sent as a `ListingReport` to the service's activity, which writes it over the listing record (one truth:
services/contracts/listing_reports.py), and an operator may ask for the whole state again (`report_state`).

A mixin of `BlacklistWorkflow` (`blacklist.py`) over the reporter the lifecycle workflows use
(services/contracts/state_reporting.py); workflow code (`temporalio` and the standard library only).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from services.contracts.listing_reports import describe_listing_changes, listing_snapshot_of
    from services.contracts.sanctions_workflows import (
        BlacklistInput,
        ListingReport,
        ListingSignals,
        ListingSnapshot,
        ListingStatus,
        SanctionsActivities,
    )
    from services.contracts.state_reporting import ReportProgress, Reports, StateReporting

REPORT_TIMEOUT = timedelta(seconds=30)
# As the procedure's own activities (`blacklist.py`): a report is retried without end.
REPORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10)
)

# Every change of a listing's state is reported to the sanctions service. Histories from before the change
# report nothing; such a workflow starts reporting when an operator asks for its state (`anxin audit
# ledger --fix`, the `report_state` signal), behind a patch of its own.
LISTING_REPORTS = "2026-11-listing-reports"
LISTING_REPORTS_ON_REQUEST = "2026-11-listing-reports-on-request"


class ListingReporting(StateReporting):
    """The hooks of `StateReporting` for a listing, and the operator's `report_state` signal."""

    # The attributes whose change is reported (see `StateReporting.REPORTED_FIELDS`; patch any change).
    REPORTED_FIELDS = frozenset(
        {
            "_stage",
            "_corrections",
            "_paid_in_full_on",
            "_statements",
            "_defence_due",
            "_decided_on",
            "_not_listed_reason",
            "_expires_on",
            "_pending",
            "_removal_reason",
            "_removed_on",
        }
    )

    _input: BlacklistInput | None
    _reports: Reports

    # --- provided by the workflow -----------------------------------------------------------------------------

    def _legal_now(self) -> datetime:
        raise NotImplementedError

    def _record(self, kind: str, text: str) -> None:
        raise NotImplementedError

    def _status(self) -> ListingStatus:
        raise NotImplementedError

    # --- reports to the sanctions service (the loop: services/contracts/state_reporting.py) ------------------

    def _report_progress(self) -> ReportProgress:
        return self._reports

    def _report_key(self) -> str:
        return repr([getattr(self, name) for name in sorted(self.REPORTED_FIELDS)])

    def _snapshot(self) -> ListingSnapshot:
        return listing_snapshot_of(self._status())

    async def _send_report(self, seq: int, before: ListingSnapshot | None, snapshot: ListingSnapshot) -> None:
        assert self._input is not None
        await workflow.execute_activity(
            SanctionsActivities.REPORT_LISTING_STATE,
            ListingReport(
                idempotency_key=f"{workflow.info().workflow_id}:report:{seq}",
                listing_id=self._input.listing_id,
                seq=seq,
                at=self._legal_now(),
                changes=describe_listing_changes(before, snapshot),
                snapshot=snapshot,
            ),
            start_to_close_timeout=REPORT_TIMEOUT,
            retry_policy=REPORT_RETRY,
        )

    def _report_not_taken(self, seq: int, err: ActivityError) -> None:
        self._record("report.failed", f"状态报告 {seq} 未被名单记录接收：{err.cause or err}")

    @workflow.signal(name=ListingSignals.REPORT_STATE)
    def report_state(self) -> None:
        self._report_again(LISTING_REPORTS_ON_REQUEST)
