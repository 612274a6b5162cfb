"""The statement-and-defence period on the official calendar: provisional when it reaches into a year nobody
has entered, recomputed when the bureau enters it, and never shorter than the served notice says."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from services.contracts.lifecycle import CalendarConfig, ListingGround
from services.contracts.sanctions_workflows import (
    BlacklistConfig,
    BlacklistInput,
    CorrectionReport,
    ListingQueries,
    ListingSignals,
    ListingStage,
    ListingStatus,
    listing_workflow_id,
)
from services.sanctions.blacklist import BlacklistWorkflow
from tests.support.calendars import arrangement_2027
from tests.support.workers import project_worker

from .fakes import FakeListingActivities

# One legal day passes in this many seconds of workflow time: the legal clock starts at `proposed_at`.
DAY_SECONDS = 60.0
ENTERED_2027 = CalendarConfig(years=[arrangement_2027()])


@dataclass
class Listing:
    handle: WorkflowHandle[BlacklistWorkflow, ListingStatus]
    fakes: FakeListingActivities

    async def status(self) -> ListingStatus:
        return await self.handle.query(ListingQueries.STATUS, result_type=ListingStatus)

    async def until(self, check: str, predicate: Callable[[ListingStatus], bool]) -> ListingStatus:
        for _ in range(200):
            status = await self.status()
            if predicate(status):
                return status
            await asyncio.sleep(0.05)
        raise AssertionError(f"never {check}: {status}")

    async def pay_and_finish(self) -> ListingStatus:
        await self.handle.signal(
            ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="CORR-1", amount=Decimal("60000.00"))
        )
        return await self.handle.result()


StartListing = Callable[[date, int], Awaitable[Listing]]


@pytest.fixture
async def start(sanctions_env: WorkflowEnvironment) -> AsyncIterator[StartListing]:
    fakes = FakeListingActivities()
    queue = f"defence-test-{uuid.uuid4().hex[:10]}"

    async def listing(proposed_on: date, defence_days: int) -> Listing:
        listing_id = f"BL-{uuid.uuid4().hex[:10].upper()}"
        handle = await sanctions_env.client.start_workflow(
            BlacklistWorkflow.run,
            BlacklistInput(
                listing_id=listing_id,
                case_id=f"C-{uuid.uuid4().hex[:10].upper()}",
                county="130402",
                employer_ref="E-91130400MA0000001X",
                ground=ListingGround.CRIMINAL_THRESHOLD,
                basis="12 名劳动者，未付合计 60000 元",
                amount=Decimal("60000.00"),
                proposed_at=datetime(proposed_on.year, proposed_on.month, proposed_on.day, 2, tzinfo=UTC),
                config=BlacklistConfig(defence_days=defence_days, working_day_seconds=DAY_SECONDS),
            ),
            id=listing_workflow_id(listing_id),
            task_queue=queue,
        )
        return Listing(handle, fakes)

    async with project_worker(sanctions_env.client, queue, [BlacklistWorkflow], fakes.all()):
        yield listing


async def test_a_provisional_period_is_recomputed_when_the_year_is_entered(start: StartListing) -> None:
    # Notice on Friday 29 January 2027, 7 working days. On the fallback 除夕 (5 February) and 初三 (8 February)
    # are off: the period ends on 11 February, provisionally. The entered arrangement gives 5-12 February
    # off and makes Sunday 31 January a working day: it ends on 16 February.
    listing = await start(date(2027, 1, 29), 7)
    first = await listing.until("in defence", lambda s: s.stage is ListingStage.DEFENCE)
    assert first.defence_due_date == date(2027, 2, 11) and first.defence_due_provisional
    assert listing.fakes.command("notice").defence_due_date == date(2027, 2, 11)

    await listing.handle.signal(ListingSignals.CALENDAR_UPDATED, ENTERED_2027)
    after = await listing.until("recomputed", lambda s: not s.defence_due_provisional)
    assert after.defence_due_date == date(2027, 2, 16)
    assert [e.kind for e in after.timeline][-2:] == ["calendar.updated", "deadline.recomputed"]
    recompute = [c for name, c in listing.fakes.calls if name == "deadline"][-1]
    assert recompute.calendar == ENTERED_2027

    final = await listing.pay_and_finish()
    assert final.stage is ListingStage.NOT_LISTED
    # The sanctions service was told the new last day.
    assert listing.fakes.reports[-1].snapshot.defence_due_date == date(2027, 2, 16)


async def test_an_official_calendar_never_shortens_the_period_the_notice_gave(start: StartListing) -> None:
    # Notice on Tuesday 20 April 2027, 5 working days: 27 April on the fallback; with Sunday 25 April a
    # make-up working day it would be 26 April, but the notice said 27 April and that stands.
    listing = await start(date(2027, 4, 20), 5)
    first = await listing.until("in defence", lambda s: s.stage is ListingStage.DEFENCE)
    assert first.defence_due_date == date(2027, 4, 27) and first.defence_due_provisional

    await listing.handle.signal(ListingSignals.CALENDAR_UPDATED, ENTERED_2027)
    after = await listing.until("recomputed", lambda s: not s.defence_due_provisional)
    assert after.defence_due_date == date(2027, 4, 27)
    assert "仍以事先告知书所载 2027-04-27 为准" in after.timeline[-1].text
    await listing.pay_and_finish()


async def test_a_period_within_covered_years_is_official_and_the_signal_changes_nothing(start: StartListing) -> None:
    listing = await start(date(2026, 3, 2), 5)
    first = await listing.until("in defence", lambda s: s.stage is ListingStage.DEFENCE)
    assert not first.defence_due_provisional
    await listing.handle.signal(ListingSignals.CALENDAR_UPDATED, ENTERED_2027)
    await listing.until("told", lambda s: s.timeline[-1].kind == "calendar.updated")
    final = await listing.pay_and_finish()
    assert final.defence_due_date == first.defence_due_date
    assert [name for name, _ in listing.fakes.calls].count("deadline") == 1
