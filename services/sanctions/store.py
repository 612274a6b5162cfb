"""The sanctions service's SQL: its records, each change written with its event in one transaction
(`add_event_async`). The consumer's SQL (case facts, the criminal-transfer register) is in `projection.py`."""

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


# --- responsible persons -------------------------------------------------------------------------------------


async def replace_persons(conn: Conn, listing_id: str, persons: list[dict[str, Any]], recorded_by: str) -> None:
    await conn.execute("DELETE FROM responsible_persons WHERE listing_id = %s", (listing_id,))
    for seq, person in enumerate(persons, start=1):
        await conn.execute(
            "INSERT INTO responsible_persons (listing_id, seq, role, name_sealed, id_number_sealed, name_masked, "
            "person_ref, recorded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                listing_id,
                seq,
                person["role"],
                person["name_sealed"],
                person["id_number_sealed"],
                person["name_masked"],
                person["person_ref"],
                recorded_by,
            ),
        )


async def persons(conn: Conn, listing_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT seq, role, name_sealed, id_number_sealed, name_masked, person_ref FROM responsible_persons "
        "WHERE listing_id = %s ORDER BY seq",
        (listing_id,),
    )
    return await cur.fetchall()


async def persons_of(conn: Conn, listing_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    cur = await conn.execute(
        "SELECT listing_id, role, name_sealed, name_masked, person_ref FROM responsible_persons "
        "WHERE listing_id = ANY(%s) ORDER BY listing_id, seq",
        (listing_ids,),
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in await cur.fetchall():
        found.setdefault(row["listing_id"], []).append(row)
    return found


# --- actions, statements, applications ---------------------------------------------------------------------------


async def find_action(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT action_id, listing_id, kind, actor, request_fingerprint, response FROM listing_actions "
        "WHERE idempotency_key = %s",
        (key,),
    )
    return await cur.fetchone()


async def insert_action(
    conn: Conn,
    *,
    action_id: str,
    listing_id: str,
    kind: str,
    key: str | None,
    actor: str,
    detail: dict[str, Any],
    response: dict[str, Any],
    request_fingerprint: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO listing_actions (action_id, listing_id, kind, idempotency_key, actor, detail, response, "
        "request_fingerprint) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (action_id, listing_id, kind, key, actor, Jsonb(detail), Jsonb(response), request_fingerprint),
    )


async def actions(conn: Conn, listing_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT action_id, kind, actor, detail, at FROM listing_actions WHERE listing_id = %s ORDER BY at, action_id",
        (listing_id,),
    )
    return await cur.fetchall()


async def insert_statement(
    conn: Conn, statement_id: str, listing_id: str, text_sealed: bytes, recorded_by: str
) -> None:
    await conn.execute(
        "INSERT INTO statements (statement_id, listing_id, text_sealed, recorded_by) VALUES (%s, %s, %s, %s)",
        (statement_id, listing_id, text_sealed, recorded_by),
    )


async def statements(conn: Conn, listing_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT statement_id, text_sealed, recorded_by, received_at FROM statements WHERE listing_id = %s "
        "ORDER BY received_at, statement_id",
        (listing_id,),
    )
    return await cur.fetchall()


async def insert_application(
    conn: Conn,
    *,
    application_id: str,
    listing_id: str,
    status: str,
    pledge_ref: str,
    payment_proof_ref: str,
    refusal_reasons: list[str],
    recorded_by: str,
) -> None:
    await conn.execute(
        "INSERT INTO early_removal_applications (application_id, listing_id, status, pledge_ref, payment_proof_ref, "
        "refusal_reasons, recorded_by) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (application_id, listing_id, status, pledge_ref, payment_proof_ref, Jsonb(refusal_reasons), recorded_by),
    )


async def get_application(conn: Conn, application_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT application_id, listing_id, status, pledge_ref, payment_proof_ref, refusal_reasons, recorded_by, "
        "applied_at, decided_by, decision_reason, decided_at FROM early_removal_applications WHERE application_id = %s",
        (application_id,),
    )
    return await cur.fetchone()


async def applications(conn: Conn, listing_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT application_id, status, pledge_ref, payment_proof_ref, refusal_reasons, recorded_by, applied_at, "
        "decided_by, decision_reason, decided_at FROM early_removal_applications WHERE listing_id = %s ORDER BY applied_at",
        (listing_id,),
    )
    return await cur.fetchall()


async def decide_application(conn: Conn, application_id: str, status: str, decided_by: str, reason: str) -> None:
    await conn.execute(
        "UPDATE early_removal_applications SET status = %s, decided_by = %s, decision_reason = %s, decided_at = now() "
        "WHERE application_id = %s",
        (status, decided_by, reason, application_id),
    )


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
