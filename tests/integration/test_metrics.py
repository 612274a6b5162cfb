"""Operational gauges on the real stack: consumer lag per partition from the inbox consumers."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import psycopg
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from deploy.stack import Stack
from services.common.inbox import InboxConsumer
from services.common.kafka import ensure_topics, new_consumer, new_producer
from services.common.migrations import apply_migrations
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope

EVENTS = 600


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [(sample.labels, sample.value) for family in text_string_to_metric_families(text)
            for sample in family.samples if sample.name == name]


def _group_lag(group: str) -> dict[int, float]:
    """This process's /metrics (the same registry a worker serves), lag per partition of `group`."""
    samples = _samples(generate_latest().decode(), "anxin_consumer_lag_messages")
    return {int(labels["partition"]): value for labels, value in samples if labels["group"] == group}


def test_consumer_lag_is_reported_while_behind_and_zero_once_caught_up(
    settings: CommonSettings, scratch_schema: str
) -> None:
    topic = f"test.lag.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], partitions=2)
    producer = new_producer(settings, client_id="test-lag")
    for n in range(EVENTS):
        envelope = EventEnvelope(type="test.counted", subject=f"c{n % 5}", producer="test", payload={"n": n})
        producer.send(topic, key=envelope.subject.encode(), value=envelope.model_dump_json().encode())
    producer.flush(30)
    producer.close()

    apply_migrations(settings.database_url, scratch_schema, None)
    group = f"test-lag-{uuid.uuid4().hex[:8]}"

    def slow_handler(conn: psycopg.Connection[Any], event: EventEnvelope) -> None:
        time.sleep(0.004)  # slow enough that the group is seen behind between batches

    consumer = InboxConsumer(
        name=group, database_url=settings.database_url, schema=scratch_schema,
        consumer_factory=lambda: new_consumer(settings, topic, group_id=group, client_id=group),
        handler=slow_handler, lag_interval_seconds=0.1,
    )
    assert _group_lag(group) == {}, "no lag is reported before the consumer has measured any"
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    seen_behind: list[float] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lag = _group_lag(group)
            total = sum(lag.values())
            if total > 0:
                seen_behind.append(total)
            if consumer.status.applied_total == EVENTS and set(lag) == {0, 1} and total == 0:
                break
            time.sleep(0.02)
        else:
            raise AssertionError(f"lag never came back to 0: {_group_lag(group)}, status {consumer.status}")
    finally:
        consumer.stop()
        thread.join(10)
    assert seen_behind, "the lag of a group with events waiting was never reported above 0"
    assert max(seen_behind) <= EVENTS
    applied = _samples(generate_latest().decode(), "anxin_consumer_applied_total")
    assert ({"group": group}, float(EVENTS)) in applied


def test_service_workers_export_their_consumer_lag(services_running: Stack) -> None:
    url = f"{services_running.processes['cases-worker'].url}/metrics"
    deadline = time.monotonic() + 30  # a worker measures its lag every few seconds once it has partitions
    while not (lag := _samples(httpx.get(url, timeout=10).text, "anxin_consumer_lag_messages")):
        assert time.monotonic() < deadline, "the cases worker exports no consumer lag"
        time.sleep(0.5)
    assert all(set(labels) == {"group", "topic", "partition"} for labels, _ in lag)
    assert all(value >= 0 for _, value in lag)
