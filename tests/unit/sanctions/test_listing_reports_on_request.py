"""A request for the listing's whole state (`anxin audit ledger --fix`, the `report_state` signal) is
answered by a report that leaves after it, even when another report was already on its way."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from services.contracts.listing_reports import describe_listing_changes
from services.contracts.sanctions_workflows import CorrectionReport, ListingSignals

from .listing_run import Run, signal_taken


async def test_a_request_for_the_state_while_a_report_is_on_its_way_gets_a_full_report_after_it(run: Run) -> None:
    handle = await run.start(amount="60000.00", leave_off_when_paid=False)
    await run.listed(handle)
    await run.settled(handle)
    sent = run.fakes.reports[-1].seq

    # The correction's report leaves and is held on its way; the operator's request arrives meanwhile.
    run.fakes.reports_held = asyncio.Event()
    await handle.signal(
        ListingSignals.CORRECTION_REPORTED, CorrectionReport(correction_id="C-H", amount=Decimal("60000"))
    )
    for _ in range(200):
        if run.fakes.reports_waiting:
            break
        await asyncio.sleep(0.05)
    assert run.fakes.reports_waiting == 1
    await handle.signal(ListingSignals.REPORT_STATE)
    await signal_taken(handle)
    run.fakes.reports_held.set()

    # The report on its way arrives; it may have left before the request, so one more carries everything.
    again = await run.reported(handle, after=sent + 1)
    assert again.seq == sent + 2
    assert run.fakes.reports[-2].seq == sent + 1 and run.fakes.reports[-2].snapshot.paid_in_full_on is not None
    assert again.changes == describe_listing_changes(None, again.snapshot)
    await run.end(handle)
