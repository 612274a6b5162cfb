"""The referrals service's SQL for the ladder against projects, as its activities and reads use it: the copy of
the project register and the open warnings (written by the inbox consumer, services/referrals/
project_ladder_starter.py), the ladders, and their letters. The caller's transaction writes the change's event
(`store.publish`); what every record shares is in `store.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.common.pagination import Keyset
from services.referrals.store import Conn

PROJECT_LETTER_COLUMNS = (
    "letter_id, ladder_id, project_id, county, department, check_name AS check, kind, recipient, addressee, year, "
    "number, document_number, issued_at, response_due_date, response_due_at, sha256, size_bytes"
)
LADDER_COLUMNS = (
    "ladder_id, project_id, county, check_name AS check, first_month, opened_at, next_due_at, last_kind, letters, "
    "ended_at, end_reason, closed_at"
)
# A project's letters and ladders are paged oldest first, as a case's letters are (services/common/pagination.py).
PROJECT_LETTERS = Keyset("project_letters", "issued_at", "timestamptz", "letter_id", descending=False)
PROJECT_LADDERS = Keyset("project_ladders", "opened_at", "timestamptz", "ladder_id", descending=False)


async def project(conn: Conn, project_id: str) -> dict[str, Any] | None:
    cur = await conn.execute("SELECT * FROM project_register WHERE project_id = %s", (project_id,))
    return await cur.fetchone()


async def ladder(conn: Conn, ladder_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {LADDER_COLUMNS} FROM project_ladders WHERE ladder_id = %s" + (" FOR UPDATE" if for_update else ""),
        (ladder_id,),
    )
    return await cur.fetchone()


async def page_ladders(
    conn: Conn, project_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    return await PROJECT_LADDERS.fetch(
        conn,
        LADDER_COLUMNS,
        "project_ladders",
        ["project_id = %s"],
        [project_id],
        limit=limit,
        cursor=cursor,
        id_field="ladder_id",
    )


async def open_warnings(conn: Conn, project_id: str, check: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT warning_id, month, level FROM project_warnings "
        "WHERE project_id = %s AND check_name = %s AND resolved_at IS NULL ORDER BY month",
        (project_id, check),
    )
    return await cur.fetchall()


async def ladder_letters(conn: Conn, ladder_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT kind, document_number, issued_at FROM project_letters WHERE ladder_id = %s "
        "ORDER BY issued_at, letter_id",
        (ladder_id,),
    )
    return await cur.fetchall()


async def letter_by_key(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {PROJECT_LETTER_COLUMNS} FROM project_letters WHERE idempotency_key = %s", (key,))
    return await cur.fetchone()


async def insert_letter(conn: Conn, row: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO project_letters (letter_id, idempotency_key, ladder_id, project_id, county, department, "
        "check_name, kind, recipient, addressee, year, number, document_number, issued_at, response_due_date, "
        "response_due_at, facts, pdf, sha256, size_bytes) VALUES (%(letter_id)s, %(idempotency_key)s, "
        "%(ladder_id)s, %(project_id)s, %(county)s, %(department)s, %(check)s, %(kind)s, %(recipient)s, "
        "%(addressee)s, %(year)s, %(number)s, %(document_number)s, %(issued_at)s, %(response_due_date)s, "
        "%(response_due_at)s, %(facts)s, %(pdf)s, %(sha256)s, %(size_bytes)s)",
        {**row, "facts": Jsonb(row["facts"])},
    )


async def record_rung(conn: Conn, ladder_id: str, kind: str, next_due_at: datetime) -> None:
    await conn.execute(
        "UPDATE project_ladders SET last_kind = %s, letters = letters + 1, next_due_at = %s WHERE ladder_id = %s",
        (kind, next_due_at, ladder_id),
    )


async def end_ladder(conn: Conn, ladder_id: str, reason: str, at: datetime) -> bool:
    """The ladder ended (`last_rung`); False when it had ended already."""
    cur = await conn.execute(
        "UPDATE project_ladders SET ended_at = %s, end_reason = %s WHERE ladder_id = %s AND ended_at IS NULL",
        (at, reason, ladder_id),
    )
    return cur.rowcount == 1


async def set_next_due(conn: Conn, ladder_id: str, due_at: datetime) -> None:
    await conn.execute("UPDATE project_ladders SET next_due_at = %s WHERE ladder_id = %s", (due_at, ladder_id))


async def page_letters(
    conn: Conn, project_id: str, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    return await PROJECT_LETTERS.fetch(
        conn,
        PROJECT_LETTER_COLUMNS,
        "project_letters",
        ["project_id = %s"],
        [project_id],
        limit=limit,
        cursor=cursor,
        id_field="letter_id",
    )


async def letter(conn: Conn, letter_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {PROJECT_LETTER_COLUMNS}, facts FROM project_letters WHERE letter_id = %s", (letter_id,)
    )
    return await cur.fetchone()


async def letter_pdf(conn: Conn, letter_id: str) -> bytes | None:
    cur = await conn.execute("SELECT pdf FROM project_letters WHERE letter_id = %s", (letter_id,))
    row = await cur.fetchone()
    return bytes(row["pdf"]) if row else None
