"""The transactional outbox: a state change and the event announcing it commit in one transaction.

Stores call `add_event(conn, ...)` inside the transaction that makes the change; the relay
(`services.common.relay`) later publishes the row to Kafka. Nothing ever writes to Kafka directly.

An envelope is read back as its event class before it is written (`envelope.parse()`): a payload its class
does not accept, or a `(type, version)` no class is known for, fails the producer's transaction at once
instead of becoming a dead letter in every consumer.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, Connection
from psycopg.types.json import Jsonb

from services.common.telemetry import current_trace_context
from services.contracts.events import EventEnvelope

_INSERT = (
    "INSERT INTO outbox (event_id, topic, message_key, event_type, envelope) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING"
)


def _row(topic: str, envelope: EventEnvelope) -> tuple[Any, ...]:
    envelope.parse()  # UnknownEvent or ValidationError: the event is not what its contract says
    if not envelope.trace:
        # The event continues the trace of the request (or activity) that made the change.
        envelope = envelope.model_copy(update={"trace": current_trace_context()})
    return (
        envelope.event_id,
        topic,
        envelope.subject,
        envelope.type,
        Jsonb(envelope.model_dump(mode="json")),
    )


def add_event(conn: Connection[Any], topic: str, envelope: EventEnvelope) -> None:
    conn.execute(_INSERT, _row(topic, envelope))


async def add_event_async(conn: AsyncConnection[Any], topic: str, envelope: EventEnvelope) -> None:
    await conn.execute(_INSERT, _row(topic, envelope))
