"""How a workflow reports its own state to the service that owns its record (one truth), once for all.

The complaint and case workflows report to the cases service (`workflows/base.py`), the blacklist workflow
to the sanctions service (`services/sanctions/blacklist.py`); both use `StateReporting`: a coroutine beside
the main flow waits until a state field the workflow lists in `REPORTED_FIELDS` changed since the last
report, then sends the state as a normal activity. A report refused for good is noted and the next change is
reported in full; any other failure of the coroutine is handed to the main flow (`SideTasks`), never lost.

Workflow code: imported through `workflow.unsafe.imports_passed_through()`; nothing is done on import.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from temporalio import workflow
from temporalio.exceptions import ActivityError

# A request for the state that arrives while a report is on its way is answered by one more full report
# (before this patch, the report on its way counted as the answer, though it may have left earlier).
REPORT_AGAIN_AFTER_FLIGHT = "2026-11-report-again-after-flight"


class SideTasks:
    """A workflow whose side tasks (the reporter, watchers) hand their failures to the main flow."""

    _failure: BaseException | None = None

    async def _guard(self, coro: Any) -> None:
        # A failure in a side task must not vanish: hand it to the main flow, which raises it (the workflow
        # task fails and is retried, visible to operators) instead of the task ending silently.
        try:
            await coro
        except Exception as err:
            self._failure = err

    def _check_failure(self) -> None:
        if self._failure is not None:
            raise self._failure


class ReportProgress(Protocol):
    """Where a workflow keeps how far its reports went (in its state when it continues as new)."""

    report_seq: int
    reported: Any
    reported_key: str | None


@dataclass
class Reports:
    """`ReportProgress` of a workflow that never continues as new."""

    report_seq: int = 0
    reported: Any = None
    reported_key: str | None = None


class StateReporting(SideTasks):
    """Reports of a workflow's state, each time it changes, whoever changed it (a mixin of a workflow)."""

    # The state fields whose change is reported (each workflow names its own). When to report is decided on
    # them, never on the snapshot: the snapshot is a contract that may grow, and a report sent at another
    # moment in a replay would be a different command. Changing this set changes the commands: patch it.
    REPORTED_FIELDS: frozenset[str] = frozenset()

    _reporter: asyncio.Task[None] | None = None
    _report_in_flight: bool = False
    _report_requests: int = 0
    _ending: bool = False

    # --- what each workflow provides ----------------------------------------------------------------------

    def _report_progress(self) -> ReportProgress:
        raise NotImplementedError

    def _report_key(self) -> str:
        """The reported fields' values, as one string (equal strings: nothing to report)."""
        raise NotImplementedError

    def _snapshot(self) -> Any:
        """The state the owning service keeps of this workflow."""
        raise NotImplementedError

    async def _send_report(self, seq: int, before: Any, snapshot: Any) -> None:
        """Send report `seq` (an activity); an `ActivityError` is a report the service did not take."""
        raise NotImplementedError

    def _report_not_taken(self, seq: int, err: ActivityError) -> None:
        """Note a report the service did not take (the timeline)."""
        raise NotImplementedError

    # --- the reporter ----------------------------------------------------------------------------------------

    def _start_reporting(self, patch: str) -> None:
        if self._reporter is None and workflow.patched(patch):
            self._reporter = asyncio.create_task(self._guard(self._report_changes()), name="reporter")

    async def _report_changes(self) -> None:
        """Report the state each time one of its `REPORTED_FIELDS` changed since the last report, whatever
        changed it.

        A waiting workflow reports nothing (the condition is only evaluated when something happens), and
        changes made while a report is on its way are sent together in the next one.
        """
        while True:
            await workflow.wait_condition(
                lambda: not self._ending and self._report_key() != self._report_progress().reported_key
            )
            progress = self._report_progress()
            key = self._report_key()
            snapshot = self._snapshot()
            progress.report_seq += 1
            self._report_in_flight = True
            requests = self._report_requests
            try:
                # A normal activity, not a local one: local activities resolved in two coroutines at once are
                # delivered in another order on replay than live (sdk-python issues 1578 and 1881), and the
                # reporter always runs beside the main flow.
                await self._send_report(progress.report_seq, progress.reported, snapshot)
            except ActivityError as err:
                # Transient failures are retried without end; a refusal must not stall the process. The
                # next change is reported in full, and `anxin audit ledger` shows the gap meanwhile.
                self._report_not_taken(progress.report_seq, err)
            self._report_in_flight = False
            if self._report_requests != requests and workflow.patched(REPORT_AGAIN_AFTER_FLIGHT):
                # An operator asked for the state again while this report was on its way: the report may
                # have left before the request, so keep "nothing reported" and send everything once more.
                continue
            progress.reported = snapshot
            progress.reported_key = key

    def _report_again(self, patch: str) -> None:
        """An operator asked for the state again: the next report carries everything, changed or not.

        A workflow started before it reported anything starts reporting now, behind `patch` (its own: the
        histories of such workflows have no marker of the patch that starts the reporter at the start)."""
        self._start_reporting(patch)
        self._report_requests += 1
        progress = self._report_progress()
        progress.reported = None
        progress.reported_key = None

    def _reports_settled(self) -> bool:
        return self._reporter is None or (
            not self._report_in_flight and self._report_key() == self._report_progress().reported_key
        )
