"""Drives one blacklist workflow under the time-skipping server for the sanctions unit tests: start it,
wait for a stage or for its state to be reported, let workflow time pass once nothing is in flight."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from services.contracts.legal_time import end_of_day
from services.contracts.lifecycle import ListingGround
from services.contracts.listing_reports import listing_snapshot_of
from services.contracts.sanctions_workflows import (
    BlacklistConfig,
    BlacklistInput,
    ListingQueries,
    ListingReport,
    ListingStage,
    ListingStatus,
    ListingUpdates,
    StatementRecord,
    listing_workflow_id,
)
from services.sanctions.blacklist import BlacklistWorkflow

from .fakes import FakeListingActivities


@dataclass
class Run:
    env: WorkflowEnvironment
    fakes: FakeListingActivities
    queue: str

    async def start(
        self, amount: str = "60000.00", **config: object
    ) -> WorkflowHandle[BlacklistWorkflow, ListingStatus]:
        listing_id = f"BL-{uuid.uuid4().hex[:10].upper()}"
        # Ten hex digits at most: sixteen may hold a run shaped like a mobile number, refused in an id.
        listing = BlacklistInput(
            listing_id=listing_id,
            case_id=f"C-{uuid.uuid4().hex[:10].upper()}",
            county="130402",
            employer_ref="E-91130400MA0000001X",
            ground=ListingGround.CRIMINAL_THRESHOLD,
            basis="12 名劳动者，未付合计 60000 元，达到 10 人以上、40000 元的标准",
            amount=Decimal(amount),
            proposed_at=datetime.now(UTC),
            config=BlacklistConfig(**config),  # type: ignore[arg-type]
        )
        return await self.env.client.start_workflow(
            BlacklistWorkflow.run,
            listing,
            id=listing_workflow_id(listing_id),
            task_queue=self.queue,
        )

    async def status(self, handle: WorkflowHandle[BlacklistWorkflow, ListingStatus]) -> ListingStatus:
        return await handle.query(ListingQueries.STATUS, result_type=ListingStatus)

    async def reach(
        self, handle: WorkflowHandle[BlacklistWorkflow, ListingStatus], stage: ListingStage
    ) -> ListingStatus:
        """Wait (real time, the test clock standing still) until the process is in `stage`."""
        for _ in range(200):
            status = await self.status(handle)
            if status.stage is stage:
                return status
            await asyncio.sleep(0.05)
        raise AssertionError(f"never reached {stage}; last: {status.stage}")

    async def statement(
        self, handle: WorkflowHandle[BlacklistWorkflow, ListingStatus], statement_id: str
    ) -> ListingStatus:
        """An agency records the employer's statement and defence."""
        return await handle.execute_update(
            ListingUpdates.RECORD_STATEMENT,
            StatementRecord(statement_id=statement_id, recorded_by="inspector-130402"),
            result_type=ListingStatus,
        )

    async def reported(self, handle: WorkflowHandle[BlacklistWorkflow, ListingStatus], after: int = 0) -> ListingReport:
        """Wait until the workflow's last report (later than report `after`) carries its current state."""
        for _ in range(200):
            snapshot = listing_snapshot_of(await self.status(handle))
            reports = self.fakes.reports
            if reports and reports[-1].seq > after and reports[-1].snapshot == snapshot:
                return self.fakes.reports[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"the state was never reported: {snapshot}")

    async def settled(self, handle: WorkflowHandle[BlacklistWorkflow, ListingStatus]) -> None:
        """Wait until the state is reported and no activity or workflow task of the workflow is pending: a
        report in flight when the clock jumps (or the workflow is terminated) would time out on the
        time-skipping server and hold its clock for every later test."""
        await self.reported(handle)
        for _ in range(200):
            if await quiet(handle):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("an activity or workflow task stayed pending")

    async def skip(self, handle: WorkflowHandle[BlacklistWorkflow, ListingStatus], delta: timedelta) -> None:
        """Let `delta` of workflow time pass, once nothing is in flight."""
        await self.settled(handle)
        await self.env.sleep(delta)

    async def past_the_defence_period(self, handle: WorkflowHandle[BlacklistWorkflow, ListingStatus]) -> None:
        """Let workflow time pass to just after the defence period's last day. Not a fixed number of days:
        earlier tests move the shared clock on by years, and 5 working days across a holiday (also on the
        fallback calendar of a year the package does not cover) take more than 10 calendar days."""
        due = (await self.status(handle)).defence_due_date
        assert due is not None
        await self.skip(handle, end_of_day(due) + timedelta(minutes=1) - await self.env.get_current_time())

    async def end(self, handle: WorkflowHandle[BlacklistWorkflow, ListingStatus]) -> None:
        """Terminate a workflow the test is done with, once nothing is in flight."""
        await self.settled(handle)
        await handle.terminate("test done")

    async def listed(self, handle: WorkflowHandle[BlacklistWorkflow, ListingStatus]) -> ListingStatus:
        await self.reach(handle, ListingStage.DEFENCE)
        await self.past_the_defence_period(handle)
        return await self.reach(handle, ListingStage.LISTED)


async def quiet(handle: WorkflowHandle[BlacklistWorkflow, ListingStatus]) -> bool:
    """No activity and no workflow task of the workflow is open, by its history (the time-skipping server's
    description does not show a workflow task in progress)."""
    activities: set[int] = set()
    task_open = False
    async for event in handle.fetch_history_events():
        kind = event.WhichOneof("attributes") or ""
        if kind == "activity_task_scheduled_event_attributes":
            activities.add(event.event_id)
        elif kind.startswith("activity_task_") and kind.split("_")[2] in ("completed", "failed", "timed", "canceled"):
            activities.discard(getattr(event, kind).scheduled_event_id)
        elif kind.startswith("workflow_task_"):
            task_open = kind.split("_")[2] in ("scheduled", "started")
    return not activities and not task_open


async def signal_taken(handle: WorkflowHandle[BlacklistWorkflow, ListingStatus]) -> None:
    """Wait until a workflow task completed after the workflow's last signal: its handler has run."""
    for _ in range(200):
        signalled = taken = False
        async for event in handle.fetch_history_events():
            kind = event.WhichOneof("attributes") or ""
            if kind == "workflow_execution_signaled_event_attributes":
                signalled, taken = True, False
            elif kind == "workflow_task_completed_event_attributes" and signalled:
                taken = True
        if taken:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the signal was never taken")
