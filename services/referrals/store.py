"""The referrals service's SQL: what every record shares — an event into the outbox, the advisory lock on an
idempotency key, the idempotent requests' remembered answers, the `column = %s` filters of a page — and the
case facts read model and the letters with their numbers. Every change is written with its event
(`add_event_async`) by the caller's transaction. Handoffs are in `handoff_store.py`, referrals in
`referral_store.py`."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from services.common.outbox import add_event_async
from services.common.pagination import Keyset
from services.contracts.events import EventEnvelope, Topics

Conn = AsyncConnection[Any]

LETTER_COLUMNS = (
    "letter_id, kind, year, number, document_number, case_id, county, addressee, handoff_id, referral_id, "
    "issued_at, response_due_date, response_due_at, sha256, size_bytes"
)


async def publish(conn: Conn, event: EventEnvelope) -> None:
    await add_event_async(conn, Topics.REFERRALS, event)


async def event_exists(conn: Conn, event_id: uuid.UUID) -> bool:
    # The outbox keeps sent events for days (the relay purges them later); a purged one is published again,
    # which consumers take as the same fact.
    cur = await conn.execute("SELECT 1 FROM outbox WHERE event_id = %s", (event_id,))
    return await cur.fetchone() is not None


async def lock_key(conn: Conn, key: str) -> None:
    """Serialise requests with the same idempotency key until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))


# --- case facts ---------------------------------------------------------------------------------------------


async def case_facts(conn: Conn, case_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT f.*, COALESCE(s.complaints, 0) AS complaints, COALESCE(s.workers, 0) AS workers_claimed, "
        "COALESCE(s.amount, 0) AS amount_claimed, COALESCE(s.evidence, 0) AS evidence_count, "
        "s.period_start, s.period_end FROM case_facts f LEFT JOIN LATERAL ("
        "  SELECT count(*) AS complaints, sum(workers_affected) AS workers, sum(amount_owed) AS amount, "
        "  sum(evidence_count) AS evidence, min(period_start) AS period_start, max(period_end) AS period_end "
        "  FROM case_complaints c WHERE c.case_id = f.case_id) s ON true WHERE f.case_id = %s",
        (case_id,),
    )
    return await cur.fetchone()


async def case_of_complaint(conn: Conn, complaint_id: str) -> str | None:
    cur = await conn.execute("SELECT case_id FROM case_complaints WHERE complaint_id = %s", (complaint_id,))
    row = await cur.fetchone()
    return str(row["case_id"]) if row else None


# --- document numbers and letters --------------------------------------------------------------------------


async def next_document_number(conn: Conn, kind: str, year: int) -> int:
    """The next number of `kind` in `year`, taken in the caller's transaction (row-locked until it ends)."""
    cur = await conn.execute(
        "INSERT INTO document_numbers (kind, year, last_number) VALUES (%s, %s, 1) "
        "ON CONFLICT (kind, year) DO UPDATE SET last_number = document_numbers.last_number + 1 "
        "RETURNING last_number",
        (kind, year),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["last_number"])


async def letter_by_key(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {LETTER_COLUMNS}, idempotency_key, request_hash FROM letters WHERE idempotency_key = %s", (key,)
    )
    return await cur.fetchone()


async def get_letter(conn: Conn, letter_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {LETTER_COLUMNS}, facts FROM letters WHERE letter_id = %s", (letter_id,))
    return await cur.fetchone()


async def letter_pdf(conn: Conn, letter_id: str) -> bytes | None:
    cur = await conn.execute("SELECT pdf FROM letters WHERE letter_id = %s", (letter_id,))
    row = await cur.fetchone()
    return bytes(row["pdf"]) if row else None


# How letters are ordered and paged (services/common/pagination.py): oldest first.
LETTERS = Keyset("letters", "issued_at", "timestamptz", "letter_id", descending=False)


def equal_filters(filters: tuple[tuple[str, Any], ...]) -> tuple[list[str | None], list[Any]]:
    """`column = %s` for each filter given."""
    given = [(column, value) for column, value in filters if value is not None]
    return [f"{column} = %s" for column, _ in given], [value for _, value in given]


async def page_letters(
    conn: Conn, *, case_id: str | None, handoff_id: str | None, referral_id: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    clauses, params = equal_filters((("case_id", case_id), ("handoff_id", handoff_id), ("referral_id", referral_id)))
    return await LETTERS.fetch(
        conn, LETTER_COLUMNS, "letters", clauses, params, limit=limit, cursor=cursor, id_field="letter_id"
    )


async def letters_of(
    conn: Conn, *, case_id: str | None = None, handoff_id: str | None = None, referral_id: str | None = None
) -> list[dict[str, Any]]:
    clauses, params = [], []
    for column, value in (("case_id", case_id), ("handoff_id", handoff_id), ("referral_id", referral_id)):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    cur = await conn.execute(
        f"SELECT {LETTER_COLUMNS} FROM letters WHERE {' AND '.join(clauses) or 'true'} "
        "ORDER BY issued_at, letter_id LIMIT 500",
        params,
    )
    return await cur.fetchall()


async def insert_letter(conn: Conn, row: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO letters (letter_id, idempotency_key, request_hash, kind, year, number, document_number, "
        "case_id, county, addressee, handoff_id, referral_id, issued_at, response_due_date, response_due_at, "
        "facts, pdf, sha256, size_bytes) VALUES (%(letter_id)s, %(idempotency_key)s, %(request_hash)s, %(kind)s, "
        "%(year)s, %(number)s, %(document_number)s, %(case_id)s, %(county)s, %(addressee)s, %(handoff_id)s, "
        "%(referral_id)s, %(issued_at)s, %(response_due_date)s, %(response_due_at)s, %(facts)s, %(pdf)s, "
        "%(sha256)s, %(size_bytes)s)",
        {**row, "facts": Jsonb(row["facts"])},
    )


# --- idempotent requests -----------------------------------------------------------------------------------


async def remembered(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT kind, request_hash, response FROM idempotent_requests WHERE idempotency_key = %s", (key,)
    )
    return await cur.fetchone()


async def remember(conn: Conn, key: str, kind: str, request_hash: str, response: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO idempotent_requests (idempotency_key, kind, request_hash, response) VALUES (%s, %s, %s, %s)",
        (key, kind, request_hash, Jsonb(response)),
    )
