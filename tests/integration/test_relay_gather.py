"""The relay on the real PostgreSQL and broker: an event that comes alone goes out at once; events committed
one after another, each within the gather time of the batch before, wait for each other and go out
together — one claim, one produce request and one flush for several."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg
from kafka import KafkaProducer

from services.common.kafka import ensure_topics, new_producer
from services.common.migrations import apply_migrations
from services.common.outbox import add_event
from services.common.relay import OutboxRelay
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope
from tests.support.events import Counted

GATHER_SECONDS = 1.0  # long beside the writes' spacing below, so that a slow machine still shows the batches


class FlushesCounted:
    """The real producer, with the number of records sent before each flush written down."""

    def __init__(self, producer: KafkaProducer) -> None:
        self._producer = producer
        self._since_flush = 0
        self.batches: list[int] = []

    def send(self, *args: Any, **kwargs: Any) -> Any:
        self._since_flush += 1
        return self._producer.send(*args, **kwargs)

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout=timeout)
        self.batches.append(self._since_flush)
        self._since_flush = 0

    def close(self, timeout: float | None = None) -> None:
        self._producer.close(timeout=timeout)


def _write(conn: psycopg.Connection[Any], topic: str, n: int) -> None:
    with conn.transaction():
        add_event(conn, topic, EventEnvelope.wrap(Counted(n=n), subject=f"c{n}", producer="test"))


def _wait_sent(relay: OutboxRelay, total: int) -> None:
    deadline = time.monotonic() + 30
    while relay.status.sent_total < total:
        assert time.monotonic() < deadline, f"the relay sent {relay.status.sent_total} of {total}"
        time.sleep(0.01)


def test_a_lone_event_goes_at_once_and_a_stream_of_commits_goes_out_together(
    settings: CommonSettings, scratch_schema: str
) -> None:
    topic = f"test.gather.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], partitions=1)
    apply_migrations(settings.database_url, scratch_schema, None)
    producer = FlushesCounted(new_producer(settings, client_id="test-gather"))
    relay = OutboxRelay(
        database_url=settings.database_url,
        schema=scratch_schema,
        producer_factory=lambda: producer,
        idle_wait_seconds=5,  # only notifications wake it in this test
        gather_seconds=GATHER_SECONDS,
    )
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        with psycopg.connect(settings.database_url, options=f"-c search_path={scratch_schema}") as conn:
            time.sleep(0.5)  # the relay has led and found the outbox empty
            _write(conn, topic, 0)
            _wait_sent(relay, 1)
            for n in range(1, 10):  # nine commits 20 ms apart, the first just after the batch before
                _write(conn, topic, n)
                time.sleep(0.02)
            _wait_sent(relay, 10)
            time.sleep(GATHER_SECONDS * 1.5)  # the stream has stopped
            _write(conn, topic, 10)
            time.sleep(0.3)
            _write(conn, topic, 11)
            _wait_sent(relay, 12)
    finally:
        relay.stop()
        thread.join(10)
    batches = producer.batches
    assert batches[0] == 1, batches  # the first event, alone: not held back
    # The nine together (without the wait each would be its own claim and flush); a stall of the machine
    # longer than the wait may split them once.
    assert sum(batches[1:-2]) == 9 and len(batches[1:-2]) <= 2, batches
    # After the stream stopped an event comes alone and goes at once, so the next, 0.3 s later, is not in
    # its batch (held back for the gather time, they would have gone together).
    assert batches[-2:] == [1, 1], batches
