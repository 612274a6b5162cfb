"""PostgreSQL access: one connection pool per process, pinned to the owning service's schema."""

from __future__ import annotations

from psycopg import sql
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
