"""Intake's worker process: starts each complaint's workflow from the `complaint.submitted` stream.

The complaint was committed with its event, so nothing is lost while Temporal is down: the event waits
in Kafka (its offset is not committed) and the start is retried until it succeeds. The workflow id is
`complaint:<complaint id>`, so a redelivered event never starts a second workflow.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.common import temporal
from services.common.db import open_pool
from services.common.health import Check, database_check, kafka_check, status_check, temporal_check
from services.common.inbox import InboxConsumer
from services.common.kafka import KafkaProbe, new_consumer
from services.common.lifecycle_config import load_lifecycle_config
from services.common.runner import Component
from services.common.service import ServiceSettings
from services.contracts.cases import case_id_for, employer_ref, project_ref
from services.contracts.events import EventEnvelope, Topics
from services.contracts.lifecycle import (
    COMPLAINT_WORKFLOW_TYPE,
    ComplaintInput,
    LifecycleConfig,
    TaskQueues,
    complaint_workflow_id,
)
from services.intake.spec import SPEC

log = logging.getLogger(__name__)

CONSUMER_NAME = "intake-workflow-starter"


def months_between(start: date, end: date) -> int:
    """Whole months owed, counting both the first and the last month (Jan–Mar is 3 months)."""
    return max(1, (end.year - start.year) * 12 + end.month - start.month + 1)


def complaint_input(payload: dict[str, Any], config: LifecycleConfig) -> ComplaintInput:
    """The workflow input built from the event: references and figures only, no personal data."""
    employer = employer_ref(payload.get("employer_credit_code"), payload["employer_name_key"])
    project = project_ref(payload.get("site_id"), payload["county_code"], payload["project_name"])
    period_start = date.fromisoformat(payload["period_start"])
    period_end = date.fromisoformat(payload["period_end"])
    return ComplaintInput(
        complaint_id=payload["complaint_id"],
        case_id=case_id_for(employer, project),
        county=payload["county_code"],
        employer_ref=employer,
        project_ref=project,
        complainant_ref=payload["phone_ref"],
        received_at=datetime.fromisoformat(payload["submitted_at"]),
        amount_owed=Decimal(payload["amount_owed"]),
        workers_affected=int(payload["workers_affected"]),
        months_owed=months_between(period_start, period_end),
        owed_until=period_end,
        channel=payload.get("channel", "qr_form"),
        config=config,
    )


class WorkflowStarter:
    """The inbox handler: start the complaint's workflow, record that it was started."""

    def __init__(self, settings: ServiceSettings, config: LifecycleConfig) -> None:
        self._settings = settings
        self._config = config
        self._local = threading.local()
        self.client: Client | None = None

    def _loop(self) -> asyncio.AbstractEventLoop:
        # The consumer runs in its own thread; its Temporal client lives on that thread's event loop.
        loop = getattr(self._local, "loop", None)
        if loop is None:
            loop = asyncio.new_event_loop()
            self._local.loop = loop
        return loop

    def __call__(self, conn: psycopg.Connection[Any], event: EventEnvelope) -> None:
        if event.type != "complaint.submitted":
            return
        workflow_input = complaint_input(event.payload, self._config)
        workflow_id = complaint_workflow_id(workflow_input.complaint_id)
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
            log.info("complaint workflow started", extra={"workflow_id": workflow_id})
        except WorkflowAlreadyStartedError:
            log.info("complaint workflow already started", extra={"workflow_id": workflow_id})


def build_worker(settings: ServiceSettings) -> tuple[list[Component], dict[str, Check]]:
    starter = WorkflowStarter(settings, load_lifecycle_config(settings))
    consumer = InboxConsumer(
        name=CONSUMER_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(
            settings, Topics.INTAKE_COMPLAINTS, group_id=CONSUMER_NAME, client_id=CONSUMER_NAME
        ),
        handler=starter,
    )
    pool = open_pool(settings.database_url, SPEC.schema, max_size=2)
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
    return [consumer], checks
