"""The events row's consumers (bench/path_measures.py, `bench_events`): inbox consumers of one group, each in a
process of its own as a service's consumers are, applying each event with one statement of effect.

In the measuring process they would share its interpreter lock with the writer the row times, which no
service's consumer does: the writer and the consumers of a real event are different services."""

from __future__ import annotations

import contextlib
import threading
from multiprocessing.synchronize import Event
from typing import Any

import psycopg

from bench.spawned import spawned
from services.common.event_handlers import EventHandlers
from services.common.inbox import InboxConsumer
from services.common.kafka import new_consumer
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope
from tests.support.agencies import wait_for
from tests.support.events import Counted

# The consumer processes' name in the row's CPU figures.
CONSUMERS = "event-consumers"

# The effects table the consumers write to, one row an applied event, in the row's own schema.
EFFECTS_TABLE = "effects"


def _record_effect(conn: psycopg.Connection[Any], _event: EventEnvelope, counted: Counted) -> None:
    conn.execute(f"INSERT INTO {EFFECTS_TABLE} VALUES (%s)", (counted.n,))


def _consume(
    settings: CommonSettings, schema: str, topic: str, group: str, index: int, ready: Event, stop: Event
) -> None:
    """A consumer process: one inbox consumer of `group` until `stop` is set."""
    client_id = f"{group}-{index}"
    inbox = InboxConsumer(
        name=group,
        database_url=settings.database_url,
        schema=schema,
        consumer_factory=lambda: new_consumer(settings, topic, group_id=group, client_id=client_id),
        handler=EventHandlers({Counted: _record_effect}, consumer=group),
    )
    thread = threading.Thread(target=inbox.run, daemon=True)
    thread.start()
    ready.set()
    stop.wait()
    inbox.stop()
    thread.join(10)


def consumer_processes(
    settings: CommonSettings, schema: str, topic: str, group: str, count: int
) -> contextlib.AbstractContextManager[list[int]]:
    """`count` consumer processes of `group` on `topic`, running (their consumers started, the group perhaps still
    joining, as a service's are when it starts) until the block ends; yields their process ids."""
    return spawned([(_consume, (settings, schema, topic, group, index)) for index in range(count)], "event consumer")


def effects_applied(conn: psycopg.Connection[Any]) -> int:
    """How many events the consumers have applied: their effects committed."""
    row = conn.execute(f"SELECT count(*) FROM {EFFECTS_TABLE}").fetchone()
    return int(row[0]) if row else 0


def wait_until_applied(conn: psycopg.Connection[Any], total: int, *, patience: float = 300) -> None:
    """Wait until `total` effects are committed; fail when they are not within `patience` seconds (a consumer that
    never joined its group, a relay that stopped)."""
    wait_for(f"the effects of all {total} events", lambda: effects_applied(conn) >= total, patience, interval=0.02)
