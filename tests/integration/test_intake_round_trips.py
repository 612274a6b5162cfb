"""Filing a complaint waits on PostgreSQL only for the answers it reads: the complaint, its event, its audit
row (and an idempotency record) travel in one round trip with the COMMIT (services/intake/submissions.py).
Round trips are counted from libpq's own protocol trace of the filing's connection."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import pq
from psycopg_pool import AsyncConnectionPool

from deploy.stack import Stack
from services.common.crypto import FieldCipher
from services.common.db import open_async_pool, pipelined_transaction
from services.intake import domain
from services.intake.submissions import Intake
from tests.integration.test_intake import complaint, intake  # noqa: F401 (the module's stack fixture)


def _waits(trace: str) -> int:
    """How many times the client waited for the server: libpq's trace (timestamps suppressed) writes what the
    client sends ("F …") as it sends it and what the server answers ("B …") as the client reads it, so each
    turn from sending to reading is one round trip."""
    directions = [line.split("\t", 1)[0] for line in trace.splitlines() if line[:2] in ("F\t", "B\t")]
    return sum(1 for before, after in itertools.pairwise(directions) if (before, after) == ("F", "B"))


@pytest.fixture
async def one_connection(intake: Stack) -> AsyncIterator[AsyncConnectionPool]:  # noqa: F811
    """A pool of a single connection, so the filing's statements all go through the traced one."""
    pool = await open_async_pool(intake.postgres.service_url("intake"), "intake", min_size=1, max_size=1)
    await pool.wait(timeout=30)
    yield pool
    await pool.close()


def _service(pool: AsyncConnectionPool) -> Intake:
    return Intake(
        pool=pool,
        cipher=FieldCipher({"test": os.urandom(32)}, "test"),
        reference_key=os.urandom(32),
        counties=dict(domain.DEFAULT_COUNTIES),
        complaints_per_ip_per_hour=100,
        complaints_per_phone_per_day=100,
    )


async def _round_trips(pool: AsyncConnectionPool, trace: Path, file_one: Coroutine[Any, Any, None]) -> int:
    with trace.open("w") as out:
        async with pool.connection() as conn:
            conn.pgconn.trace(out.fileno())
            conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            await file_one
        finally:
            async with pool.connection() as conn:
                conn.pgconn.untrace()
    text = trace.read_text()
    assert "INSERT INTO complaints" in text, "the trace holds the filing's statements"
    return _waits(text)


@pytest.mark.parametrize("client_ip", [None, "203.0.113.9"])
async def test_a_complaint_is_stored_in_two_round_trips_and_whole(
    intake: Stack,  # noqa: F811
    one_connection: AsyncConnectionPool,
    tmp_path: Path,
    client_ip: str | None,
) -> None:
    service = _service(one_connection)
    seed = uuid.uuid4().int % 10**7
    submission = service.validate({**complaint(seed), "channel": "clerk"})
    filed: list[str] = []

    async def file_one() -> None:
        filed.append((await service.file(submission, evidence=[], client_ip=client_ip)).complaint_id)

    # The limits' one statement (the phone's, and the address's when there is one; with BEGIN), then every
    # write with the COMMIT.
    trips = await _round_trips(one_connection, tmp_path / "trace", file_one())
    assert trips <= 2
    with psycopg.connect(intake.postgres.service_url("intake"), options="-c search_path=intake") as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM complaints WHERE complaint_id = %(id)s), "
            "(SELECT count(*) FROM outbox WHERE message_key = %(id)s), "
            "(SELECT count(*) FROM audit_log WHERE subject = %(id)s AND action = 'complaint.filed')",
            {"id": filed[0]},
        ).fetchone()
    assert row == (1, 1, 1), "the complaint, its event and its audit row are all stored"


async def test_a_complaint_naming_its_employer_alone_and_an_idempotency_key_takes_four(
    intake: Stack,  # noqa: F811
    one_connection: AsyncConnectionPool,
    tmp_path: Path,
) -> None:
    service = _service(one_connection)
    seed = uuid.uuid4().int % 10**7
    submission = service.validate({**complaint(seed, employer_credit_code=None), "channel": "clerk"})
    key = str(uuid.uuid4())

    async def file_one() -> None:
        await service.file(submission, evidence=[], client_ip=None, idempotency_key=key)

    # The key's look-up (no earlier filing), the limit, the employer register's one question, the writes.
    trips = await _round_trips(one_connection, tmp_path / "trace", file_one())
    assert trips <= 4
    again = await service.file(submission, evidence=[], client_ip=None, idempotency_key=key)
    assert again.replayed, "the idempotency record was committed with the complaint"


async def test_a_pipelined_transaction_is_rolled_back_whole_on_any_error(
    one_connection: AsyncConnectionPool,
) -> None:
    async with one_connection.connection() as conn:
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS filed (id int PRIMARY KEY)")
    # A statement fails after others were sent: the server skips the rest, COMMIT included.
    with pytest.raises(psycopg.errors.UniqueViolation):
        async with one_connection.connection() as conn, pipelined_transaction(conn):
            await conn.execute("INSERT INTO filed VALUES (1)")
            await conn.execute("INSERT INTO filed VALUES (1)")
            await conn.execute("INSERT INTO filed VALUES (2)")
    # The caller fails after statements were sent.
    with pytest.raises(RuntimeError):
        async with one_connection.connection() as conn, pipelined_transaction(conn):
            await conn.execute("INSERT INTO filed VALUES (3)")
            raise RuntimeError("refused")
    async with one_connection.connection() as conn:
        assert not conn.autocommit, "the connection goes back to the pool as it came"
        cursor = await conn.execute("SELECT count(*) AS n FROM filed")
        assert await cursor.fetchone() == {"n": 0}
