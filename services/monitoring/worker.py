"""The monitoring worker process.

- `monitoring-workflow-starter` (inbox) reads the service's own events from the topic's beginning: each
  `project.registered` starts the project's monitoring workflow (idempotently: one per project, ever), each
  `project.updated` tells it the planned end, each `payroll.received` / `attendance.received` tells it a feed
  came in.
- A Temporal worker on `anxin-monitoring` hosts the workflows and their activities: the check day on the
  official calendar, and the month's check that writes the warnings in this service's own tables; and each
  payout's workflow (`payout_workflow.py`) with the activity a case calls to ask for one
  (`monitoring.request_payout`) and the steps that write the payout's record (`payout_activities.py`).
- A project registered before the worker existed (or whose event is past the topic's retention) gets its
  workflow from the start-if-missing sweep the worker runs when it starts: every project of the register
  still within its life and guarantee period is started, idempotently, as its event would have (in the
  background: a long register delays neither the worker's readiness nor its stop; a failed sweep is logged
  and runs again at the next start).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError
from temporalio.worker import Worker

from services.common.db import open_async_pool, open_pool
from services.common.event_handlers import EventHandlers
from services.common.gauges import register_query_gauges
from services.common.health import Check, database_check, kafka_check, status_check
from services.common.inbox import InboxConsumer
from services.common.kafka import KafkaProbe, new_consumer
from services.common.lifecycle_config import live_calendar
from services.common.runner import Component, TemporalWorkerComponent
from services.common.service import ServiceSettings
from services.common.workflow_runner import sandboxed_workflow_runner
from services.common.workflow_starter import WorkflowStarter
from services.contracts.events import EventEnvelope, Topics
from services.contracts.legal_time import legal_date
from services.contracts.lifecycle import CalendarConfig, TaskQueues
from services.contracts.monitoring_events import (
    AttendanceReceived,
    PayrollReceived,
    ProjectFacts,
    ProjectRegistered,
    ProjectUpdated,
)
from services.monitoring import store
from services.monitoring.checks import check_day, previous_month
from services.monitoring.gauges import measure
from services.monitoring.monitoring_workflow import (
    CHECK_DATE_ACTIVITY,
    CHECK_MONTH_ACTIVITY,
    FEEDS_IMPORTED_SIGNAL,
    MONITORING_WORKFLOW_TYPE,
    PROJECT_UPDATED_SIGNAL,
    CheckDateRequest,
    CheckDateResult,
    CheckMonthRequest,
    CheckMonthResult,
    MonitoringInput,
    ProjectMonitoringWorkflow,
    monitoring_workflow_id,
)
from services.monitoring.payout_activities import PayoutActivities
from services.monitoring.payout_workflow import GuaranteePayoutWorkflow
from services.monitoring.settings import MonitoringSettings
from services.monitoring.spec import SPEC
from services.monitoring.warnings import Warnings

log = logging.getLogger(__name__)

STARTER_NAME = "monitoring-workflow-starter"


def first_month_to_check(start_date: date, registered_on: date) -> date:
    """The first month a new workflow checks: the project's first, or the month before its registration when
    it started earlier — the register is entered when monitoring begins, and older months are checked on
    request (`check_now`), not all at once."""
    return max(start_date.replace(day=1), previous_month(registered_on))


class MonitoringStarter(WorkflowStarter):
    """Inbox handler: start each registered project's monitoring workflow; tell it of changes and feeds."""

    def __init__(self, settings: MonitoringSettings) -> None:
        super().__init__(settings)
        self._monitoring = settings
        self.handlers = EventHandlers(
            {
                ProjectRegistered: self._registered,
                ProjectUpdated: self._updated,
                PayrollReceived: self._feed,
                AttendanceReceived: self._feed,
            },
            consumer=STARTER_NAME,
        )

    def _registered(self, _conn: psycopg.Connection[Any], event: EventEnvelope, registered: ProjectRegistered) -> None:
        client = self.run(self.client())
        self.run(start_monitoring(client, self._monitoring, registered.project, legal_date(event.occurred_at)))

    def _updated(self, _conn: psycopg.Connection[Any], _event: EventEnvelope, updated: ProjectUpdated) -> None:
        if "planned_end_date" in updated.changed:
            self.run(self._signal(updated.project.project_id, PROJECT_UPDATED_SIGNAL, updated.project.planned_end_date))

    def _feed(
        self, _conn: psycopg.Connection[Any], _event: EventEnvelope, feed: PayrollReceived | AttendanceReceived
    ) -> None:
        year, month = (int(part) for part in feed.month.split("-"))
        self.run(self._signal(feed.project_id, FEEDS_IMPORTED_SIGNAL, date(year, month, 1)))

    async def _signal(self, project_id: str, signal: str, *args: Any) -> None:
        client = await self.client()
        try:
            await client.get_workflow_handle(monitoring_workflow_id(project_id)).signal(signal, *args)
        except RPCError:
            # Completed (past its guarantee period) or not started yet: its next check reads the register anyway.
            log.info("monitoring not running", extra={"project_id": project_id})


async def start_monitoring(
    client: Client, settings: MonitoringSettings, project: ProjectFacts, registered_on: date
) -> bool:
    """Start the project's monitoring workflow; False when it was started already."""
    workflow_input = MonitoringInput(
        project_id=project.project_id,
        planned_end_date=project.planned_end_date,
        first_month=first_month_to_check(project.start_date, registered_on),
        check_working_day=settings.check_working_day,
        guarantee_days=settings.guarantee_days,
        month_seconds=settings.month_seconds,
    )
    try:
        await client.start_workflow(
            MONITORING_WORKFLOW_TYPE,
            workflow_input,
            id=monitoring_workflow_id(project.project_id),
            task_queue=TaskQueues.MONITORING,
            # One monitoring per project, ever: a redelivered event, the topic read again or the sweep starts none.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def sweep(client: Client, settings: MonitoringSettings, pool: AsyncConnectionPool[Any], today: date) -> int:
    """Start the monitoring of every project still within its life and guarantee period that has none."""
    started = 0
    async with pool.connection() as conn:
        cur = await conn.execute(
            f"SELECT {store.COLUMNS} FROM projects WHERE (facts->>'planned_end_date')::date + %s >= %s "
            "ORDER BY registered_at, project_id",
            (settings.guarantee_days, today),
        )
        rows = await cur.fetchall()
    for row in rows:
        if await start_monitoring(client, settings, store.facts_of(dict(row)), legal_date(row["registered_at"])):
            started += 1
    log.info("monitoring sweep", extra={"projects": len(rows), "started": started})
    return started


class MonitoringActivities:
    def __init__(self, warnings: Warnings, calendar: Callable[[], CalendarConfig]) -> None:
        self._warnings = warnings
        self._calendar = calendar

    @activity.defn(name=CHECK_DATE_ACTIVITY)
    async def check_date(self, request: CheckDateRequest) -> CheckDateResult:
        day = check_day(request.month, request.working_day, self._calendar())
        return CheckDateResult(check_on=day.day, check_at=day.at, provisional=day.provisional)

    @activity.defn(name=CHECK_MONTH_ACTIVITY)
    async def check_month(self, request: CheckMonthRequest) -> CheckMonthResult:
        result = await self._warnings.check_month(request.project_id, request.month)
        log.info(
            "month checked",
            extra={
                "project_id": request.project_id,
                "month": request.month.isoformat(),
                "reason": request.reason,
                "raised": len(result.get("raised", [])),
                "resolved": len(result.get("resolved", [])),
            },
        )
        return CheckMonthResult.model_validate(result)


class MonitoringWorker(TemporalWorkerComponent):
    """The monitoring and payout workflows on `anxin-monitoring`, in their own thread and event loop."""

    description = "monitoring worker"

    def __init__(self, settings: MonitoringSettings) -> None:
        super().__init__(settings)
        self._monitoring = settings

    async def serve(self, client: Client, stop: asyncio.Event) -> None:
        pool = await open_async_pool(self._settings.database_url, SPEC.schema, max_size=3)
        try:
            warnings = Warnings(pool, self._monitoring.check_rules(), self._monitoring.pay_tolerance)
            calendar = live_calendar(self._settings)
            activities = MonitoringActivities(warnings, calendar)
            payouts = PayoutActivities(pool, client, calendar, self._monitoring.payout_timing())
            worker = Worker(
                client,
                task_queue=TaskQueues.MONITORING,
                workflows=[ProjectMonitoringWorkflow, GuaranteePayoutWorkflow],
                activities=[activities.check_date, activities.check_month, *payouts.all()],
                workflow_runner=sandboxed_workflow_runner(),
            )
            self.mark_running()
            async with worker:
                # In the background: a long register must neither delay the worker's readiness nor its stop.
                sweeping = asyncio.create_task(self._sweep(client, pool))
                await stop.wait()
                sweeping.cancel()
        finally:
            await pool.close()

    async def _sweep(self, client: Client, pool: AsyncConnectionPool[Any]) -> None:
        try:
            await sweep(client, self._monitoring, pool, legal_date(datetime.now(UTC)))
        except asyncio.CancelledError:
            raise
        except Exception:
            # The workflows the events start are unaffected; the sweep runs again at the worker's next start.
            log.exception("monitoring sweep failed")


def build_worker(settings: ServiceSettings) -> tuple[list[Component], dict[str, Check]]:
    monitoring_settings = settings if isinstance(settings, MonitoringSettings) else MonitoringSettings()
    starter = InboxConsumer(
        name=STARTER_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(
            settings, Topics.MONITORING, group_id=STARTER_NAME, client_id=STARTER_NAME
        ),
        handler=MonitoringStarter(monitoring_settings),
    )
    monitoring = MonitoringWorker(monitoring_settings)
    pool = open_pool(settings.database_url, SPEC.schema, max_size=2)
    register_query_gauges(pool, measure)

    def consumer_state() -> str | None:
        return f"consumer failing: {starter.name}: {starter.status.last_error}" if starter.status.last_error else None

    def worker_state() -> str | None:
        return f"monitoring worker: {monitoring.last_error}" if monitoring.last_error else None

    checks: dict[str, Check] = {
        "postgresql": database_check(pool),
        "kafka": kafka_check(KafkaProbe(settings)),
        "consumer": status_check(consumer_state),
        "temporal": status_check(worker_state),
    }
    return [starter, monitoring], checks
