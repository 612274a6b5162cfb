"""`make bench`'s monthly checks (bench/run.py): every project's monitoring workflow (`ProjectMonitoring`,
docs/monitoring.md, "The monthly checks") checking the same month at once, timed from the month's check instant
until all have checked, against the same number of minimal workflows (bench/raw_check_workflow.py) each
running one activity on the same Temporal server.

The workflows are the real ones: the monitoring worker starts them from the projects' `project.registered`
events, as in production, and the bench waits until every one waits for its check day. The check instant is a
`check_now` signal to each (what an inspector sends), not the compressed month clock: that clock counts each
workflow's month from its own start, so a register of workflows started one after another would have as many
instants, where a real month has one for every project. What follows the signal is the scheduled check's path
— a workflow task, the `monitoring.check_month` activity reading the register's project and the month's summary
from its feeds and writing its warnings with their events — and the baseline is signalled the same way.

A workflow has checked when its activity has completed, by the server's clock in its history; every bench
project raises a deposit warning (bench/monitoring_projects.py), which tells the bench when to look.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.worker import Worker

from bench.measures import Figure, load, percentiles
from bench.monitoring_projects import MonitoredProjects
from bench.raw_check_workflow import RAW_CHECK_ACTIVITY, RAW_CHECK_SIGNAL, RawCheckWorkflow, raw_check
from deploy.stack import Stack
from services.monitoring.monitoring_workflow import CHECK_MONTH_ACTIVITY, CHECK_NOW_SIGNAL, monitoring_workflow_id
from services.monitoring.worker import STARTER_NAME

# Every bench project's deposit is still required: each check of the month raises this warning.
RAISED = "deposit"
# Events of the projects the monitoring worker's starter has not applied yet.
_NOT_STARTED = (
    "SELECT count(*) FROM monitoring.outbox o WHERE o.message_key = ANY(%s) AND NOT EXISTS "
    "(SELECT 1 FROM monitoring.inbox i WHERE i.consumer = %s AND i.event_id = o.event_id)"
)
_RAISED = 'SELECT count(*) FROM monitoring.warnings WHERE project_id = ANY(%s) AND month = %s AND "check" = %s'


async def bench_monthly_checks(
    stack: Stack, client: Client, projects: MonitoredProjects, concurrency: int, *, patience: float = 3600
) -> list[Figure]:
    """The month of `projects` checked by their monitoring workflows, beside as many minimal workflows."""
    count = len(projects.project_ids)
    database_url = stack.postgres.database_url("anxin")
    await asyncio.to_thread(stack.start_processes, ["monitoring-relay", "monitoring-worker"], timeout=240)
    await _poll(lambda: _count(database_url, _NOT_STARTED, projects.project_ids, STARTER_NAME), 0, patience)
    handles = [client.get_workflow_handle(monitoring_workflow_id(p)) for p in projects.project_ids]
    await all_idle(handles, concurrency, patience)

    queue = f"bench-checks-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[RawCheckWorkflow], activities=[raw_check]):
        raw_handles: list[WorkflowHandle[Any, Any]] = []

        async def start(i: int) -> None:
            raw_handles.append(
                await client.start_workflow(RawCheckWorkflow.run, id=f"bench-check:{queue}:{i}", task_queue=queue)
            )

        await load(start, count, concurrency)
        await all_idle(raw_handles, concurrency, patience)

        async def raw_done() -> None:
            # A few at a time: each waits on a long poll, and the server limits a namespace's pollers.
            await load(lambda i: raw_handles[i].result(), count, concurrency)

        raw = await timed_checks(
            raw_handles, RAW_CHECK_SIGNAL, RAW_CHECK_ACTIVITY, projects.month, concurrency, raw_done
        )

    async def checked() -> None:
        arguments = (projects.project_ids, projects.month, RAISED)
        await _poll(lambda: _count(database_url, _RAISED, *arguments), count, patience)

    ours = await timed_checks(handles, CHECK_NOW_SIGNAL, CHECK_MONTH_ACTIVITY, projects.month, concurrency, checked)
    ours_ms, raw_ms = percentiles(ours.after_instant), percentiles(raw.after_instant)
    return [
        Figure(
            f"monthly checks ({count:,} projects)",
            "s",
            ours.all_checked,
            raw.all_checked,
            f"check instant to the last check done; the signals, {concurrency} at once, sent within "
            f"{ours.signalled:.1f} s (raw {raw.signalled:.1f} s); vs minimal workflows, one activity each",
        ),
        Figure("monthly checks", "checks/s", count / ours.all_checked, count / raw.all_checked),
        Figure("monthly check p50 after the instant", "ms", ours_ms["p50"], raw_ms["p50"]),
        Figure("monthly check p95 after the instant", "ms", ours_ms["p95"], raw_ms["p95"]),
    ]


@dataclass(frozen=True)
class CheckTimes:
    """Seconds from the check instant: to each workflow's check done, and to the last signal sent."""

    after_instant: list[float]
    signalled: float

    @property
    def all_checked(self) -> float:
        return max(self.after_instant)


async def timed_checks(
    handles: Sequence[WorkflowHandle[Any, Any]],
    signal: str,
    activity: str,
    month: date,
    concurrency: int,
    done: Callable[[], Awaitable[None]],
) -> CheckTimes:
    """Each workflow's seconds from the check instant (when the first signal is sent) to its check's activity
    completed after the signal, read from its history once `done` says all have checked."""
    instant, started = datetime.now(UTC), time.monotonic()
    await load(lambda i: handles[i].signal(signal, month), len(handles), concurrency)
    signalled = time.monotonic() - started
    await done()
    at: list[datetime] = []

    async def read(i: int) -> None:
        at.append(await checked_at(handles[i], signal, activity))

    await load(read, len(handles), concurrency)
    return CheckTimes([(when - instant).total_seconds() for when in at], signalled)


async def checked_at(handle: WorkflowHandle[Any, Any], signal: str, activity: str, patience: float = 60) -> datetime:
    """When the first `activity` the workflow scheduled after its `signal` completed (the server's clock)."""
    deadline = time.monotonic() + patience
    while True:
        signalled, scheduled = False, None
        async for event in handle.fetch_history_events():
            if event.HasField("workflow_execution_signaled_event_attributes"):
                signalled = signalled or event.workflow_execution_signaled_event_attributes.signal_name == signal
            elif event.HasField("activity_task_scheduled_event_attributes"):
                kind = event.activity_task_scheduled_event_attributes.activity_type.name
                if signalled and scheduled is None and kind == activity:
                    scheduled = event.event_id
            elif (
                event.HasField("activity_task_completed_event_attributes")
                and event.activity_task_completed_event_attributes.scheduled_event_id == scheduled
            ):
                return event.event_time.ToDatetime(tzinfo=UTC)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{handle.id}: no {activity} completed after its {signal} signal")
        await asyncio.sleep(0.5)  # the warning is written before the activity's completion is recorded


async def all_idle(handles: Sequence[WorkflowHandle[Any, Any]], concurrency: int, patience: float) -> None:
    """Wait until every workflow has started and waits, with no workflow task or activity pending."""
    deadline = time.monotonic() + patience
    waiting = await _busy(handles, concurrency)
    while waiting:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(waiting)} workflows still busy, e.g. {waiting[0].id}")
        await asyncio.sleep(1)
        waiting = await _busy(waiting, concurrency)


async def _busy(handles: Sequence[WorkflowHandle[Any, Any]], concurrency: int) -> list[WorkflowHandle[Any, Any]]:
    busy: list[WorkflowHandle[Any, Any]] = []

    async def look(i: int) -> None:
        try:
            description = (await handles[i].describe()).raw_description
        except RPCError:  # not started yet
            busy.append(handles[i])
            return
        if description.pending_activities or description.HasField("pending_workflow_task"):
            busy.append(handles[i])

    await load(look, len(handles), concurrency)
    return busy


def _count(database_url: str, query: str, *arguments: object) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query, arguments).fetchone()
    return int(row[0]) if row else 0


async def _poll(read: Callable[[], int], wanted: int, patience: float) -> None:
    deadline = time.monotonic() + patience
    while (found := await asyncio.to_thread(read)) != wanted:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{found} found, {wanted} wanted, after {patience:.0f} s")
        await asyncio.sleep(0.5)
