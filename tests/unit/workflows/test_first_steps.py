"""A new complaint's first steps: with its acceptance deadlines in its input (as intake's worker starts it), it
rests on its first timer after one workflow task; without them (an older starter) it computes them itself, to
the same dates."""

from __future__ import annotations

from typing import Any

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle

from services.contracts.lifecycle import ActivityNames

from .harness import Harness, _quiescent


async def test_a_complaint_with_its_deadlines_waits_after_one_task_with_one_report(harness: Harness) -> None:
    h = harness
    handle = await h.start_complaint()
    events = await _settled_history(h, handle)

    assert _activities(events, ActivityNames.COMPUTE_DEADLINE) == 0
    assert _activities(events, ActivityNames.REPORT_PROCESS) == 1
    assert _activities(events, ActivityNames.NOTIFY_COMPLAINANT) == 1
    first_task = _first_task_commands(events)
    # The reminder's timer, the one upsert of the complaint's search attributes, the receipt and the report: all in
    # the first task's answer (each patch marker brings the SDK's own upsert of TemporalChangeVersion).
    kinds = [e.WhichOneof("attributes") for e in first_task]
    assert kinds.count("timer_started_event_attributes") == 1
    assert kinds.count("activity_task_scheduled_event_attributes") == 2
    own_upserts = [
        e
        for e in first_task
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
        and set(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        != {"TemporalChangeVersion"}
    ]
    assert len(own_upserts) == 1

    status = await h.complaint_status(handle)
    assert list(status.deadlines) == ["acceptance", "acceptance.reminder"]
    assert status.next_deadline == status.deadlines["acceptance.reminder"].due_at
    report = h.services.distinct(ActivityNames.REPORT_PROCESS)[0]
    assert {d.name for d in report.snapshot.deadlines} == {"acceptance", "acceptance.reminder"}
    assert report.snapshot.next_deadline == status.deadlines["acceptance.reminder"].due_at


async def test_a_complaint_started_without_its_deadlines_computes_them_to_the_same_dates(harness: Harness) -> None:
    h = harness
    seeded = await h.start_complaint()
    bare = await h.start_complaint(deadlines=[])
    seeded_events, bare_events = await _settled_history(h, seeded), await _settled_history(h, bare)

    assert _activities(seeded_events, ActivityNames.COMPUTE_DEADLINE) == 0
    assert _activities(bare_events, ActivityNames.COMPUTE_DEADLINE) == 2
    dates = [
        {
            name: (d.due_date, d.amount, d.provisional)
            for name, d in (await h.complaint_status(handle)).deadlines.items()
        }
        for handle in (seeded, bare)
    ]
    assert dates[0] == dates[1]
    assert set(dates[0]) == {"acceptance", "acceptance.reminder"}


async def _settled_history(h: Harness, handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    """The history once the first steps are over: the reminder's timer started, nothing else in flight."""

    async def settled() -> list[HistoryEvent] | None:
        if not await _quiescent(handle):
            return None
        events = list((await handle.fetch_history()).events)
        return events if any(e.HasField("timer_started_event_attributes") for e in events) else None

    return await h.eventually(settled)


def _activities(events: list[HistoryEvent], name: str) -> int:
    return sum(
        1
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == name
    )


def _first_task_commands(events: list[HistoryEvent]) -> list[HistoryEvent]:
    """The events after the first workflow task's completion, up to the next task."""
    kinds = [e.WhichOneof("attributes") for e in events]
    start = kinds.index("workflow_task_completed_event_attributes") + 1
    end = next(
        (i for i in range(start, len(kinds)) if kinds[i] == "workflow_task_scheduled_event_attributes"), len(kinds)
    )
    return events[start:end]
