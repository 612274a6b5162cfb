"""PostgreSQL access: one connection pool per process, pinned to the owning service's schema."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool


def _connect_kwargs(schema: str) -> dict[str, object]:
    # Every connection sees only its service's schema first: queries never name another service's tables.
    return {"options": f"-c search_path={schema},public", "row_factory": dict_row}


def open_pool(database_url: str, schema: str, *, min_size: int = 1, max_size: int = 10) -> ConnectionPool:
    pool: ConnectionPool = ConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs=_connect_kwargs(schema),
        open=False,
        name=f"{schema}-pool",
    )
    # Open without waiting: a process starts (and reports not-ready) even while PostgreSQL is down.
    pool.open(wait=False)
    return pool


async def open_async_pool(
    database_url: str, schema: str, *, min_size: int = 1, max_size: int = 10
) -> AsyncConnectionPool:
    pool: AsyncConnectionPool = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs=_connect_kwargs(schema),
        open=False,
        name=f"{schema}-pool",
    )
    await pool.open(wait=False)
    return pool


def ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


@contextlib.asynccontextmanager
async def pipelined_transaction(conn: AsyncConnection[Any]) -> AsyncIterator[AsyncConnection[Any]]:
    """One transaction whose statements are pipelined: a statement waits for the server only when its answer
    is read (`fetchone`), and the rest travel together with the COMMIT.

    psycopg's own `transaction()` in pipeline mode waits after BEGIN and again before COMMIT; here BEGIN and
    COMMIT are plain statements of the pipeline instead (the connection is in autocommit meanwhile, so psycopg
    adds none of its own). Still all or nothing: a failing statement makes the server skip the rest, COMMIT
    included, and any error (of a statement or of the caller) rolls the transaction back before it is raised.
    """
    await conn.set_autocommit(True)
    try:
        try:
            async with conn.pipeline():
                await conn.execute("BEGIN")
                yield conn
                await conn.execute("COMMIT")
        except BaseException:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                await conn.execute("ROLLBACK")
            raise
    finally:
        try:
            await conn.set_autocommit(False)
        except Exception:
            # Never back in the pool in autocommit: the next user's transactions would not be transactions.
            await conn.close()
            raise
