"""A new complaint's acceptance deadlines, computed by the intake worker before it starts the workflow.

The complaint workflow waits on two deadlines from its first moment: the acceptance decision (受理期限) and
the inspector's reminder before it (`AcceptanceConfig.periods`). Computed inside the workflow, each was an
activity: a task for the server to dispatch, three history events and another workflow task, and a report
to the ledger for each, before the complaint rested on its first timer (docs/performance.md). The intake
worker computes them with the same calendar function (`compute_deadline`) and passes them in the workflow's
input; the workflow stores them as if it had computed them. A workflow started without them (by a test, an
older starter, or because the calendar does not cover the dates and the workflow must wait for it visibly)
computes them itself, as before.

Pure: no I/O; the calendar package's data is read on first use.
"""

from __future__ import annotations

from datetime import datetime

from services.contracts.lifecycle import DayUnit, Deadline, DeadlineRequest, LifecycleConfig
from services.contracts.working_days import CalendarNotCovered, PackageCalendar, compute_deadline


def acceptance_deadlines_at_start(
    config: LifecycleConfig, received_at: datetime, wall_start: datetime, package: PackageCalendar | None = None
) -> list[Deadline]:
    """Round 1's acceptance deadlines for a complaint received at `received_at`, in the order the workflow
    computes them; none when the calendar cannot count them (the workflow then blocks on the missing year)."""
    deadlines = []
    for period in config.acceptance.periods(1):
        if period is None:
            continue
        request = DeadlineRequest(
            name=period.name,
            legal_start=received_at,
            wall_start=wall_start,
            amount=period.working_days,
            unit=DayUnit.WORKING,
            calendar=config.calendar,
            working_day_seconds=config.working_day_seconds,
        )
        try:
            deadlines.append(compute_deadline(request, package))
        except CalendarNotCovered:
            return []
    return deadlines
