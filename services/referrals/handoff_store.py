"""The referrals service's SQL for handoffs (交办): a handoff and its state as the department answers, the
ladder rung it has reached, and the files of a response. The caller's transaction writes the change's event
(`store.publish`); what every record shares is in `store.py`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.common.pagination import Keyset
from services.referrals.store import Conn, equal_filters

HANDOFF_COLUMNS = (
    "handoff_id, case_id, county, department, letter_id, status, ladder_level, due_date, due_at, created_at, "
    "acknowledged_at, acknowledged_by, responded_at, responded_by, outcome, summary, files, returned_at, "
    "returned_by, return_reason"
)

# The inbox of handoffs is paged by the soonest answer due (services/common/pagination.py).
HANDOFFS = Keyset(
    "handoffs", "coalesce(due_at, 'infinity'::timestamptz)", "timestamptz", "handoff_id", descending=False
)


async def insert_handoff(
    conn: Conn,
    *,
    handoff_id: str,
    case_id: str,
    county: str,
    department: str,
    letter_id: str,
    due_date: date | None,
    due_at: datetime | None,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO handoffs (handoff_id, case_id, county, department, letter_id, due_date, due_at, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (handoff_id, case_id, county, department, letter_id, due_date, due_at, at),
    )


async def get_handoff(conn: Conn, handoff_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE handoff_id = %s" + (" FOR UPDATE" if for_update else ""),
        (handoff_id,),
    )
    return await cur.fetchone()


async def latest_handoff(conn: Conn, case_id: str, department: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE case_id = %s AND department = %s "
        "ORDER BY created_at DESC, handoff_id DESC LIMIT 1",
        (case_id, department),
    )
    return await cur.fetchone()


async def list_handoffs(
    conn: Conn,
    *,
    department: str | None,
    county: str | None,
    status: str | None,
    case_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    clauses, params = equal_filters(
        (("department", department), ("county", county), ("status", status), ("case_id", case_id))
    )
    return await HANDOFFS.fetch(
        conn, HANDOFF_COLUMNS, "handoffs", clauses, params, limit=limit, cursor=cursor, id_field="handoff_id"
    )


async def set_ladder_level(conn: Conn, handoff_id: str, level: str) -> None:
    await conn.execute("UPDATE handoffs SET ladder_level = %s WHERE handoff_id = %s", (level, handoff_id))


async def acknowledge_handoff(conn: Conn, handoff_id: str, by: str, at: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE handoffs SET status = 'acknowledged', acknowledged_at = %s, acknowledged_by = %s "
        "WHERE handoff_id = %s AND status = 'sent'",
        (at, by, handoff_id),
    )
    return cur.rowcount == 1


async def respond_handoff(
    conn: Conn, handoff_id: str, *, by: str, at: datetime, outcome: str, summary: str, files: list[dict[str, Any]]
) -> bool:
    cur = await conn.execute(
        "UPDATE handoffs SET status = 'responded', responded_at = %s, responded_by = %s, outcome = %s, "
        "summary = %s, files = %s, acknowledged_at = COALESCE(acknowledged_at, %s), "
        "acknowledged_by = COALESCE(acknowledged_by, %s) "
        "WHERE handoff_id = %s AND status IN ('sent', 'acknowledged')",
        (at, by, outcome, summary, Jsonb(files), at, by, handoff_id),
    )
    return cur.rowcount == 1


async def return_handoff(conn: Conn, handoff_id: str, *, by: str, at: datetime, reason: str, explanation: str) -> bool:
    cur = await conn.execute(
        "UPDATE handoffs SET status = 'returned', returned_at = %s, returned_by = %s, return_reason = %s, "
        "summary = %s, acknowledged_at = COALESCE(acknowledged_at, %s), "
        "acknowledged_by = COALESCE(acknowledged_by, %s) "
        "WHERE handoff_id = %s AND status IN ('sent', 'acknowledged')",
        (at, by, reason, explanation, at, by, handoff_id),
    )
    return cur.rowcount == 1


async def insert_handoff_file(
    conn: Conn, *, file_id: str, handoff_id: str, name: str, media_type: str, sha256: str, content: bytes
) -> None:
    await conn.execute(
        "INSERT INTO handoff_files (file_id, handoff_id, name, media_type, sha256, size_bytes, content) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (file_id, handoff_id, name, media_type, sha256, len(content), content),
    )


async def handoff_file(conn: Conn, handoff_id: str, file_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT file_id, name, media_type, sha256, size_bytes, content FROM handoff_files "
        "WHERE handoff_id = %s AND file_id = %s",
        (handoff_id, file_id),
    )
    return await cur.fetchone()
