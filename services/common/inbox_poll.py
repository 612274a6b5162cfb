"""One poll's events applied in one PostgreSQL transaction, the inbox rows at once.

The poll's inbox rows are written first, in one statement (`INSERT … SELECT FROM unnest(…) ON CONFLICT DO
NOTHING RETURNING`): the ids it returns are the events this consumer has not seen, every other event of the
poll is a duplicate and applies nothing. The new events' effects then run one after another.

Almost every poll applies cleanly, so it is first applied without savepoints: an event costs its handler's
statements and nothing more. When an event can never be applied (PERMANENT_ERRORS), that pass is rolled back
whole and the poll is applied again with each effect in a savepoint of its own, so the event rolls back its
effect alone and is set aside as a dead letter; its inbox row, written before the savepoint, stays, so a
redelivery does not try it again. Any other error leaves the transaction, nothing of the poll commits, and
the poll is applied again from its offsets. Handlers are already written to be applied again (a transient
error redoes the poll), so the pass rolled back costs time, not correctness.

In the pass with savepoints one is open at a time, renewed between two events with `RELEASE SAVEPOINT …;
SAVEPOINT …` in one round trip, where `conn.transaction()` would take two. A handler's own
`conn.transaction()` nests a savepoint of psycopg's inside the poll's transaction in either pass.

What a poll did (counts, dead-letter log lines) is returned and made known by the caller only after the
commit: a poll rolled back and applied again must not be counted twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kafka.consumer.fetcher import ConsumerRecord
from opentelemetry.trace import SpanKind
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from services.common.telemetry import attach_trace_context, detach_trace_context, tracer
from services.contracts.events import EventEnvelope

Handler = Callable[[psycopg.Connection[Any], EventEnvelope], None]
# A poll's records, each with its envelope (None: unreadable, skipped).
Read = list[tuple[ConsumerRecord, EventEnvelope | None]]


class PermanentEventError(Exception):
    """Raised by a handler for an event it can never apply; the event is set aside as a dead letter."""


# Errors that come from the event itself, so retrying cannot help; anything else (a database or Temporal
# being away) is retried until it succeeds.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (
    PermanentEventError,
    ValidationError,
    ValueError,
    KeyError,
    TypeError,
)

_RECORD_POLL = (
    'INSERT INTO inbox (consumer, event_id, topic, partition, "offset") '
    "SELECT %s, * FROM unnest(%s::uuid[], %s::text[], %s::integer[], %s::bigint[]) "
    "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
)

_DEAD_LETTER = (
    'INSERT INTO dead_letters (consumer, event_id, topic, partition, "offset", event_type, error, envelope) '
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (consumer, event_id) DO NOTHING"
)

# The savepoint an event's effect runs in. Statements without parameters go by the simple query protocol,
# which takes two in one round trip; never prepared (a prepared statement holds one).
_SAVEPOINT = "SAVEPOINT inbox_event"
_NEXT_SAVEPOINT = "RELEASE SAVEPOINT inbox_event; SAVEPOINT inbox_event"
_ROLLBACK_TO_SAVEPOINT = "ROLLBACK TO SAVEPOINT inbox_event"


@dataclass
class PollOutcome:
    """What one poll's transaction did, to be made known once it committed."""

    applied: int = 0
    duplicates: int = 0
    dead_letters: list[dict[str, str]] = field(default_factory=list)


class _PollNeedsSavepoints(Exception):
    """An event failed for good in the pass without savepoints: the poll is applied again with them."""


def apply_poll(conn: psycopg.Connection[Any], consumer: str, handler: Handler, read: Read) -> PollOutcome:
    """The poll's events applied in one transaction; raises (and commits nothing) on a transient error."""
    events = [(record, envelope) for record, envelope in read if envelope is not None]
    try:
        return _apply(conn, consumer, handler, events, savepoints=False)
    except _PollNeedsSavepoints:
        return _apply(conn, consumer, handler, events, savepoints=True)


def _apply(
    conn: psycopg.Connection[Any],
    consumer: str,
    handler: Handler,
    events: list[tuple[ConsumerRecord, EventEnvelope]],
    *,
    savepoints: bool,
) -> PollOutcome:
    outcome = PollOutcome()
    with conn.transaction():
        if events:
            new = _record_poll(conn, consumer, events)
            savepoint_open = False
            for record, envelope in events:
                if envelope.event_id not in new:
                    outcome.duplicates += 1
                    _mark_duplicate(consumer, record, envelope)
                    continue
                new.discard(envelope.event_id)  # the same event twice in one poll: the second is a duplicate
                if savepoints:
                    conn.execute(_NEXT_SAVEPOINT if savepoint_open else _SAVEPOINT, prepare=False)
                    savepoint_open = True
                _apply_one(conn, consumer, handler, record, envelope, outcome, savepoints=savepoints)
    return outcome


def _record_poll(
    conn: psycopg.Connection[Any], consumer: str, events: list[tuple[ConsumerRecord, EventEnvelope]]
) -> set[Any]:
    """Write the poll's inbox rows; the ids of those not there before (the events to apply)."""
    cursor = conn.execute(
        _RECORD_POLL,
        (
            consumer,
            [envelope.event_id for _, envelope in events],
            [record.topic for record, _ in events],
            [record.partition for record, _ in events],
            [record.offset for record, _ in events],
        ),
    )
    # The consumer's connection gives rows as dicts (`dict_row`).
    return {row["event_id"] if isinstance(row, dict) else row[0] for row in cursor.fetchall()}


def _apply_one(
    conn: psycopg.Connection[Any],
    consumer: str,
    handler: Handler,
    record: ConsumerRecord,
    envelope: EventEnvelope,
    outcome: PollOutcome,
    *,
    savepoints: bool,
) -> None:
    token = attach_trace_context(envelope.trace)
    try:
        with _span(consumer, record, envelope, duplicate=False):
            handler(conn, envelope)
        outcome.applied += 1
    except PERMANENT_ERRORS as exc:
        if not savepoints:
            raise _PollNeedsSavepoints from exc
        # Only this event's effect goes; the poll's transaction goes on, its inbox row kept.
        conn.execute(_ROLLBACK_TO_SAVEPOINT, prepare=False)
        outcome.dead_letters.append(_set_aside(conn, consumer, record, envelope, exc))
    finally:
        detach_trace_context(token)


def _mark_duplicate(consumer: str, record: ConsumerRecord, envelope: EventEnvelope) -> None:
    """A span in the event's trace saying it came again and changed nothing."""
    token = attach_trace_context(envelope.trace)
    try:
        with _span(consumer, record, envelope, duplicate=True):
            pass
    finally:
        detach_trace_context(token)


def _span(consumer: str, record: ConsumerRecord, envelope: EventEnvelope, *, duplicate: bool) -> Any:
    return tracer(__name__).start_as_current_span(
        f"consume {envelope.type}",
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": record.topic,
            "messaging.consumer.group.name": consumer,
            "anxin.subject": envelope.subject,
            "anxin.event_id": str(envelope.event_id),
            **({"anxin.duplicate": True} if duplicate else {}),
        },
    )


def _set_aside(
    conn: psycopg.Connection[Any],
    consumer: str,
    record: ConsumerRecord,
    envelope: EventEnvelope,
    exc: BaseException,
) -> dict[str, str]:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    conn.execute(
        _DEAD_LETTER,
        (
            consumer,
            envelope.event_id,
            record.topic,
            record.partition,
            record.offset,
            envelope.type,
            error,
            Jsonb(envelope.model_dump(mode="json")),
        ),
    )
    return {
        "consumer": consumer,
        "event_id": str(envelope.event_id),
        "event_type": envelope.type,
        "subject": envelope.subject,
        "error": error[:300],
    }
