"""Readiness follows the engines: with Kafka stopped, every process that needs Kafka reports 503 with the
reason and recovers by itself when Kafka returns; intake stays ready and its outbox fills, then drains."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import psycopg

from deploy.stack import Stack
from services.common.kafka import ensure_topics
from services.common.outbox import add_event
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope
from tests.support.events import Marked

NEEDS_KAFKA = [
    "cases-api",
    "referrals-api",
    "sanctions-api",
    "intake-relay",
    "cases-relay",
    "referrals-relay",
    "sanctions-relay",
    "monitoring-relay",
    "webhooks-dispatcher",
]


def _ready(stack: Stack, name: str) -> tuple[int, dict[str, Any]]:
    url = f"{stack.processes[name].url}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _unsent(stack: Stack, marker: str) -> int:
    with psycopg.connect(stack.postgres.service_url("intake"), options="-c search_path=intake") as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND envelope->'payload'->>'marker' = %s", (marker,)
        ).fetchone()
        assert row is not None
        return int(row[0])


def test_kafka_outage_turns_readiness_503_with_reason_and_back(
    services_running: Stack, settings: CommonSettings
) -> None:
    stack = services_running
    for name in ["intake-api", *NEEDS_KAFKA]:
        assert _ready(stack, name)[0] == 200, name
    # The outbox rows written meanwhile go on a topic of their own: no service's consumer reads them.
    topic = f"test.readiness.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], partitions=1)

    stack.kafka.stop()
    try:
        _wait(lambda: all(_ready(stack, n)[0] == 503 for n in NEEDS_KAFKA), 60, "readiness to drop")
        for name in NEEDS_KAFKA:
            status, body = _ready(stack, name)
            assert status == 503
            assert "kafka unreachable" in body["checks"]["kafka"], body
        assert _ready(stack, "intake-api")[0] == 200

        marker = uuid.uuid4().hex
        with psycopg.connect(stack.postgres.service_url("intake"), options="-c search_path=intake") as conn:
            for i in range(20):
                add_event(conn, topic, EventEnvelope.wrap(Marked(marker=marker), subject=f"c-{i}", producer="test"))
        time.sleep(3)
        assert _unsent(stack, marker) == 20, "nothing can be sent while the broker is away"
    finally:
        stack.kafka.start()
        stack.kafka.wait_ready(timeout=120)

    _wait(lambda: all(_ready(stack, n)[0] == 200 for n in NEEDS_KAFKA), 90, "readiness to come back")
    _wait(lambda: _unsent(stack, marker) == 0, 60, "the outbox to drain")
    assert _ready(stack, "intake-api")[0] == 200
