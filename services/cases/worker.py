"""The cases worker process: the ledger consumer (inbox), the consumers that act on workflows (early-warning
cases, payouts' outcomes) and the report worker with its schedules.

- `cases-ledger` consumes intake's, this service's, referrals', sanctions' and monitoring's topics and keeps the
  ledger read model current (`projection.py`), each event applied exactly once through the inbox.
- `cases-early-warning` consumes this service's own topic: it starts the workflow of each early-warning case the
  ledger opened, and merges into it the processes of complaints about its project (`early_warning_cases.py`).
- `cases-payouts` consumes the monitoring topic's payouts and records each outcome on its case's workflow
  (`payout_recorder.py`).
- A Temporal worker on `anxin-cases` hosts the report workflow and its activity; the weekly and
  quarterly schedules are created at start if missing (their ids are fixed, so this is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.worker import Worker

from services.cases import periods, reports
from services.cases.early_warning_cases import CONSUMER_NAME as EARLY_WARNING_CONSUMER
from services.cases.early_warning_cases import EarlyWarningCases
from services.cases.gauges import measure_cases
from services.cases.payout_recorder import CONSUMER_NAME as PAYOUTS_CONSUMER
from services.cases.payout_recorder import PayoutRecorder
from services.cases.peak_periods import in_peak_period
from services.cases.projection import CONSUMER_NAME, TOPICS, LedgerProjection
from services.cases.report_workflow import (
    PRODUCE_REPORT_ACTIVITY,
    REPORT_WORKFLOW_TYPE,
    ProduceReport,
    ReportRequest,
    ReportWorkflow,
)
from services.cases.settings import CasesSettings
from services.cases.spec import SPEC
from services.common.db import open_async_pool, open_pool
from services.common.gauges import dead_letters_measure, register_query_gauges
from services.common.health import Check, database_check, kafka_check, status_check
from services.common.inbox import InboxConsumer
from services.common.kafka import KafkaProbe, new_consumer
from services.common.lifecycle_config import LiveLifecycleConfig
from services.common.runner import Component, TemporalWorkerComponent
from services.common.service import ServiceSettings
from services.common.workflow_runner import sandboxed_workflow_runner
from services.contracts.events import Topics
from services.contracts.lifecycle import TaskQueues

log = logging.getLogger(__name__)

WEEKLY_SCHEDULE_ID = "anxin-cases-weekly-report"
QUARTERLY_SCHEDULE_ID = "anxin-cases-quarterly-report"
PEAK_DAILY_SCHEDULE_ID = "anxin-cases-peak-daily-report"


class ReportActivities:
    def __init__(self, settings: CasesSettings) -> None:
        self._settings = settings
        self._peak_periods = settings.parsed_peak_periods()
        self._pool: Any = None

    async def open(self) -> None:
        self._pool = await open_async_pool(self._settings.database_url, SPEC.schema, max_size=2)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @activity.defn(name=PRODUCE_REPORT_ACTIVITY)
    async def produce_report(self, request: ProduceReport) -> str:
        kind: periods.PeriodKind = request.kind  # type: ignore[assignment]
        asked_on = date.fromisoformat(request.asked_on)
        if request.peak_only and not in_peak_period(asked_on, self._peak_periods):
            log.info("no daily report outside the peak periods", extra={"asked_on": request.asked_on})
            return ""
        if request.period:
            period = periods.parse_period(kind, request.period)
        else:
            period = periods.previous_period(kind, asked_on)
        result = await reports.produce(self._pool, period)
        log.info("report produced", extra={"report_id": result["report_id"]})
        return str(result["report_id"])


def schedules(settings: CasesSettings) -> dict[str, tuple[ReportRequest, str]]:
    """Each schedule's id, the request it starts and its cron (a schedule whose cron is empty is left out)."""
    wanted = {
        WEEKLY_SCHEDULE_ID: (ReportRequest(kind="weekly"), settings.weekly_report_cron),
        QUARTERLY_SCHEDULE_ID: (ReportRequest(kind="quarterly"), settings.quarterly_report_cron),
        PEAK_DAILY_SCHEDULE_ID: (ReportRequest(kind="daily", peak_only=True), settings.peak_daily_report_cron),
    }
    return {sid: spec for sid, spec in wanted.items() if spec[1]}


async def ensure_schedules(client: Client, settings: CasesSettings) -> list[str]:
    """Create the report schedules that do not exist yet; returns the ids created now."""
    created = []
    for schedule_id, (request, cron) in schedules(settings).items():
        schedule = Schedule(
            action=ScheduleActionStartWorkflow(
                REPORT_WORKFLOW_TYPE,
                request,
                id=f"cases-report-{request.kind}",
                task_queue=TaskQueues.CASES,
                execution_timeout=timedelta(hours=1),
            ),
            spec=ScheduleSpec(cron_expressions=[cron], time_zone_name=settings.report_time_zone),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
        )
        try:
            await client.create_schedule(schedule_id, schedule)
            created.append(schedule_id)
        except ScheduleAlreadyRunningError:
            pass
    return created


class ReportWorker(TemporalWorkerComponent):
    """The Temporal worker for reports (and their schedules), in its own thread and event loop."""

    description = "report worker"

    async def serve(self, client: Client, stop: asyncio.Event) -> None:
        activities = ReportActivities(self._settings)
        try:
            await ensure_schedules(client, self._settings)
            await activities.open()
            worker = Worker(
                client,
                task_queue=TaskQueues.CASES,
                workflows=[ReportWorkflow],
                activities=[activities.produce_report],
                workflow_runner=sandboxed_workflow_runner(),
            )
            self.mark_running()
            async with worker:
                await stop.wait()
        finally:
            await activities.close()


def build_worker(settings: ServiceSettings) -> tuple[list[Component], dict[str, Check]]:
    cases_settings = settings if isinstance(settings, CasesSettings) else CasesSettings()
    consumer = InboxConsumer(
        name=CONSUMER_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(settings, *TOPICS, group_id=CONSUMER_NAME, client_id=CONSUMER_NAME),
        handler=LedgerProjection(),
    )
    early_warning = InboxConsumer(
        name=EARLY_WARNING_CONSUMER,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(
            settings, Topics.CASES, group_id=EARLY_WARNING_CONSUMER, client_id=EARLY_WARNING_CONSUMER
        ),
        handler=EarlyWarningCases(settings, LiveLifecycleConfig(settings)),
    )
    # A payout's outcome recorded on its case's workflow (a consumer of its own: it waits on Temporal).
    payouts = InboxConsumer(
        name=PAYOUTS_CONSUMER,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(
            settings, Topics.MONITORING, group_id=PAYOUTS_CONSUMER, client_id=PAYOUTS_CONSUMER
        ),
        handler=PayoutRecorder(settings),
    )
    report_worker = ReportWorker(cases_settings)
    pool = open_pool(settings.database_url, SPEC.schema, max_size=2)
    register_query_gauges(pool, measure_cases)
    register_query_gauges(
        pool, dead_letters_measure(SPEC.schema, [CONSUMER_NAME, EARLY_WARNING_CONSUMER, PAYOUTS_CONSUMER])
    )

    def consumer_state() -> str | None:
        failing = [c for c in (consumer, early_warning, payouts) if c.status.last_error]
        return "; ".join(f"{c.name} failing: {c.status.last_error}" for c in failing) or None

    def report_state() -> str | None:
        return f"report worker: {report_worker.last_error}" if report_worker.last_error else None

    checks: dict[str, Check] = {
        "postgresql": database_check(pool),
        "kafka": kafka_check(KafkaProbe(settings)),
        "consumer": status_check(consumer_state),
        "temporal": status_check(report_state),
    }
    return [consumer, early_warning, payouts, report_worker], checks
