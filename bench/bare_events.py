"""The events row's second baseline (bench/path_measures.py, `bench_events`): the least any outbox + inbox path
does, beside the raw produce and consume — the same work as the project's path, in plain psycopg and kafka-python.

A writer commits rows to an outbox table in transactions of 100; a relay, in a process of its own, claims up to
200 unsent rows, produces them (the project's producer settings: acks=all, idempotent), flushes, and marks them
sent in the claim's transaction; consumers of one group, each in a process of its own (the project's consumer
settings), write a poll's inbox rows in one statement and apply each new event with one statement, in one
transaction per poll, and commit their offsets after it. What it leaves out is what the project adds: the
envelope's contract checked and serialized per event, a span per publish and per apply, the relay's wake-up by
LISTEN/NOTIFY (it polls every 5 ms instead), dead letters, savepoints, metrics."""

from __future__ import annotations

import contextlib
import time
import uuid
from multiprocessing.synchronize import Event
from typing import Any

import psycopg

from bench.spawned import Target, spawned
from services.common.kafka import new_consumer, new_producer
from services.common.settings import CommonSettings

# The bare path's processes' name in the row's CPU figures.
BARE_PROCESSES = "bare-relay-and-consumers"

_TABLES = """
CREATE TABLE outbox (id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, message_key text NOT NULL,
                     payload bytea NOT NULL, sent_at timestamptz);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE TABLE inbox (event_id uuid PRIMARY KEY);
CREATE TABLE effects (event_id uuid NOT NULL)  -- counted by bench/event_consumers.py, `effects_applied`
"""
_INSERT = "INSERT INTO outbox (event_id, message_key, payload) VALUES (%s, %s, %s)"
_CLAIM = (
    "SELECT id, event_id, message_key, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 200 "
    "FOR UPDATE SKIP LOCKED"
)
_MARK_SENT = "UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)"
_RECORD_POLL = "INSERT INTO inbox SELECT unnest(%s::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id"
_APPLY = "INSERT INTO effects VALUES (%s)"


def create_tables(database_url: str, schema: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(_TABLES)


def connect_to(database_url: str, schema: str, *, autocommit: bool = True) -> psycopg.Connection[Any]:
    """A connection to the bare path's tables in `schema`."""
    return psycopg.connect(database_url, autocommit=autocommit, options=f"-c search_path={schema}")


def write_events(database_url: str, schema: str, payload: bytes, total: int) -> None:
    """The writer: `total` rows in transactions of 100, pipelined as the project's writer is."""
    with connect_to(database_url, schema) as conn:
        for first in range(0, total, 100):
            with conn.pipeline():
                conn.execute("BEGIN")
                for n in range(first, min(first + 100, total)):
                    conn.execute(_INSERT, (uuid.uuid4(), f"case-{n % 200}", payload))
                conn.execute("COMMIT")


def check_delivered_once(conn: psycopg.Connection[Any], total: int) -> None:
    """Raise unless the bare path sent every row and applied each of the `total` events once: a baseline that lost
    or doubled events would not measure the same work."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL), (SELECT count(*) FROM inbox), "
        "(SELECT count(*) FROM effects), (SELECT count(DISTINCT event_id) FROM effects)"
    ).fetchone()
    if row != (0, total, total, total):
        raise RuntimeError(f"bare events path: unsent, inbox, effects, distinct effects = {row}, not (0, {total}, …)")


def _relay(settings: CommonSettings, schema: str, topic: str, ready: Event, stop: Event) -> None:
    producer = new_producer(settings, client_id=f"bare-relay-{schema}")
    with connect_to(settings.database_url, schema, autocommit=False) as conn:
        ready.set()
        while not stop.is_set():
            with conn.transaction():
                rows = conn.execute(_CLAIM).fetchall()
                futures = [
                    producer.send(topic, key=key.encode(), value=payload, headers=[("event_id", event_id.bytes)])
                    for _, event_id, key, payload in rows
                ]
                producer.flush(timeout=30)
                for future in futures:
                    future.get(timeout=0)
                if rows:
                    conn.execute(_MARK_SENT, ([row[0] for row in rows],))
            if not rows:
                time.sleep(0.005)
    producer.close(timeout=5)


def _consume(
    settings: CommonSettings, schema: str, topic: str, group: str, index: int, ready: Event, stop: Event
) -> None:
    consumer = new_consumer(settings, topic, group_id=group, client_id=f"{group}-{index}")
    with connect_to(settings.database_url, schema, autocommit=False) as conn:
        ready.set()
        while not stop.is_set():
            records = [record for batch in consumer.poll(timeout_ms=500).values() for record in batch]
            if not records:
                continue
            ids = [uuid.UUID(bytes=dict(record.headers)["event_id"]) for record in records]
            with conn.transaction():
                new = {row[0] for row in conn.execute(_RECORD_POLL, (ids,)).fetchall()}
                for event_id in ids:
                    if event_id in new:
                        new.discard(event_id)
                        conn.execute(_APPLY, (event_id,))
            consumer.commit()
    consumer.close()


def bare_processes(
    settings: CommonSettings, schema: str, topic: str, consumers: int
) -> contextlib.AbstractContextManager[list[int]]:
    """The bare relay and `consumers` bare consumer processes of one group, running until the block ends; yields
    their process ids."""
    group = f"bare-{uuid.uuid4().hex[:6]}"
    targets: list[Target] = [(_relay, (settings, schema, topic))]
    targets += [(_consume, (settings, schema, topic, group, index)) for index in range(consumers)]
    return spawned(targets, "bare events process")
