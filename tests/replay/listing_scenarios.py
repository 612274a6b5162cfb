"""Representative runs of the blacklist procedure (services/sanctions/blacklist.py) whose histories are kept
for the replay test, recorded on the time-skipping server with the sanctions unit tests' stand-in activities.

    .venv/bin/python -m tests.replay.listing_scenarios [NAME...]
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from services.contracts.lifecycle import CalendarConfig, ListingGround
from services.contracts.sanctions_workflows import (
    BlacklistConfig,
    BlacklistInput,
    CorrectionReport,
    ListingQueries,
    ListingSignals,
    ListingStatus,
    listing_workflow_id,
)
from services.sanctions.blacklist import BlacklistWorkflow
from tests.support.calendars import arrangement_2027
from tests.support.time_skipping import start_time_skipping
from tests.support.workers import project_worker
from tests.unit.sanctions.fakes import FakeListingActivities

HISTORIES = Path(__file__).parent / "histories"
ListingScenario = Callable[[Client, str], Awaitable[WorkflowHandle[Any, Any]]]


async def _timeline_has(handle: WorkflowHandle[Any, Any], kind: str, tries: int = 40) -> bool:
    for _ in range(tries):
        status = await handle.query(ListingQueries.STATUS, result_type=ListingStatus)
        if any(entry.kind == kind for entry in status.timeline):
            return True
        await asyncio.sleep(0.05)
    return False


async def calendar_entered_during_defence(client: Client, queue: str) -> WorkflowHandle[Any, Any]:
    """A defence period of 30 working days, begun in late 2026, reaches into 2027 on the fallback; the bureau
    enters 2027 (`calendar_updated`); then the wages are paid in full and the employer is left off."""
    listing_id = f"BL-{uuid.uuid4().hex[:10].upper()}"
    listing = BlacklistInput(
        listing_id=listing_id,
        case_id=f"C-{uuid.uuid4().hex[:10].upper()}",
        county="130402",
        employer_ref="E-91130400MA0000001X",
        ground=ListingGround.CRIMINAL_THRESHOLD,
        basis="12 名劳动者，未付合计 60000 元",
        amount=Decimal("60000.00"),
        proposed_at=datetime(2026, 12, 10, 2, 0, tzinfo=UTC),
        config=BlacklistConfig(defence_days=30),
    )
    handle = await client.start_workflow(
        BlacklistWorkflow.run, listing, id=listing_workflow_id(listing_id), task_queue=queue
    )
    assert await _timeline_has(handle, "notice")
    await handle.signal(ListingSignals.CALENDAR_UPDATED, CalendarConfig(years=[arrangement_2027()]))
    # Code that handles the signal recomputes the period; code from before it ignores the signal.
    await _timeline_has(handle, "deadline.recomputed", tries=20)
    await handle.signal(
        ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="CORR-1", amount=Decimal("60000.00"))
    )
    await handle.result()
    return handle


LISTING_SCENARIOS: dict[str, ListingScenario] = {
    "calendar_entered_during_defence": calendar_entered_during_defence,
}


async def record(names: list[str], prefix: str = "") -> None:
    env = await start_time_skipping()
    async with env:
        for name in names:
            queue = f"record-{uuid.uuid4().hex[:8]}"
            fakes = FakeListingActivities()
            async with project_worker(env.client, queue, [BlacklistWorkflow], fakes.all()):
                handle = await LISTING_SCENARIOS[name](env.client, queue)
                history = await handle.fetch_history()
                path = HISTORIES / f"{prefix}{name}.listing.json"
                path.write_text(history.to_json() + "\n", encoding="utf-8")
                print(f"{path}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(LISTING_SCENARIOS)))
