"""The outbox → relay → Kafka → inbox path on the real broker: every event's effect happens exactly once,
also when the relay is killed (kill -9) mid-batch and when a consumer dies before committing offsets."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from kafka import KafkaConsumer
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from deploy.stack import Stack
from services.common.event_handlers import EventHandlers
from services.common.inbox import InboxConsumer
from services.common.kafka import ensure_topics, new_consumer
from services.common.migrations import apply_migrations
from services.common.outbox import add_event
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope, UnknownEvent
from services.intake.spec import SPEC as INTAKE
from tests.support.events import Counted

EVENTS = 5000


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _effects_consumer(settings: CommonSettings, schema: str, topic: str) -> InboxConsumer:
    apply_migrations(settings.database_url, schema, None)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema}".effects (n integer NOT NULL, event_id uuid NOT NULL)')
    group = f"test-{uuid.uuid4().hex[:8]}"

    def counted(conn: psycopg.Connection[Any], event: EventEnvelope, payload: Counted) -> None:
        conn.execute("INSERT INTO effects (n, event_id) VALUES (%s, %s)", (payload.n, event.event_id))

    return InboxConsumer(
        name=group,
        database_url=settings.database_url,
        schema=schema,
        consumer_factory=lambda: new_consumer(settings, topic, group_id=group, client_id=group),
        handler=EventHandlers({Counted: counted}, consumer=group),
    )


def _effect_counts(settings: CommonSettings, schema: str) -> tuple[int, int]:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(f'SELECT count(*), count(DISTINCT n) FROM "{schema}".effects').fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


def test_relay_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    stack: Stack, settings: CommonSettings, scratch_schema: str
) -> None:
    topic = f"test.outbox.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], partitions=3)
    intake_url = stack.postgres.service_url("intake")
    apply_migrations(intake_url, "intake", INTAKE.migrations)
    stack.stop_process("intake-relay")

    with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
        for n in range(EVENTS):
            add_event(conn, topic, EventEnvelope.wrap(Counted(n=n), subject=f"case-{n % 40}", producer="test"))

    def unsent() -> int:
        with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
            row = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND topic = %s", (topic,)).fetchone()
            assert row is not None
            return int(row[0])

    stack.start_process(stack.spec("intake-relay"))
    _wait(lambda: unsent() < EVENTS, 60, "the relay to send its first batch")
    stack.kill_process("intake-relay")
    left = unsent()
    assert 0 < left < EVENTS, "the relay should have been killed part-way through the outbox"

    consumer = _effects_consumer(settings, scratch_schema, topic)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        stack.start_process(stack.spec("intake-relay"))
        _wait(lambda: unsent() == 0, 60, "the restarted relay to drain the outbox")
        _wait(lambda: _effect_counts(settings, scratch_schema)[0] >= EVENTS, 60, "every effect")
        time.sleep(1.0)  # anything redelivered late would show up as an extra effect
        total, distinct = _effect_counts(settings, scratch_schema)
        assert (total, distinct) == (EVENTS, EVENTS)
    finally:
        consumer.stop()
        thread.join(10)


def test_consumer_dying_before_its_offset_commit_applies_nothing_twice(
    settings: CommonSettings, scratch_schema: str, stack: Stack
) -> None:
    topic = f"test.inbox.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], partitions=2)
    intake_url = stack.postgres.service_url("intake")
    apply_migrations(intake_url, "intake", INTAKE.migrations)
    with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
        for n in range(500):
            add_event(conn, topic, EventEnvelope.wrap(Counted(n=n), subject=f"c{n % 7}", producer="test"))
    if not stack.is_running("intake-relay"):
        stack.start_process(stack.spec("intake-relay"))

    consumer = _effects_consumer(settings, scratch_schema, topic)
    real_factory = consumer._consumer_factory
    crashes = {"left": 2}

    def crashing_factory() -> KafkaConsumer:
        # The first consumers die at their offset commit, after their effects were committed: exactly
        # the window in which Kafka redelivers events that were already applied.
        kafka_consumer = real_factory()
        if crashes["left"] > 0:
            crashes["left"] -= 1

            def die(*_: Any, **__: Any) -> None:
                raise RuntimeError("consumer crashed before committing offsets")

            kafka_consumer.commit = die  # type: ignore[method-assign]
        return kafka_consumer

    consumer._consumer_factory = crashing_factory
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        _wait(
            lambda: _effect_counts(settings, scratch_schema)[0] >= 500 and crashes["left"] == 0,
            90,
            "every effect after two crashes",
        )
        _wait(lambda: consumer.status.duplicates_total > 0, 30, "the redelivered events to be recognised")
        total, distinct = _effect_counts(settings, scratch_schema)
        assert (total, distinct) == (500, 500)
    finally:
        consumer.stop()
        thread.join(10)


def test_events_that_can_never_be_applied_are_set_aside_and_the_rest_flow(
    settings: CommonSettings, scratch_schema: str, stack: Stack
) -> None:
    topic = f"test.poison.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], partitions=1)  # one partition: the poison sits in front of the others
    intake_url = stack.postgres.service_url("intake")
    apply_migrations(intake_url, "intake", INTAKE.migrations)
    # Written as a producer that skips the contract would (add_event refuses them): a payload its class does
    # not accept, a version no class is known for, and a type no class is known for.
    poison = [
        EventEnvelope(type=Counted.TYPE, subject="c", producer="test", payload={"n": "poison"}),
        EventEnvelope(type=Counted.TYPE, version=2, subject="c", producer="test", payload={"n": 1}),
        EventEnvelope(type="test.unheard-of", subject="c", producer="test", payload={"n": 1}),
    ]
    with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
        for envelope in poison:
            with pytest.raises((ValidationError, UnknownEvent)):
                add_event(conn, topic, envelope)
            conn.execute(
                "INSERT INTO outbox (event_id, topic, message_key, event_type, envelope) VALUES (%s, %s, %s, %s, %s)",
                (envelope.event_id, topic, envelope.subject, envelope.type, Jsonb(envelope.model_dump(mode="json"))),
            )
        for n in range(50):
            add_event(conn, topic, EventEnvelope.wrap(Counted(n=n), subject="c", producer="test"))
    if not stack.is_running("intake-relay"):
        stack.start_process(stack.spec("intake-relay"))

    consumer = _effects_consumer(settings, scratch_schema, topic)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        _wait(lambda: _effect_counts(settings, scratch_schema)[0] >= 50, 60, "the events behind the poison")
        with psycopg.connect(settings.database_url) as conn:
            rows = conn.execute(f'SELECT event_id, error FROM "{scratch_schema}".dead_letters').fetchall()
        errors = {event_id: error for event_id, error in rows}
        assert set(errors) == {envelope.event_id for envelope in poison}, errors
        invalid, newer, unheard_of = (errors[envelope.event_id] for envelope in poison)
        assert invalid.startswith("ValidationError") and "n" in invalid, invalid
        assert newer.startswith("UnacceptedVersion") and "accepts test.counted v1, not v2" in newer, newer
        assert unheard_of == "UnknownEvent: unknown event test.unheard-of v1: no version of it is known", unheard_of
        assert consumer.status.dead_letters_total == 3
    finally:
        consumer.stop()
        thread.join(10)
