"""The outbox → relay → Kafka → inbox path on the real broker: every event's effect happens exactly once,
also when the relay is killed (kill -9) mid-batch, when a consumer dies before committing offsets, and when
the consumer's database session dies in the middle of a poll's transaction; an event that can never be
applied is set aside alone, the rest of its poll applies, and an event redelivered within a poll applies
nothing."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from kafka import KafkaConsumer
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from deploy.stack import Stack
from services.common.event_handlers import EventHandlers
from services.common.inbox import InboxConsumer, PermanentEventError
from services.common.kafka import ensure_topics, new_consumer
from services.common.migrations import apply_migrations
from services.common.outbox import add_event, add_events
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope, UnknownEvent
from services.intake.spec import SPEC as INTAKE
from tests.support.events import Counted

EVENTS = 5000


def _intake_topic(stack: Stack, settings: CommonSettings, kind: str, *, partitions: int) -> tuple[str, str]:
    """A fresh topic of its own, and the intake schema's URL with its migrations applied (its outbox)."""
    topic = f"test.{kind}.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], partitions=partitions)
    intake_url = stack.postgres.service_url("intake")
    apply_migrations(intake_url, "intake", INTAKE.migrations)
    return topic, intake_url


def _unsent(intake_url: str, topic: str) -> int:
    """The topic's outbox rows the relay has not sent yet."""
    with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
        row = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND topic = %s", (topic,)).fetchone()
        assert row is not None
        return int(row[0])


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _effects_consumer(
    settings: CommonSettings,
    schema: str,
    topic: str,
    after_effect: Callable[[psycopg.Connection[Any], Counted], None] = lambda _conn, _payload: None,
) -> InboxConsumer:
    apply_migrations(settings.database_url, schema, None)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema}".effects (n integer NOT NULL, event_id uuid NOT NULL)')
    group = f"test-{uuid.uuid4().hex[:8]}"

    def counted(conn: psycopg.Connection[Any], event: EventEnvelope, payload: Counted) -> None:
        conn.execute("INSERT INTO effects (n, event_id) VALUES (%s, %s)", (payload.n, event.event_id))
        after_effect(conn, payload)  # written first, so that a failure after it has something to roll back

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
    topic, intake_url = _intake_topic(stack, settings, "outbox", partitions=3)
    stack.stop_process("intake-relay")

    with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
        for n in range(EVENTS):
            add_event(conn, topic, EventEnvelope.wrap(Counted(n=n), subject=f"case-{n % 40}", producer="test"))

    stack.start_process(stack.spec("intake-relay"))
    _wait(lambda: _unsent(intake_url, topic) < EVENTS, 60, "the relay to send its first batch")
    stack.kill_process("intake-relay")
    left = _unsent(intake_url, topic)
    assert 0 < left < EVENTS, "the relay should have been killed part-way through the outbox"

    consumer = _effects_consumer(settings, scratch_schema, topic)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        stack.start_process(stack.spec("intake-relay"))
        _wait(lambda: _unsent(intake_url, topic) == 0, 60, "the restarted relay to drain the outbox")
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
    topic, intake_url = _intake_topic(stack, settings, "inbox", partitions=2)
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
    topic, intake_url = _intake_topic(
        stack, settings, "poison", partitions=1
    )  # one partition: the poison sits in front of the others
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


def _relayed(stack: Stack, settings: CommonSettings, topic: str, count: int) -> list[EventEnvelope]:
    """`count` events on `topic`, one partition's order, all on the broker before a consumer starts (so that
    its first poll takes many of them, and they share one transaction)."""
    ensure_topics(settings, [topic], partitions=1)
    intake_url = stack.postgres.service_url("intake")
    apply_migrations(intake_url, "intake", INTAKE.migrations)
    envelopes = [EventEnvelope.wrap(Counted(n=n), subject="c", producer="test") for n in range(count)]
    with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
        for envelope in envelopes:
            add_event(conn, topic, envelope)
    if not stack.is_running("intake-relay"):
        stack.start_process(stack.spec("intake-relay"))

    _wait(lambda: _unsent(intake_url, topic) == 0, 60, "the relay to send every event")
    return envelopes


def test_a_poisoned_event_in_the_middle_of_a_poll_is_set_aside_alone_and_the_others_apply_once(
    settings: CommonSettings, scratch_schema: str, stack: Stack
) -> None:
    topic = f"test.poll.{uuid.uuid4().hex[:8]}"
    envelopes = _relayed(stack, settings, topic, 60)
    poisoned = 30

    def poison(_conn: psycopg.Connection[Any], payload: Counted) -> None:
        if payload.n == poisoned:
            raise PermanentEventError("this one can never be applied")

    consumer = _effects_consumer(settings, scratch_schema, topic, poison)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        _wait(lambda: consumer.status.applied_total + consumer.status.dead_letters_total >= 60, 60, "the poll")
        time.sleep(1.0)  # anything applied twice would show up as an extra effect
        with psycopg.connect(settings.database_url) as conn:
            effects = sorted(row[0] for row in conn.execute(f'SELECT n FROM "{scratch_schema}".effects'))
            dead = conn.execute(f'SELECT event_id, error FROM "{scratch_schema}".dead_letters').fetchall()
        assert effects == [n for n in range(60) if n != poisoned]  # its own effect rolled back with its savepoint
        assert dead == [(envelopes[poisoned].event_id, "PermanentEventError: this one can never be applied")]
        status = consumer.status
        assert (status.applied_total, status.duplicates_total, status.dead_letters_total) == (59, 0, 1)
    finally:
        consumer.stop()
        thread.join(10)


def test_a_poll_with_redelivered_events_and_a_poison_whose_statement_failed_applies_each_new_event_once(
    settings: CommonSettings, scratch_schema: str, stack: Stack
) -> None:
    topic = f"test.poll.{uuid.uuid4().hex[:8]}"
    envelopes = _relayed(stack, settings, topic, 60)
    # Twenty events sent again, as after a relay killed before it marked them sent: on the broker twice.
    intake_url = stack.postgres.service_url("intake")
    with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
        resent = conn.execute(
            "UPDATE outbox SET sent_at = NULL WHERE topic = %s AND (envelope->'payload'->>'n')::int BETWEEN 10 AND 29",
            (topic,),
        ).rowcount
    assert resent == 20

    _wait(lambda: _unsent(intake_url, topic) == 0, 60, "the relay to send the twenty again")
    poisoned = 40

    def fail_then_give_up(conn: psycopg.Connection[Any], payload: Counted) -> None:
        # A statement of the handler fails (the transaction is aborted) and the handler gives the event up.
        if payload.n == poisoned:
            try:
                conn.execute("SELECT 1 / 0")
            except psycopg.errors.DivisionByZero as exc:
                raise PermanentEventError("this one divides by zero") from exc

    consumer = _effects_consumer(settings, scratch_schema, topic, fail_then_give_up)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        status = consumer.status
        _wait(lambda: status.applied_total + status.dead_letters_total + status.duplicates_total >= 80, 60, "all")
        time.sleep(1.0)  # anything applied twice would show up as an extra effect
        with psycopg.connect(settings.database_url) as conn:
            effects = sorted(row[0] for row in conn.execute(f'SELECT n FROM "{scratch_schema}".effects'))
            dead = conn.execute(f'SELECT event_id, error FROM "{scratch_schema}".dead_letters').fetchall()
            inbox = conn.execute(f'SELECT count(*) FROM "{scratch_schema}".inbox').fetchone()
        assert effects == [n for n in range(60) if n != poisoned]
        assert dead == [(envelopes[poisoned].event_id, "PermanentEventError: this one divides by zero")]
        assert inbox == (60,)  # the dead letter's id too: a redelivery of it does not try it again
        assert (status.applied_total, status.duplicates_total, status.dead_letters_total) == (59, 20, 1)
    finally:
        consumer.stop()
        thread.join(10)


def test_a_database_session_dying_mid_poll_commits_nothing_of_it_and_the_retry_applies_each_event_once(
    settings: CommonSettings, scratch_schema: str, stack: Stack
) -> None:
    topic = f"test.poll.{uuid.uuid4().hex[:8]}"
    _relayed(stack, settings, topic, 120)
    killed: list[int] = []

    def die_once(conn: psycopg.Connection[Any], payload: Counted) -> None:
        # The server ends this session in the middle of the poll's transaction, after earlier events' effects.
        if payload.n == 80 and not killed:
            killed.append(payload.n)
            conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    consumer = _effects_consumer(settings, scratch_schema, topic, die_once)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        _wait(lambda: consumer.status.applied_total >= 120, 90, "every effect after the session died")
        time.sleep(1.0)
        assert killed == [80] and consumer.status.last_error is None
        assert _effect_counts(settings, scratch_schema) == (120, 120)
        # Had the events before the failure committed, their redelivery would have found them in the inbox.
        status = consumer.status
        assert (status.applied_total, status.duplicates_total, status.dead_letters_total) == (120, 0, 0)
    finally:
        consumer.stop()
        thread.join(10)


def test_events_written_together_keep_their_order_wake_the_relay_once_and_apply_once(
    settings: CommonSettings, scratch_schema: str, stack: Stack
) -> None:
    topic, intake_url = _intake_topic(stack, settings, "many", partitions=1)
    envelopes = [EventEnvelope.wrap(Counted(n=n), subject=f"c{n % 3}", producer="test") for n in range(60)]
    with psycopg.connect(intake_url, autocommit=True) as listener:
        listener.execute("LISTEN intake_outbox")
        with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
            for first in (0, 30):
                with conn.transaction():
                    add_event(conn, topic, envelopes[first])
                    add_events(conn, topic, envelopes[first + 1 : first + 30])
            # A batch already written (the producer's retry) writes nothing again.
            with conn.transaction():
                add_events(conn, topic, envelopes[10:20])
            rows = conn.execute(
                "SELECT event_id, envelope FROM outbox WHERE topic = %s ORDER BY id", (topic,)
            ).fetchall()
        woken = list(listener.notifies(timeout=1.0))
    # One notification per transaction, however many rows and statements it wrote.
    assert len(woken) == 3, woken
    assert [event_id for event_id, _ in rows] == [envelope.event_id for envelope in envelopes]
    assert [EventEnvelope.model_validate(envelope) for _, envelope in rows] == envelopes
    if not stack.is_running("intake-relay"):
        stack.start_process(stack.spec("intake-relay"))

    consumer = _effects_consumer(settings, scratch_schema, topic)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        _wait(lambda: consumer.status.applied_total >= 60, 60, "every event written together")
        time.sleep(1.0)
        assert _effect_counts(settings, scratch_schema) == (60, 60)
        assert consumer.status.duplicates_total == 0
    finally:
        consumer.stop()
        thread.join(10)
