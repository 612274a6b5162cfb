"""The sanctions service's SQL: its records, each change written with its event in one transaction
(`add_event_async`): the lifecycle's requests, the listings, corrections and publication marks, documents, and
the case facts as the activities read them. What agencies record on a listing (responsible persons, their actions, statements,
early-removal applications) is in `listing_actions_store.py`, the two registers in `registers_store.py`, the
joint interviews in `interviews_store.py`; the consumer's SQL (case facts, the criminal-transfer register) in
`projection.py`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from services.common.outbox import add_event_async
from services.common.pagination import Keyset
from services.contracts.credit_sharing_events import CreditEvent
from services.contracts.events import EventEnvelope
from services.contracts.sanctions_events import SanctionsEvent

Conn = AsyncConnection[Any]

PRODUCER = "sanctions"


async def emit(conn: Conn, subject: str, payload: SanctionsEvent | CreditEvent) -> None:
    """Write `payload`'s event on its class's topic (the sanctions topic, or the credit systems' feed)."""
    await add_event_async(conn, payload.TOPIC, EventEnvelope.wrap(payload, subject=subject, producer=PRODUCER))


# --- the lifecycle's requests -----------------------------------------------------------------------------


async def find_request(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT kind, request_hash, record_id FROM lifecycle_requests WHERE idempotency_key = %s", (key,)
    )
    return await cur.fetchone()


async def insert_request(conn: Conn, key: str, kind: str, request_hash: str, record_id: str) -> None:
    await conn.execute(
        "INSERT INTO lifecycle_requests (idempotency_key, kind, request_hash, record_id) VALUES (%s, %s, %s, %s)",
        (key, kind, request_hash, record_id),
    )


# --- listings -----------------------------------------------------------------------------------------------

LISTING_COLUMNS = (
    "listing_id, case_id, county, employer_ref, ground, basis, amount, stage, proposed_at, notice_document_id, "
    "defence_due_date, listed, not_listed_reason, decision_reason, decided_at, decision_document_id, decision_number, "
    "listed_on, expires_on, published_at, employer_name, credit_code, removal_reason, removed_at, updated_at, "
    # What the workflow last reported (migration 0002; NULL until it reports).
    "report_seq, reported_at, amount_corrected, paid_in_full_on, statements, decided_on, early_removal_possible_from, "
    "pending_application, removed_on"
)


async def insert_listing(
    conn: Conn,
    *,
    listing_id: str,
    case_id: str,
    county: str,
    employer_ref: str,
    ground: str,
    basis: str,
    amount: Decimal,
    proposed_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO listings (listing_id, case_id, county, employer_ref, ground, basis, amount, stage, proposed_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, 'notice', %s)",
        (listing_id, case_id, county, employer_ref, ground, basis, amount, proposed_at),
    )


async def get_listing(conn: Conn, listing_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {LISTING_COLUMNS} FROM listings WHERE listing_id = %s" + (" FOR UPDATE" if lock else ""), (listing_id,)
    )
    return await cur.fetchone()


async def listings_of_case(conn: Conn, case_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        f"SELECT {LISTING_COLUMNS} FROM listings WHERE case_id = %s ORDER BY proposed_at", (case_id,)
    )
    return await cur.fetchall()


async def update_listing(conn: Conn, listing_id: str, **values: Any) -> None:
    columns = ", ".join(f"{name} = %s" for name in values)
    await conn.execute(
        f"UPDATE listings SET {columns}, updated_at = now() WHERE listing_id = %s", (*values.values(), listing_id)
    )


async def apply_report(conn: Conn, listing_id: str, seq: int, at: datetime, snapshot: dict[str, Any]) -> bool:
    """Write a reported state over the listing record if its seq is the highest yet; whether it was."""
    cur = await conn.execute(
        "UPDATE listings SET stage = %(stage)s, defence_due_date = %(defence_due_date)s, "
        "not_listed_reason = %(not_listed_reason)s, expires_on = %(expires_on)s, removal_reason = %(removal_reason)s, "
        "amount_corrected = %(amount_corrected)s, paid_in_full_on = %(paid_in_full_on)s, statements = %(statements)s, "
        "decided_on = %(decided_on)s, early_removal_possible_from = %(early_removal_possible_from)s, "
        "pending_application = %(pending_application)s, removed_on = %(removed_on)s, report_seq = %(seq)s, "
        "reported_at = %(at)s, updated_at = now() "
        "WHERE listing_id = %(listing_id)s AND (report_seq IS NULL OR report_seq < %(seq)s)",
        {**snapshot, "statements": Jsonb(snapshot["statements"]), "seq": seq, "at": at, "listing_id": listing_id},
    )
    return bool(cur.rowcount)


# How each list is ordered and paged (services/common/pagination.py).
LISTINGS = Keyset("listings", "proposed_at", "timestamptz", "listing_id")
BLACKLIST = Keyset("blacklist", "coalesce(listed_on, '-infinity'::date)", "date", "listing_id")


async def search_listings(
    conn: Conn,
    *,
    stage: str | None,
    county: str | None,
    limit: int,
    cursor: str | None,
    pending_application: bool | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    clauses: list[str | None] = []
    params: list[Any] = []
    if stage:
        clauses.append("stage = %s")
        params.append(stage)
    if county:
        clauses.append("county = %s")
        params.append(county)
    if pending_application is not None:
        # The workflow's last report names the application waiting for the city office's decision.
        clauses.append("pending_application IS NOT NULL" if pending_application else "pending_application IS NULL")
    return await LISTINGS.fetch(
        conn, LISTING_COLUMNS, "listings", clauses, params, limit=limit, cursor=cursor, id_field="listing_id"
    )


def _name_filter(query: str | None, name_column: str, code_column: str) -> tuple[str | None, list[Any]]:
    if not query:
        return None, []
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return f"({name_column} ILIKE %s OR {code_column} = %s)", [pattern, query.strip().upper()]


async def public_blacklist(
    conn: Conn, query: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    clause, params = _name_filter(query, "employer_name", "credit_code")
    return await BLACKLIST.fetch(
        conn,
        "listing_id, county, employer_name, credit_code, ground, decision_number, listed_on, expires_on",
        "listings",
        ["stage = 'listed'", clause],
        params,
        limit=limit,
        cursor=cursor,
        id_field="listing_id",
    )


async def public_listing(conn: Conn, listing_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT listing_id, county, employer_name, credit_code, ground, decision_number, listed_on, expires_on "
        "FROM listings WHERE listing_id = %s AND stage = 'listed'",
        (listing_id,),
    )
    return await cur.fetchone()


# --- corrections and publication marks -----------------------------------------------------------------------------


async def insert_correction(
    conn: Conn, correction_id: str, case_id: str, county: str, amount: Decimal, basis: str
) -> None:
    await conn.execute(
        "INSERT INTO corrections (correction_id, case_id, county, amount, basis) VALUES (%s, %s, %s, %s, %s)",
        (correction_id, case_id, county, amount, basis),
    )


async def corrected_amount(conn: Conn, case_id: str) -> Decimal:
    cur = await conn.execute("SELECT coalesce(sum(amount), 0) AS total FROM corrections WHERE case_id = %s", (case_id,))
    row = await cur.fetchone()
    return Decimal(row["total"]) if row else Decimal(0)


async def mark_of_case(conn: Conn, case_id: str) -> dict[str, Any] | None:
    cur = await conn.execute("SELECT mark_id, case_id FROM publication_marks WHERE case_id = %s", (case_id,))
    return await cur.fetchone()


async def insert_mark(
    conn: Conn, mark_id: str, case_id: str, county: str, employer_ref: str, amount: Decimal, basis: str
) -> None:
    await conn.execute(
        "INSERT INTO publication_marks (mark_id, case_id, county, employer_ref, amount, basis) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (mark_id, case_id, county, employer_ref, amount, basis),
    )


# --- documents --------------------------------------------------------------------------------------------------


async def next_number(conn: Conn, kind: str, year: int) -> int:
    cur = await conn.execute(
        "INSERT INTO document_counters (kind, year, last) VALUES (%s, %s, 1) "
        "ON CONFLICT (kind, year) DO UPDATE SET last = document_counters.last + 1 RETURNING last",
        (kind, year),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["last"])


async def insert_document(
    conn: Conn,
    *,
    document_id: str,
    kind: str,
    number: str,
    media_type: str,
    content: bytes,
    digest: str,
    listing_id: str | None = None,
    list_id: str | None = None,
    sealed: bool = False,
) -> None:
    await conn.execute(
        "INSERT INTO documents (document_id, kind, document_number, listing_id, list_id, media_type, content, sha256, "
        "sealed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (document_id, kind, number, listing_id, list_id, media_type, content, digest, sealed),
    )


async def get_document(conn: Conn, document_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT document_id, kind, document_number, listing_id, list_id, media_type, content, sha256, sealed, created_at "
        "FROM documents WHERE document_id = %s",
        (document_id,),
    )
    return await cur.fetchone()


async def document_of(conn: Conn, listing_id: str, kind: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT document_id, document_number, sha256 FROM documents WHERE listing_id = %s AND kind = %s",
        (listing_id, kind),
    )
    return await cur.fetchone()


# --- case facts (read model) ------------------------------------------------------------------------------------------


async def case_facts(conn: Conn, case_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT case_id, county, employer_ref, employer_name, employer_credit_code, project_name, amount_claimed, "
        "workers_affected, complaint_count FROM case_facts WHERE case_id = %s",
        (case_id,),
    )
    return await cur.fetchone()
