"""The sanctions worker process (`sanctions-worker`): the facts consumer and the Temporal worker.

- `sanctions-facts` consumes intake's complaints and referrals' events into the case facts and the
  criminal-transfer register (`projection.py`), each event applied exactly once through the inbox.
- The gauge `anxin_interview_commitments_overdue` (`gauges.py`), read on scrape.
- A Temporal worker on `anxin-sanctions` hosts the blacklist workflow (`services/sanctions/blacklist.py`), the
  quarterly list workflow and their activities (`ListingActivities`, on this service's own pool); the
  quarterly schedule is created at start if missing (its id is fixed, so this is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

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

from services.common.data_keys import KeyPurpose
from services.common.db import open_async_pool, open_pool
from services.common.gauges import dead_letters_measure, register_query_gauges
from services.common.health import Check, database_check, kafka_check, status_check
from services.common.inbox import InboxConsumer
from services.common.kafka import KafkaProbe, new_consumer
from services.common.runner import Component, TemporalWorkerComponent
from services.common.service import ServiceSettings
from services.common.workflow_runner import sandboxed_workflow_runner
from services.contracts.sanctions_workflows import QUARTERLY_LIST_WORKFLOW_TYPE, TASK_QUEUE
from services.sanctions.activities import ListingActivities
from services.sanctions.blacklist import BlacklistWorkflow
from services.sanctions.gauges import measure_interviews
from services.sanctions.projection import CONSUMER_NAME, TOPICS, SanctionsProjection
from services.sanctions.quarterly import QuarterlyListWorkflow
from services.sanctions.settings import SanctionsSettings
from services.sanctions.spec import SPEC

log = logging.getLogger(__name__)

QUARTERLY_SCHEDULE_ID = "anxin-sanctions-quarterly-list"
WORKFLOWS = [BlacklistWorkflow, QuarterlyListWorkflow]


async def ensure_schedule(client: Client, settings: SanctionsSettings) -> bool:
    """Create the quarterly list schedule if it does not exist; True when created now."""
    if not settings.quarterly_list_cron:
        return False
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            QUARTERLY_LIST_WORKFLOW_TYPE,
            None,
            id="sanctions-quarterly-list",
            task_queue=TASK_QUEUE,
            execution_timeout=timedelta(hours=1),
        ),
        spec=ScheduleSpec(cron_expressions=[settings.quarterly_list_cron], time_zone_name=settings.time_zone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
    )
    try:
        await client.create_schedule(QUARTERLY_SCHEDULE_ID, schedule)
        return True
    except ScheduleAlreadyRunningError:
        return False


class SanctionsTemporalWorker(TemporalWorkerComponent):
    """The blacklist workflows and their activities, in their own thread and event loop."""

    description = "sanctions worker"

    async def serve(self, client: Client, stop: asyncio.Event) -> None:
        await ensure_schedule(client, self._settings)
        pool = await open_async_pool(self._settings.database_url, SPEC.schema, max_size=4)
        try:
            activities = ListingActivities(pool, self._settings, self._settings.cipher(KeyPurpose.SANCTIONS))
            worker = Worker(
                client,
                task_queue=TASK_QUEUE,
                workflows=WORKFLOWS,
                activities=activities.all(),
                graceful_shutdown_timeout=timedelta(seconds=10),
                workflow_runner=sandboxed_workflow_runner(),
            )
            self.mark_running()
            async with worker:
                await stop.wait()
        finally:
            await pool.close()


def build_worker(settings: ServiceSettings) -> tuple[list[Component], dict[str, Check]]:
    sanctions_settings = settings if isinstance(settings, SanctionsSettings) else SanctionsSettings()
    consumer = InboxConsumer(
        name=CONSUMER_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(settings, *TOPICS, group_id=CONSUMER_NAME, client_id=CONSUMER_NAME),
        handler=SanctionsProjection(),
    )
    temporal_worker = SanctionsTemporalWorker(sanctions_settings)
    pool = open_pool(settings.database_url, SPEC.schema, max_size=2)
    register_query_gauges(pool, measure_interviews)
    register_query_gauges(pool, dead_letters_measure(SPEC.schema, [CONSUMER_NAME]))

    def consumer_state() -> str | None:
        return f"consumer failing: {consumer.status.last_error}" if consumer.status.last_error else None

    def worker_state() -> str | None:
        return f"temporal worker: {temporal_worker.last_error}" if temporal_worker.last_error else None

    checks: dict[str, Check] = {
        "postgresql": database_check(pool),
        "kafka": kafka_check(KafkaProbe(settings)),
        "consumer": status_check(consumer_state),
        "temporal": status_check(worker_state),
    }
    return [consumer, temporal_worker], checks
