"""The consumer inbox: each event's effect commits together with its id, offsets are committed after.

A redelivered event (relay resend, consumer restart before its offset commit, rebalance) finds its id
already in the inbox and changes nothing: delivery is at-least-once, the effect exactly once.

A poll's events are applied in one PostgreSQL transaction: one commit (one WAL flush) per poll instead of one
per event, and the poll's inbox rows in one statement (`services.common.inbox_poll`). An event that can never
be applied makes the poll be applied again with each event inside its own savepoint; it rolls back to its
savepoint and is set aside as a dead letter in the same transaction, the others of the poll still apply. Any
other error aborts the whole poll, nothing of it commits, its offsets are not committed, and it is fetched
and applied again. Kafka offsets are committed only after the poll's transaction committed.

Each consumer also measures its group's lag (events on its partitions not applied yet) from the poll
loop itself, at most every few seconds and without a broker round trip: the high watermark comes with
every fetch response, the position is the consumer's own. `/metrics` reads the last measurement.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg.rows import dict_row
from pydantic import ValidationError

from services.common.inbox_poll import PERMANENT_ERRORS, Handler, PermanentEventError, Read, apply_poll
from services.contracts.events import EventEnvelope

log = logging.getLogger(__name__)

# Called with a whole poll's new events (those not in the inbox) before they are applied one by one: a place
# to do, concurrently, slow idempotent work the handler would otherwise do in turn (the intake worker starts a
# poll's workflows at once). Best effort: the handler stays the authority and must still be right when
# `prepare` did nothing.
Prepare = Callable[[list[EventEnvelope]], None]

__all__ = ["PERMANENT_ERRORS", "Handler", "InboxConsumer", "PermanentEventError", "Prepare", "Read"]


@dataclass
class ConsumerStatus:
    applied_total: int = 0
    duplicates_total: int = 0
    dead_letters_total: int = 0
    last_error: str | None = None
    last_poll_at: float = 0.0
    # Events on each assigned partition not applied yet, as last measured; replaced whole, never mutated,
    # so that a scrape on another thread always reads one consistent measurement.
    lag: dict[tuple[str, int], int] = field(default_factory=dict)
    lag_measured_at: float = 0.0


class InboxConsumer:
    """Runs one consumer group over `topics`, applying `handler` to each new event in the poll's transaction
    (`inbox_poll.apply_poll`)."""

    def __init__(
        self,
        *,
        name: str,
        database_url: str,
        schema: str,
        consumer_factory: Callable[[], KafkaConsumer],
        handler: Handler,
        prepare: Prepare | None = None,
        lag_interval_seconds: float = 5.0,
    ) -> None:
        self.name = name
        self.schema = schema
        self._database_url = database_url
        self._consumer_factory = consumer_factory
        self._handler = handler
        self._prepare = prepare
        self._lag_interval = lag_interval_seconds
        self._stop = threading.Event()
        self.status = ConsumerStatus()
        _CONSUMERS.add(self)

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            consumer: KafkaConsumer | None = None
            try:
                with psycopg.connect(
                    self._database_url, row_factory=dict_row, options=f"-c search_path={self.schema},public"
                ) as conn:
                    consumer = self._consumer_factory()
                    while not self._stop.is_set():
                        batch = consumer.poll(timeout_ms=500)
                        self.status.last_poll_at = time.time()
                        if time.monotonic() - self.status.lag_measured_at >= self._lag_interval:
                            self._measure_lag(consumer, batch)
                        if not batch:
                            continue
                        read: Read = [(record, self._read(record)) for records in batch.values() for record in records]
                        if self._prepare is not None:
                            self._prepare_batch(conn, [envelope for _, envelope in read if envelope is not None])
                        self._apply_poll(conn, read)
                        # Only now, with every effect committed, may Kafka forget these events.
                        consumer.commit()
                        self.status.last_error = None
                        backoff = 0.5
            except Exception as exc:
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("consumer error, retrying", extra={"consumer": self.name, "error": str(exc)})
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                if consumer is not None:
                    try:
                        consumer.close(autocommit=False)
                    except Exception:
                        log.debug("closing consumer failed", exc_info=True)

    def _prepare_batch(self, conn: psycopg.Connection[Any], envelopes: list[EventEnvelope]) -> None:
        try:
            # Only events the inbox has not seen: one applied or set aside before must cause nothing again.
            with conn.transaction():
                seen = {
                    row["event_id"]
                    for row in conn.execute(
                        "SELECT event_id FROM inbox WHERE consumer = %s AND event_id = ANY(%s)",
                        (self.name, [envelope.event_id for envelope in envelopes]),
                    )
                }
            self._prepare([envelope for envelope in envelopes if envelope.event_id not in seen])  # type: ignore[misc]
        except Exception:  # the handler does the work in turn, and retries it if it fails there too
            log.warning(
                "preparing a batch failed; applying its events one by one",
                exc_info=True,
                extra={"consumer": self.name, "events": len(envelopes)},
            )

    def _measure_lag(self, consumer: KafkaConsumer, batch: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Lag per assigned partition: high watermark minus the next offset this consumer will apply.

        Called between polls, when everything before this batch is applied: the next offset to apply is
        the batch's first record on that partition, or the consumer's position where the batch has none.
        A partition not fetched from yet has no known high watermark and is left out until it has one.
        """
        lag: dict[tuple[str, int], int] = {}
        try:
            for tp in consumer.assignment():
                highwater = consumer.highwater(tp)
                records = batch.get(tp)
                # position() is local here: a partition with fetched records always has its position.
                next_offset = records[0].offset if records else consumer.position(tp, timeout_ms=100)
                if highwater is not None and next_offset is not None:
                    lag[(tp.topic, tp.partition)] = max(highwater - next_offset, 0)
        except Exception:  # a rebalance under way: keep the last measurement, try again next round
            log.debug("consumer lag not measured", exc_info=True)
            return
        self.status.lag = lag
        self.status.lag_measured_at = time.monotonic()

    def _read(self, record: ConsumerRecord) -> EventEnvelope | None:
        try:
            return EventEnvelope.from_bytes(record.value)
        except ValidationError as exc:
            # A message that is not an event envelope can never be applied; skipping it is the only
            # way forward, and the log line says exactly where it was.
            log.error(
                "skipping unreadable message",
                extra={
                    "consumer": self.name,
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "error": str(exc)[:500],
                },
            )
            return None

    def _apply_poll(self, conn: psycopg.Connection[Any], read: Read) -> None:
        """The poll's events applied in one transaction (`inbox_poll.apply_poll`); counted once it committed.

        The transaction's size is the poll's: at most `max_poll_records` (200, `new_consumer`). That keeps
        one commit for many events while bounding what a transient error makes the poll redo, how long the
        transaction holds its row locks (a handler's Temporal calls run inside it), and the time between two
        polls well inside Kafka's poll interval. A transient error (a connection lost, a serialization
        failure, Temporal away: anything not in PERMANENT_ERRORS) leaves this method, rolling everything
        back; `run` then retries the poll from the last committed offsets.
        """
        outcome = apply_poll(conn, self.name, self._handler, read)
        self.status.applied_total += outcome.applied
        self.status.duplicates_total += outcome.duplicates
        self.status.dead_letters_total += len(outcome.dead_letters)
        for dead_letter in outcome.dead_letters:
            log.error("event set aside as a dead letter", extra=dead_letter)


# Every consumer of this process, for /metrics; weak, so that a consumer dropped (in tests) disappears.
_CONSUMERS: weakref.WeakSet[InboxConsumer] = weakref.WeakSet()


class _ConsumerCollector(Collector):
    """Lag and counts of this process's inbox consumers, from their last measurement (no Kafka call)."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        lag = GaugeMetricFamily(
            "anxin_consumer_lag_messages",
            "Events on a partition not yet applied by the consumer group (high watermark minus next offset)",
            labels=["group", "topic", "partition"],
        )
        age = GaugeMetricFamily(
            "anxin_consumer_lag_age_seconds",
            "Seconds since the consumer group's lag was last measured",
            labels=["group"],
        )
        applied = CounterMetricFamily("anxin_consumer_applied", "Events applied", labels=["group"])
        duplicates = CounterMetricFamily(
            "anxin_consumer_duplicates", "Redelivered events dropped by the inbox", labels=["group"]
        )
        dead = CounterMetricFamily("anxin_consumer_dead_letters", "Events set aside as dead letters", labels=["group"])
        now = time.monotonic()
        for consumer in list(_CONSUMERS):
            status = consumer.status
            for (topic, partition), messages in sorted(status.lag.items()):
                lag.add_metric([consumer.name, topic, str(partition)], float(messages))
            if status.lag_measured_at:
                age.add_metric([consumer.name], now - status.lag_measured_at)
            applied.add_metric([consumer.name], float(status.applied_total))
            duplicates.add_metric([consumer.name], float(status.duplicates_total))
            dead.add_metric([consumer.name], float(status.dead_letters_total))
        yield from (lag, age, applied, duplicates, dead)


REGISTRY.register(_ConsumerCollector())
