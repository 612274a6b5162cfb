"""The webhooks dispatcher process: two loops, each its own thread, that share only the database.

- `webhooks-fanout` (inbox) reads every topic in a consumer group of its own, so the services' relays and
  consumers never wait for it. For each event it writes one delivery row per active subscription that wants
  the event's type and has it in its scope, in the transaction that records the event in the inbox: a
  redelivered event finds its id there and adds nothing.
- `DeliveryLoop` sends the deliveries that are due, signed (Standard Webhooks), and records each answer:
  delivered (2xx), tried again after the schedule's next pause, a dead letter when the schedule is spent, and
  the subscription disabled when the receiver answers 410 Gone. A delivery being sent is leased (its next
  attempt pushed past the send's timeout), so one in flight when the process dies is sent again after a restart.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from prometheus_client.core import GaugeMetricFamily
from psycopg.rows import dict_row

from services.common.auth import Role
from services.common.db import open_pool
from services.common.gauges import register_query_gauges
from services.common.health import Check, database_check, kafka_check, status_check
from services.common.inbox import InboxConsumer
from services.common.kafka import KafkaProbe, new_consumer
from services.common.runner import Component
from services.common.service import ServiceSettings
from services.contracts import catalog
from services.contracts.event_scope import scope_of
from services.contracts.events import EventEnvelope, Topics, event_class
from services.webhooks.domain import (
    Outcome,
    Subscriber,
    body_of,
    delivery_id,
    headers,
    may_receive,
    outcome_of,
    pause_after,
)
from services.webhooks.settings import WebhooksSettings
from services.webhooks.spec import SPEC

log = logging.getLogger(__name__)

FANOUT_NAME = "webhooks-fanout"
# A send that outlives this past its timeout is taken to have failed and is sent again.
LEASE_MARGIN_SECONDS = 30.0


def fan_out(conn: psycopg.Connection[Any], envelope: EventEnvelope) -> None:
    """One delivery row per active subscription to this event's type with the event in its scope."""
    scope = scope_of(event_class(envelope.type, envelope.version), envelope.payload)
    subscriptions = conn.execute(
        "SELECT subscription_id, role, county, department FROM subscriptions "
        "WHERE status = 'active' AND %s = ANY(event_types)",
        (envelope.type,),
    ).fetchall()
    body = None
    for row in subscriptions:
        if not may_receive(Subscriber(Role(row["role"]), row["county"], row["department"]), scope):
            continue
        body = body or body_of(envelope)
        conn.execute(
            "INSERT INTO deliveries (delivery_id, subscription_id, event_id, event_type, body) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (subscription_id, event_id) DO NOTHING",
            (
                delivery_id(row["subscription_id"], envelope.event_id),
                row["subscription_id"],
                envelope.event_id,
                envelope.type,
                body,
            ),
        )


@dataclass(frozen=True)
class Due:
    delivery_id: str
    subscription_id: str
    url: str
    body: str
    attempts: int
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str | None


_CLAIM = """
UPDATE deliveries d SET next_attempt_at = now() + %(lease)s, updated_at = now()
FROM subscriptions s
WHERE s.subscription_id = d.subscription_id AND d.delivery_id IN (
    SELECT due.delivery_id FROM deliveries due JOIN subscriptions sub USING (subscription_id)
    WHERE due.status = 'pending' AND due.next_attempt_at <= now() AND sub.status = 'active'
    ORDER BY due.next_attempt_at LIMIT %(batch)s FOR UPDATE OF due SKIP LOCKED)
RETURNING d.delivery_id, d.subscription_id, d.body, d.attempts, s.url
"""


class DeliveryLoop:
    """Sends due deliveries until stopped; all its state is in the database."""

    def __init__(self, settings: WebhooksSettings, client: httpx.Client | None = None) -> None:
        self.settings = settings
        self._schedule = settings.retry_pauses
        self._client = client or httpx.Client(timeout=settings.delivery_timeout_seconds, follow_redirects=False)
        self._senders = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook-send")
        self._stop = threading.Event()
        self.last_error: str | None = None
        self.delivered_total = 0

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.settings.database_url,
                    row_factory=dict_row,
                    autocommit=True,
                    options=f"-c search_path={SPEC.schema},public",
                ) as conn:
                    while not self._stop.is_set():
                        sent = self.send_due(conn)
                        self.last_error = None
                        if not sent:
                            self._stop.wait(self.settings.dispatch_interval_seconds)
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("delivery loop error, retrying", extra={"error": str(exc)})
                self._stop.wait(2.0)
        self._senders.shutdown(wait=True)
        self._client.close()

    def claim(self, conn: psycopg.Connection[Any]) -> list[Due]:
        lease = timedelta(seconds=self.settings.delivery_timeout_seconds + LEASE_MARGIN_SECONDS)
        with conn.transaction():
            rows = conn.execute(_CLAIM, {"lease": lease, "batch": self.settings.dispatch_batch}).fetchall()
            if not rows:
                return []
            secrets: dict[str, list[str]] = {}
            for row in conn.execute(
                "SELECT subscription_id, secret FROM subscription_secrets WHERE subscription_id = ANY(%s) "
                "AND (expires_at IS NULL OR expires_at > now()) ORDER BY secret_id DESC",
                ([row["subscription_id"] for row in rows],),
            ).fetchall():
                secrets.setdefault(row["subscription_id"], []).append(row["secret"])
        return [
            Due(
                row["delivery_id"],
                row["subscription_id"],
                row["url"],
                row["body"],
                row["attempts"],
                tuple(secrets.get(row["subscription_id"], ())),
            )
            for row in rows
        ]

    def send(self, due: Due) -> Answer:
        now = datetime.now(UTC)
        try:
            response = self._client.post(
                due.url, content=due.body.encode(), headers=headers(due.delivery_id, now, due.body, due.secrets)
            )
        except httpx.HTTPError as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:500])
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        return Answer(response.status_code, error)

    def send_due(self, conn: psycopg.Connection[Any]) -> int:
        """Send one batch of due deliveries and record the answers; how many were sent."""
        batch = self.claim(conn)
        for due, answer in zip(batch, self._senders.map(self.send, batch), strict=True):
            self.record(conn, due, answer)
        return len(batch)

    def record(self, conn: psycopg.Connection[Any], due: Due, answer: Answer) -> None:
        attempts = due.attempts + 1
        outcome = outcome_of(answer.status)
        with conn.transaction():
            if outcome is Outcome.DELIVERED:
                conn.execute(
                    "UPDATE deliveries SET status = 'delivered', attempts = %s, last_status = %s, "
                    "last_error = NULL, delivered_at = now(), updated_at = now() WHERE delivery_id = %s",
                    (attempts, answer.status, due.delivery_id),
                )
                self.delivered_total += 1
                return
            if outcome is Outcome.GONE:
                conn.execute(
                    "UPDATE subscriptions SET status = 'disabled', updated_at = now(), disabled_reason = "
                    "'the receiver answered 410 Gone' WHERE subscription_id = %s",
                    (due.subscription_id,),
                )
                pause = None
            else:
                pause = pause_after(self._schedule, attempts)
            if pause is None:
                conn.execute(
                    "UPDATE deliveries SET status = 'dead', attempts = %s, last_status = %s, last_error = %s, "
                    "updated_at = now() WHERE delivery_id = %s",
                    (attempts, answer.status, answer.error, due.delivery_id),
                )
                log.warning(
                    "webhook delivery is a dead letter",
                    extra={
                        "delivery_id": due.delivery_id,
                        "subscription_id": due.subscription_id,
                        "attempts": attempts,
                        "status": answer.status,
                    },
                )
            else:
                conn.execute(
                    "UPDATE deliveries SET attempts = %s, last_status = %s, last_error = %s, "
                    "next_attempt_at = now() + %s, updated_at = now() WHERE delivery_id = %s",
                    (attempts, answer.status, answer.error, timedelta(seconds=pause), due.delivery_id),
                )


def measure_deliveries(conn: Any) -> list[GaugeMetricFamily]:
    """Deliveries not delivered, by status: pending (due or waiting for a retry) and dead (waiting for a replay).
    Delivered ones are left out: counting them would read the whole table at every scrape."""
    deliveries = GaugeMetricFamily(
        "anxin_webhook_deliveries", "Webhook deliveries not delivered, by status", labels=["status"]
    )
    counts = {
        row["status"]: row["n"]
        for row in conn.execute(
            "SELECT status, count(*) AS n FROM deliveries WHERE status IN ('pending', 'dead') GROUP BY status"
        ).fetchall()
    }
    for status in ("pending", "dead"):
        deliveries.add_metric([status], float(counts.get(status, 0)))
    return [deliveries]


def build_dispatcher(settings: ServiceSettings) -> tuple[list[Component], dict[str, Check]]:
    webhooks_settings = settings if isinstance(settings, WebhooksSettings) else WebhooksSettings()
    catalog.events()  # every event class registered, so each event's scope can be read
    fanout = InboxConsumer(
        name=FANOUT_NAME,
        database_url=settings.database_url,
        schema=SPEC.schema,
        consumer_factory=lambda: new_consumer(settings, *Topics.all(), group_id=FANOUT_NAME, client_id=FANOUT_NAME),
        handler=fan_out,
    )
    loop = DeliveryLoop(webhooks_settings)
    pool = open_pool(settings.database_url, SPEC.schema, max_size=2)
    register_query_gauges(pool, measure_deliveries)

    def fanout_state() -> str | None:
        return f"consumer failing: {fanout.status.last_error}" if fanout.status.last_error else None

    def loop_state() -> str | None:
        return f"delivery loop failing: {loop.last_error}" if loop.last_error else None

    checks: dict[str, Check] = {
        "postgresql": database_check(pool),
        "kafka": kafka_check(KafkaProbe(settings)),
        "consumer": status_check(fanout_state),
        "delivery": status_check(loop_state),
    }
    return [fanout, loop], checks
