"""The transactional outbox: a state change and the event announcing it commit in one transaction.

Stores call `add_event(conn, ...)` inside the transaction that makes the change; the relay
(`services.common.relay`) later publishes the row to Kafka. Nothing ever writes to Kafka directly. A
transaction that announces several changes writes their events with `add_events`: one statement for all of
them, in their order, where `add_event` takes a round trip each.

An envelope is read back as its event class before it is written (`envelope.parse()`): a payload its class
does not accept, or a `(type, version)` no class is known for, fails the producer's transaction at once
instead of becoming a dead letter in every consumer. `add_events` reads every envelope before it writes any.

The table's `outbox_notify` trigger runs once per statement, and PostgreSQL delivers one notification per
channel and transaction however often it was raised: the relay is woken once per committed transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection, Connection
from psycopg.types.json import Jsonb

from services.common.telemetry import current_trace_context
from services.contracts.events import EventEnvelope

_INSERT = (
    "INSERT INTO outbox (event_id, topic, message_key, event_type, envelope) "
    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING"
)

# The rows in their order (the relay publishes by id): the ids are drawn as the ordered rows are inserted.
_INSERT_MANY = (
    "INSERT INTO outbox (event_id, topic, message_key, event_type, envelope) "
    "SELECT event_id, %s, message_key, event_type, envelope::jsonb "
    "FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[]) "
    "WITH ORDINALITY AS event (event_id, message_key, event_type, envelope, position) "
    "ORDER BY position ON CONFLICT (event_id) DO NOTHING"
)


def _ready(envelope: EventEnvelope) -> EventEnvelope:
    """The envelope as written: checked against its contract, carrying the current trace."""
    envelope.parse()  # UnknownEvent or ValidationError: the event is not what its contract says
    if not envelope.trace:
        # The event continues the trace of the request (or activity) that made the change.
        envelope = envelope.model_copy(update={"trace": current_trace_context()})
    return envelope


def _envelope_json(envelope: EventEnvelope) -> str:
    # pydantic's own JSON serializer: the same document as `model_dump(mode="json")` through `json.dumps`,
    # without building the dict first.
    return envelope.model_dump_json()


def _row(topic: str, envelope: EventEnvelope) -> tuple[Any, ...]:
    envelope = _ready(envelope)
    return (envelope.event_id, topic, envelope.subject, envelope.type, Jsonb(envelope, dumps=_envelope_json))


def _columns(topic: str, envelopes: Sequence[EventEnvelope]) -> tuple[Any, ...]:
    ready = [_ready(envelope) for envelope in envelopes]
    return (
        topic,
        [envelope.event_id for envelope in ready],
        [envelope.subject for envelope in ready],
        [envelope.type for envelope in ready],
        [envelope.model_dump_json() for envelope in ready],
    )


def add_event(conn: Connection[Any], topic: str, envelope: EventEnvelope) -> None:
    conn.execute(_INSERT, _row(topic, envelope))


async def add_event_async(conn: AsyncConnection[Any], topic: str, envelope: EventEnvelope) -> None:
    await conn.execute(_INSERT, _row(topic, envelope))


def add_events(conn: Connection[Any], topic: str, envelopes: Sequence[EventEnvelope]) -> None:
    """Several events on `topic`, in their order, in one statement; none written unless all are valid."""
    if envelopes:
        conn.execute(_INSERT_MANY, _columns(topic, envelopes))


async def add_events_async(conn: AsyncConnection[Any], topic: str, envelopes: Sequence[EventEnvelope]) -> None:
    if envelopes:
        await conn.execute(_INSERT_MANY, _columns(topic, envelopes))
