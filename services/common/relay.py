"""The outbox relay: publishes each service's outbox rows to Kafka, in order, at least once.

One relay per service is active at a time (a PostgreSQL advisory lock elects it; others wait as
standbys), so events keep their order. A batch is claimed with `FOR UPDATE SKIP LOCKED`, produced with
acks=all on an idempotent producer, flushed, and only then marked sent in the same transaction. A relay
killed mid-batch leaves its rows unsent; the next one sends them again, and consumers drop the
duplicates through their inbox. Rows are kept for a while after sending (for operators), then purged.
While events stream in (an announcement within `ANXIN_RELAY_GATHER_MS` of the last batch) the relay waits
that long for the next commits, so that a batch carries several; an event that comes alone goes at once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from kafka import KafkaProducer
from opentelemetry.trace import SpanKind
from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily
from psycopg.rows import dict_row

from services.common.telemetry import trace_context, tracer

log = logging.getLogger(__name__)

_CLAIM = (
    "SELECT id, event_id, topic, message_key, event_type, envelope FROM outbox "
    "WHERE sent_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
)
_MARK_SENT = "UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)"
_PURGE = "DELETE FROM outbox WHERE sent_at < now() - make_interval(days => %s)"
_LAG = "SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox WHERE sent_at IS NULL"


@dataclass
class RelayStatus:
    leader: bool = False
    last_error: str | None = None
    sent_total: int = 0
    last_batch_at: float = 0.0


class OutboxRelay:
    def __init__(
        self,
        *,
        database_url: str,
        schema: str,
        producer_factory: Any,
        batch_size: int = 200,
        idle_wait_seconds: float = 1.0,
        gather_seconds: float = 0.02,
        retention_days: int = 7,
    ) -> None:
        self.schema = schema
        self._database_url = database_url
        self._producer_factory = producer_factory
        self._batch_size = batch_size
        self._idle_wait = idle_wait_seconds
        self._gather = gather_seconds
        self._last_sent = float("-inf")  # monotonic time the last non-empty batch was sent
        self._retention_days = retention_days
        self._producer: KafkaProducer | None = None
        self.status = RelayStatus()
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self._database_url,
            autocommit=True,
            row_factory=dict_row,
            options=f"-c search_path={self.schema},public",
        )

    def run(self) -> None:
        """Run until `stop()`; survives PostgreSQL and Kafka outages by retrying with backoff."""
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._run_as_leader()
                backoff = 0.5
            except Exception as exc:
                self.status.leader = False
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox relay error, retrying", extra={"schema": self.schema, "error": str(exc)})
                self._drop_producer()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self._drop_producer()

    def _run_as_leader(self) -> None:
        with self._connect() as conn:
            lock_key = f"{self.schema}.outbox-relay"
            while not self._stop.is_set():
                got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS ok", (lock_key,)).fetchone()
                if got and got["ok"]:
                    break
                self.status.leader = False
                self._stop.wait(2.0)
            if self._stop.is_set():
                return
            self.status.leader = True
            conn.execute(f"LISTEN {self.schema}_outbox")
            last_purge = 0.0
            while not self._stop.is_set():
                sent = self.relay_batch(conn)
                if time.monotonic() - last_purge > 600:
                    conn.execute(_PURGE, (self._retention_days,))
                    last_purge = time.monotonic()
                if sent < self._batch_size:
                    self._wait_for_rows(conn)

    def _wait_for_rows(self, conn: psycopg.Connection[Any]) -> None:
        """Sleep until a new row is announced (or a short while, to catch missed notifies). When the
        announcement comes within the gather time of the last batch sent, events are streaming (more than
        one every 20 ms by default): wait that long again for the next commits, so that one claim, one
        produce request and one flush carry several. An event that comes alone goes at once."""
        woken = any(True for _ in conn.notifies(timeout=self._idle_wait, stop_after=1))
        streaming = time.monotonic() - self._last_sent < self._gather
        if woken and streaming:
            for _ in conn.notifies(timeout=self._gather):
                pass

    def _producer_or_new(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self._producer_factory()
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=2)
            except Exception:
                log.debug("closing producer failed", exc_info=True)
            self._producer = None

    def relay_batch(self, conn: psycopg.Connection[Any]) -> int:
        """Claim, publish and mark one batch; returns how many rows were sent."""
        with conn.transaction():
            rows = conn.execute(_CLAIM, (self._batch_size,)).fetchall()
            if not rows:
                self.status.last_error = None
                return 0
            producer = self._producer_or_new()
            futures = []
            for row in rows:
                envelope = row["envelope"]
                _publish_span(envelope, row["topic"])
                headers = [
                    ("event_id", str(row["event_id"]).encode()),
                    ("event_type", row["event_type"].encode()),
                ]
                headers += [(k, v.encode()) for k, v in (envelope.get("trace") or {}).items()]
                futures.append(
                    producer.send(
                        row["topic"],
                        key=row["message_key"].encode(),
                        value=_json_bytes(envelope),
                        headers=headers,
                    )
                )
            producer.flush(timeout=30)
            for future in futures:
                future.get(timeout=0)  # raises if the broker did not acknowledge this record
            conn.execute(_MARK_SENT, ([row["id"] for row in rows],))
        self._last_sent = time.monotonic()
        self.status.sent_total += len(rows)
        self.status.last_batch_at = time.time()
        self.status.last_error = None
        return len(rows)

    def lag(self) -> dict[str, Any]:
        with self._connect() as conn:
            row = conn.execute(_LAG).fetchone()
            return dict(row) if row else {"pending": 0, "oldest": None}


def _publish_span(envelope: dict[str, Any], topic: str) -> None:
    """A span in the event's own trace, so the trace shows when the relay picked the event up. Started in the
    event's context and ended at once, without making it current: a fifth cheaper than entering it, and the
    relay publishes thousands a second."""
    tracer(__name__).start_span(
        f"publish {envelope.get('type')}",
        context=trace_context(envelope.get("trace") or {}),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "anxin.subject": str(envelope.get("subject")),
            "anxin.event_id": str(envelope.get("event_id")),
        },
    ).end()


class _OutboxLagCollector:
    """Outbox lag read from the database on each scrape: unsent rows and the age of the oldest."""

    def __init__(self, relay: OutboxRelay) -> None:
        self._relay = relay

    def collect(self) -> Any:
        pending = GaugeMetricFamily("anxin_outbox_pending", "Outbox rows not yet sent to Kafka", labels=["schema"])
        age = GaugeMetricFamily(
            "anxin_outbox_oldest_unsent_seconds", "Age of the oldest unsent outbox row", labels=["schema"]
        )
        sent = CounterMetricFamily("anxin_outbox_sent", "Events this relay sent to Kafka", labels=["schema"])
        try:
            lag = self._relay.lag()
            pending.add_metric([self._relay.schema], float(lag["pending"]))
            oldest = lag["oldest"]
            age.add_metric([self._relay.schema], (time.time() - oldest.timestamp()) if oldest else 0.0)
        except Exception:
            log.debug("outbox lag unavailable", exc_info=True)
        sent.add_metric([self._relay.schema], float(self._relay.status.sent_total))
        yield from (pending, age, sent)


def register_outbox_metrics(relay: OutboxRelay) -> None:
    REGISTRY.register(_OutboxLagCollector(relay))


def _json_bytes(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
