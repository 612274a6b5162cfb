"""Intake's worker process: starts each complaint's workflow from the `complaint.submitted` stream.

The complaint was committed with its event, so nothing is lost while Temporal is down: the event waits
in Kafka (its offset is not committed) and the start is retried until it succeeds. The workflow id is
`complaint:<complaint id>`, so a redelivered event never starts a second workflow.

Beside it, the evidence sweep deletes uploaded files no complaint references (services/intake/sweeper.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from prometheus_client import Counter
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.common import temporal
from services.common.db import open_pool
from services.common.event_handlers import EventHandlers
from services.common.gauges import dead_letters_measure, register_query_gauges
from services.common.health import Check, database_check, kafka_check, status_check, temporal_check
from services.common.inbox import InboxConsumer
from services.common.kafka import KafkaProbe, new_consumer
from services.common.lifecycle_config import LiveLifecycleConfig
from services.common.runner import Component
from services.common.service import ServiceSettings
from services.common.telemetry import attach_trace_context, detach_trace_context
from services.contracts.acceptance_deadlines import acceptance_deadlines_at_start
from services.contracts.cases import case_refs
from services.contracts.events import EventEnvelope, Topics
from services.contracts.intake_events import ComplaintSubmitted
from services.contracts.lifecycle import (
    COMPLAINT_WORKFLOW_TYPE,
    ComplaintInput,
    LifecycleConfig,
    TaskQueues,
    complaint_workflow_id,
)
from services.contracts.owed_period import whole_months_owed
from services.intake.evidence import LocalEvidenceStore
from services.intake.settings import IntakeSettings
from services.intake.spec import SPEC
from services.intake.sweeper import EvidenceSweeper

log = logging.getLogger(__name__)

CONSUMER_NAME = "intake-workflow-starter"
# Complaint workflows this process started (not those found already started): with the intake API's accepted
# submissions, the alert that complaints are filed but no longer started (deploy/prometheus).
WORKFLOWS_STARTED = Counter("anxin_complaint_workflows_started_total", "Complaint workflows started")


def complaint_input(submitted: ComplaintSubmitted, config: LifecycleConfig) -> ComplaintInput:
    """The workflow input built from the event: references and figures only, no personal data; with the
    acceptance deadlines counted from now (the workflow's timers on a compressed clock)."""
    refs = case_refs(submitted)
    deadlines = acceptance_deadlines_at_start(config, submitted.submitted_at, datetime.now(UTC))
    if any(deadline.provisional for deadline in deadlines):
        log.warning(
            "acceptance deadlines computed on the fallback (weekdays less statutory holidays): "
            "the official calendar is missing",
            extra={"complaint_id": submitted.complaint_id, "due_date": str(deadlines[0].due_date)},
        )
    return ComplaintInput(
        complaint_id=submitted.complaint_id,
        case_id=refs.case_id,
        county=submitted.county_code,
        employer_ref=refs.employer,
        project_ref=refs.project,
        complainant_ref=submitted.phone_ref,
        received_at=submitted.submitted_at,
        amount_owed=submitted.amount_owed,
        workers_affected=submitted.workers_affected,
        # The form asks for the period, not a number of months: the months are counted from it.
        months_owed=whole_months_owed(submitted.period_start, submitted.period_end),
        owed_until=submitted.period_end,
        channel=submitted.channel,
        config=config,
        deadlines=deadlines,
    )


class WorkflowStarter:
    """The inbox handler: start the complaint's workflow, record that it was started.

    `prepare` starts the workflows of a whole poll concurrently before the inbox applies the events one by
    one; the handler then only records what was started. Started one at a time, each start's round trip to
    Temporal queued every later complaint behind it (`docs/performance.md`).
    """

    def __init__(self, settings: ServiceSettings, config: Callable[[], LifecycleConfig]) -> None:
        self._settings = settings
        # The configuration each new workflow carries, as the files say when it starts (`LiveLifecycleConfig`).
        self._config = config
        self._handlers = EventHandlers({ComplaintSubmitted: self._submitted}, consumer=CONSUMER_NAME)
        self._local = threading.local()
        self.client: Client | None = None
        # The inputs of the workflows `prepare` started (or found started), by event id, not yet recorded by the
        # handler. Only the consumer's thread touches it.
        self._prepared: dict[uuid.UUID, ComplaintInput] = {}

    def close(self) -> None:
        """Close the calling thread's event loop (the consumer's lives as long as the process)."""
        loop = getattr(self._local, "loop", None)
        if loop is not None:
            loop.close()
            self._local.loop = None

    def prepare(self, events: list[EventEnvelope]) -> None:
        starts: list[tuple[EventEnvelope, ComplaintInput]] = []
        config = self._config()
        for event in events:
            try:
                submitted = self._handlers.payload_of(event)
                if isinstance(submitted, ComplaintSubmitted):
                    starts.append((event, complaint_input(submitted, config)))
            except Exception:  # the handler sets the event aside with the reason
                continue
        # Replaced, not added to: an entry left from an earlier poll belonged to an event the inbox found applied.
        self._prepared = self._loop().run_until_complete(self._start_all(starts)) if starts else {}

    async def _start_all(self, starts: list[tuple[EventEnvelope, ComplaintInput]]) -> dict[uuid.UUID, ComplaintInput]:
        async def start(event: EventEnvelope, workflow_input: ComplaintInput) -> None:
            # Each start continues its own complaint's trace (a task has its own copy of the context).
            token = attach_trace_context(event.trace)
            try:
                await self._start(complaint_workflow_id(workflow_input.complaint_id), workflow_input)
            finally:
                detach_trace_context(token)

        results = await asyncio.gather(*(start(event, wi) for event, wi in starts), return_exceptions=True)
        return {
            event.event_id: wi
            for (event, wi), result in zip(starts, results, strict=True)
            if not isinstance(result, BaseException)
        }

    def _loop(self) -> asyncio.AbstractEventLoop:
        # The consumer runs in its own thread; its Temporal client lives on that thread's event loop.
        loop = getattr(self._local, "loop", None)
        if loop is None:
            loop = asyncio.new_event_loop()
            self._local.loop = loop
        return loop

    def __call__(self, conn: psycopg.Connection[Any], event: EventEnvelope) -> None:
        self._handlers(conn, event)

    def _submitted(self, conn: psycopg.Connection[Any], event: EventEnvelope, submitted: ComplaintSubmitted) -> None:
        prepared = self._prepared.pop(event.event_id, None)
        workflow_input = prepared or complaint_input(submitted, self._config())
        workflow_id = complaint_workflow_id(workflow_input.complaint_id)
        if prepared is None:
            self._loop().run_until_complete(self._start(workflow_id, workflow_input))
        conn.execute(
            "INSERT INTO workflow_starts (complaint_id, workflow_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (workflow_input.complaint_id, workflow_id),
        )

    async def _start(self, workflow_id: str, workflow_input: ComplaintInput) -> None:
        if self.client is None:
            self.client = await temporal.connect(self._settings)
        try:
            await self.client.start_workflow(
                COMPLAINT_WORKFLOW_TYPE,
                workflow_input,
                id=workflow_id,
                task_queue=TaskQueues.LIFECYCLE,
                # A complaint's workflow runs once; its id is never reused, even after it closes.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            WORKFLOWS_STARTED.inc()
            log.info("complaint workflow started", extra={"workflow_id": workflow_id})
        except WorkflowAlreadyStartedError:
            log.info("complaint workflow already started", extra={"workflow_id": workflow_id})


def build_worker(settings: ServiceSettings) -> tuple[list[Component], dict[str, Check]]:
    starter = WorkflowStarter(settings, LiveLifecycleConfig(settings))
    consumer = InboxConsumer(
        name=CONSUMER_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(
            settings, Topics.INTAKE_COMPLAINTS, group_id=CONSUMER_NAME, client_id=CONSUMER_NAME
        ),
        handler=starter,
        prepare=starter.prepare,
    )
    pool = open_pool(settings.database_url, SPEC.schema, max_size=2)
    register_query_gauges(pool, dead_letters_measure(SPEC.schema, [CONSUMER_NAME]))
    components: list[Component] = [consumer]
    if isinstance(settings, IntakeSettings):
        components.append(
            EvidenceSweeper(
                pool,
                LocalEvidenceStore(settings.evidence_path),
                grace_seconds=settings.evidence_sweep_grace_seconds,
                interval_seconds=settings.evidence_sweep_interval_seconds,
            )
        )
    health_client: dict[str, Client] = {}

    async def temporal_ready() -> str | None:
        if "client" not in health_client:
            try:
                health_client["client"] = await temporal.connect(settings)
            except Exception as exc:
                return f"temporal unreachable: {type(exc).__name__}: {exc}"
        return await temporal_check(lambda: health_client["client"])()

    def consumer_state() -> str | None:
        return f"consumer failing: {consumer.status.last_error}" if consumer.status.last_error else None

    checks: dict[str, Check] = {
        "postgresql": database_check(pool),
        "kafka": kafka_check(KafkaProbe(settings)),
        "temporal": temporal_ready,
        "consumer": status_check(consumer_state),
    }
    return components, checks
