"""The referrals worker process: the case facts consumer (inbox) that feeds the letters' read model."""

from __future__ import annotations

from services.common.db import open_pool
from services.common.health import Check, database_check, kafka_check, status_check
from services.common.inbox import InboxConsumer
from services.common.kafka import KafkaProbe, new_consumer
from services.common.runner import Component
from services.common.service import ServiceSettings
from services.referrals.projection import CONSUMER_NAME, TOPICS, CaseFactsProjection
from services.referrals.spec import SPEC


def build_worker(settings: ServiceSettings) -> tuple[list[Component], dict[str, Check]]:
    consumer = InboxConsumer(
        name=CONSUMER_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(settings, *TOPICS, group_id=CONSUMER_NAME, client_id=CONSUMER_NAME),
        handler=CaseFactsProjection(),
    )
    pool = open_pool(settings.database_url, SPEC.schema, max_size=2)

    def consumer_state() -> str | None:
        return f"consumer failing: {consumer.status.last_error}" if consumer.status.last_error else None

    checks: dict[str, Check] = {
        "postgresql": database_check(pool),
        "kafka": kafka_check(KafkaProbe(settings)),
        "consumer": status_check(consumer_state),
    }
    return [consumer], checks
