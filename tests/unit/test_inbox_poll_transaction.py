"""The inbox applies a poll's events in one transaction, without savepoints unless an event is poisoned (then the
poll again with a savepoint each): a poisoned event is set aside alone, any other error leaves nothing of the
poll behind, and Kafka offsets are committed only after the commit.

The connection here keeps PostgreSQL's nesting rules (a savepoint rolled back drops what was written inside
it; nothing is kept unless the outermost transaction commits) without a server; the real stack's behaviour is
tested in tests/integration/test_outbox_inbox.py."""

from __future__ import annotations

import logging
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from services.common import inbox as inbox_module
from services.common.event_handlers import EventHandlers
from services.common.inbox import InboxConsumer, PermanentEventError
from services.contracts.events import EventEnvelope
from tests.support.events import Counted


class NestingConnection:
    """Writes held per transaction level; an outer commit keeps them, a rollback at any level drops its own.

    Levels are opened by `transaction()` (psycopg's blocks) and by the inbox's own `SAVEPOINT inbox_event`
    statements, which it releases, renews and rolls back to as PostgreSQL does."""

    def __init__(self) -> None:
        self.committed: list[tuple[str, tuple[Any, ...]]] = []
        self.commits = 0
        self.round_trips = 0
        self._levels: list[list[tuple[str, tuple[Any, ...]]]] = []
        self._named: list[int] = []  # the levels `SAVEPOINT inbox_event` opened

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.round_trips += 2  # BEGIN or SAVEPOINT, then COMMIT or RELEASE
        depth = len(self._levels)
        self._levels.append([])
        try:
            yield
        except BaseException:
            del self._levels[depth:]
            self._named = [level for level in self._named if level < depth]
            raise
        while len(self._levels) > depth + 1:  # savepoints still open inside this block are released with it
            self._release()
        self._named = [level for level in self._named if level <= depth]
        written = self._levels.pop()
        if self._levels:
            self._levels[-1].extend(written)
        else:
            self.committed.extend(written)
            self.commits += 1

    def _release(self) -> None:
        written = self._levels.pop()
        self._levels[-1].extend(written)

    def execute(self, sql: str, params: tuple[Any, ...] = (), *, prepare: bool | None = None) -> Any:
        assert self._levels, f"written outside a transaction: {sql}"
        self.round_trips += 1
        if sql == "SAVEPOINT inbox_event":
            self._named.append(len(self._levels))
            self._levels.append([])
            return types.SimpleNamespace(rowcount=0)
        if sql == "RELEASE SAVEPOINT inbox_event; SAVEPOINT inbox_event":
            assert self._named and self._named[-1] == len(self._levels) - 1, "released a savepoint not open"
            self._release()
            self._levels.append([])
            return types.SimpleNamespace(rowcount=0)
        if sql == "ROLLBACK TO SAVEPOINT inbox_event":
            level = self._named[-1]
            del self._levels[level + 1 :]
            self._levels[level] = []
            return types.SimpleNamespace(rowcount=0)
        if sql.startswith("INSERT INTO inbox"):
            return self._record_poll(sql, params)
        self._levels[-1].append((sql, params))
        return types.SimpleNamespace(rowcount=1)

    def _record_poll(self, sql: str, params: tuple[Any, ...]) -> Any:
        consumer, event_ids, topics, partitions, offsets = params
        written = self.committed + [row for level in self._levels for row in level]
        visible = {p[:2] for s, p in written if s.startswith("INSERT INTO inbox")}
        new: list[tuple[Any]] = []
        for row in zip(event_ids, topics, partitions, offsets, strict=True):
            if (consumer, row[0]) not in visible:
                visible.add((consumer, row[0]))
                self._levels[-1].append((sql, (consumer, *row)))
                new.append((row[0],))
        return types.SimpleNamespace(rowcount=len(new), fetchall=lambda: new)

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        return [params for sql, params in self.committed if sql.startswith(f"INSERT INTO {table}")]


POISON, BROKEN = 3, 5


def _consumer(fail_on: set[int]) -> InboxConsumer:
    def counted(conn: Any, _event: EventEnvelope, payload: Counted) -> None:
        conn.execute("INSERT INTO effects (n) VALUES (%s)", (payload.n,))
        if payload.n == POISON and POISON in fail_on:
            raise PermanentEventError("this event can never be applied")
        if payload.n == BROKEN and BROKEN in fail_on:
            raise psycopg.OperationalError("the server closed the connection")

    return InboxConsumer(
        name="poll-test",
        database_url="postgresql://unused",
        schema="unused",
        consumer_factory=lambda: None,  # type: ignore[arg-type,return-value]
        handler=EventHandlers({Counted: counted}, consumer="poll-test"),
    )


def _poll(count: int) -> list[tuple[Any, EventEnvelope | None]]:
    return [
        (
            types.SimpleNamespace(topic="test.topic", partition=0, offset=n),
            EventEnvelope.wrap(Counted(n=n), subject="c", producer="test"),
        )
        for n in range(count)
    ]


def test_a_poisoned_event_is_set_aside_alone_and_the_rest_of_the_poll_commits_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer, conn, poll = _consumer({POISON}), NestingConnection(), _poll(8)
    with caplog.at_level(logging.ERROR, logger=inbox_module.__name__):
        consumer._apply_poll(conn, poll)  # type: ignore[arg-type]
    assert sorted(n for (n,) in conn.rows("effects")) == [0, 1, 2, 4, 5, 6, 7]
    poisoned = poll[POISON][1]
    assert poisoned is not None
    assert [row[1] for row in conn.rows("dead_letters")] == [poisoned.event_id]
    assert len(conn.rows("inbox")) == 8  # the dead letter's id too, so a redelivery does not try it again
    assert conn.commits == 1
    status = consumer.status
    assert (status.applied_total, status.duplicates_total, status.dead_letters_total) == (7, 0, 1)
    assert [r.getMessage() for r in caplog.records] == ["event set aside as a dead letter"]


def test_a_transient_error_leaves_nothing_of_the_poll_and_the_retry_applies_each_event_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer, conn, poll = _consumer({POISON, BROKEN}), NestingConnection(), _poll(8)
    with caplog.at_level(logging.ERROR, logger=inbox_module.__name__), pytest.raises(psycopg.OperationalError):
        consumer._apply_poll(conn, poll)  # type: ignore[arg-type]
    # The poison before the failure was set aside inside the poll's transaction: it is gone with it.
    assert conn.committed == [] and conn.commits == 0
    status = consumer.status
    assert (status.applied_total, status.duplicates_total, status.dead_letters_total) == (0, 0, 0)
    assert not caplog.records

    consumer._handler = _consumer({POISON})._handler  # the database is back
    consumer._apply_poll(conn, poll)  # type: ignore[arg-type]
    assert sorted(n for (n,) in conn.rows("effects")) == [0, 1, 2, 4, 5, 6, 7]
    assert len(conn.rows("dead_letters")) == 1
    assert (status.applied_total, status.duplicates_total, status.dead_letters_total) == (7, 0, 1)


def test_a_redelivered_poll_applies_nothing_and_counts_duplicates() -> None:
    consumer, conn, poll = _consumer(set()), NestingConnection(), _poll(4)
    consumer._apply_poll(conn, poll)  # type: ignore[arg-type]
    consumer._apply_poll(conn, poll[1:] + _poll(0))  # type: ignore[arg-type]
    assert sorted(n for (n,) in conn.rows("effects")) == [0, 1, 2, 3]
    assert (consumer.status.applied_total, consumer.status.duplicates_total) == (4, 3)


def test_the_same_event_twice_in_one_poll_applies_once_and_the_second_is_a_duplicate() -> None:
    consumer, conn, poll = _consumer(set()), NestingConnection(), _poll(3)
    consumer._apply_poll(conn, poll + poll[1:2])  # type: ignore[arg-type]
    assert sorted(n for (n,) in conn.rows("effects")) == [0, 1, 2]
    assert len(conn.rows("inbox")) == 3 and conn.commits == 1
    assert (consumer.status.applied_total, consumer.status.duplicates_total) == (3, 1)


def test_an_event_costs_its_handlers_statement_alone_when_nothing_in_the_poll_is_poisoned() -> None:
    consumer, conn, poll = _consumer(set()), NestingConnection(), _poll(8)
    consumer._apply_poll(conn, poll)  # type: ignore[arg-type]
    # BEGIN and COMMIT, the poll's inbox rows in one statement, then per event the handler's insert.
    assert conn.round_trips == 2 + 1 + 8
    assert len(conn.rows("inbox")) == 8


def test_a_poisoned_poll_is_rolled_back_and_applied_again_with_a_savepoint_per_event() -> None:
    consumer, conn, poll = _consumer({POISON}), NestingConnection(), _poll(8)
    consumer._apply_poll(conn, poll)  # type: ignore[arg-type]
    # The pass without savepoints up to the poison (its inbox rows, events 0 to 3), rolled back; then the poll
    # with a savepoint per event, the poison's rolled back to, and its dead letter.
    first_pass = 2 + 1 + (POISON + 1)
    second_pass = 2 + 1 + 8 * (1 + 1) + 1 + 1
    assert conn.round_trips == first_pass + second_pass
    assert conn.commits == 1 and len(conn.rows("effects")) == 7


def test_a_poll_of_duplicates_alone_opens_no_savepoint_and_applies_nothing() -> None:
    consumer, conn, poll = _consumer(set()), NestingConnection(), _poll(4)
    consumer._apply_poll(conn, poll)  # type: ignore[arg-type]
    before = conn.round_trips
    consumer._apply_poll(conn, poll)  # type: ignore[arg-type]
    assert conn.round_trips - before == 2 + 1
    assert (consumer.status.applied_total, consumer.status.duplicates_total) == (4, 4)


class OnePollKafka:
    """A Kafka consumer that hands out the same records until they are committed."""

    def __init__(self, poll: list[tuple[Any, EventEnvelope | None]], consumer: InboxConsumer) -> None:
        self.records = [
            types.SimpleNamespace(topic=r.topic, partition=r.partition, offset=r.offset, value=e.to_bytes())
            for r, e in poll
            if e is not None
        ]
        self.consumer = consumer
        self.commits: list[int] = []  # the applied count at each offset commit

    def poll(self, timeout_ms: int) -> dict[Any, list[Any]]:
        return {} if self.commits else {("test.topic", 0): self.records}

    def commit(self) -> None:
        self.commits.append(self.consumer.status.applied_total)
        self.consumer.stop()

    def assignment(self) -> set[Any]:
        return set()

    def close(self, autocommit: bool) -> None:
        pass


def test_offsets_are_committed_only_after_the_polls_transaction_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    consumer, conn, poll = _consumer({BROKEN}), NestingConnection(), _poll(8)
    kafka = OnePollKafka(poll, consumer)
    consumer._consumer_factory = lambda: kafka  # type: ignore[assignment,return-value]
    attempts: list[int] = []

    @contextmanager
    def connect(*_: Any, **__: Any) -> Iterator[NestingConnection]:
        attempts.append(conn.commits)
        if len(attempts) == 2:
            consumer._handler = _consumer(set())._handler  # the database is back for the retry
        yield conn

    monkeypatch.setattr(inbox_module.psycopg, "connect", connect)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert attempts == [0, 0]  # the first poll failed and committed nothing
    assert kafka.commits == [8]  # one offset commit, after all eight were applied
    assert sorted(n for (n,) in conn.rows("effects")) == list(range(8))
