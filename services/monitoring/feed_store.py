"""The monthly feeds' SQL: one feed per project, kind and month, its workers by keyed reference; a corrected
file replaces the month's rows in the transaction that writes its event (services/monitoring/feed_commands.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from services.monitoring.feeds import FeedKind, FeedWorker
from services.monitoring.store import Conn

FEED_COLUMNS = (
    "project_id, kind, month, version, rows_digest, file_sha256, workers, total_amount, total_days, "
    "received_by, received_at"
)


async def lock_month(conn: Conn, project_id: str, kind: FeedKind, month: date) -> None:
    """Serialise the imports of one project's feed of one month (two files sent at once)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
        (f"monitoring.feed:{project_id}:{kind.value}:{month.isoformat()}",),
    )


async def get_feed(conn: Conn, project_id: str, kind: FeedKind, month: date) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {FEED_COLUMNS} FROM feeds WHERE project_id = %s AND kind = %s AND month = %s",
        (project_id, kind.value, month),
    )
    return await cur.fetchone()


async def feed_workers(conn: Conn, project_id: str, kind: FeedKind, month: date) -> list[FeedWorker]:
    cur = await conn.execute(
        "SELECT person_ref, name_masked, amount, days FROM feed_workers WHERE project_id = %s AND kind = %s "
        "AND month = %s ORDER BY row_number",
        (project_id, kind.value, month),
    )
    return [
        FeedWorker(r["person_ref"], r["name_masked"], amount=r["amount"], days=r["days"]) for r in await cur.fetchall()
    ]


async def write_feed(
    conn: Conn,
    project_id: str,
    kind: FeedKind,
    month: date,
    *,
    version: int,
    rows_digest: str,
    file_sha256: str,
    workers: Sequence[tuple[int, FeedWorker]],
    received_by: str,
) -> dict[str, Any]:
    """The month's feed as this file gives it, over whatever was there (`workers`: (file row, worker))."""
    amounts = [w.amount for _, w in workers if w.amount is not None]
    days = [w.days for _, w in workers if w.days is not None]
    await conn.execute(
        "DELETE FROM feeds WHERE project_id = %s AND kind = %s AND month = %s", (project_id, kind.value, month)
    )
    cur = await conn.execute(
        f"INSERT INTO feeds (project_id, kind, month, version, rows_digest, file_sha256, workers, total_amount, "
        f"total_days, received_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {FEED_COLUMNS}",
        (
            project_id,
            kind.value,
            month,
            version,
            rows_digest,
            file_sha256,
            len(workers),
            sum(amounts) if kind is FeedKind.PAYROLL else None,
            sum(days) if kind is FeedKind.ATTENDANCE else None,
            received_by,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    async with (
        conn.cursor() as cursor,
        cursor.copy(
            "COPY feed_workers (project_id, kind, month, person_ref, name_masked, amount, days, row_number) FROM STDIN"
        ) as copy,
    ):
        for number, w in workers:
            await copy.write_row((project_id, kind.value, month, w.person_ref, w.name_masked, w.amount, w.days, number))
    return row
