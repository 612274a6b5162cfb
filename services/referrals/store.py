"""The referrals service's SQL: letters with their numbers, handoffs, referrals and the case facts read
model. Every change is written with its event (`add_event_async`) by the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
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
HANDOFF_COLUMNS = (
    "handoff_id, case_id, county, department, letter_id, status, ladder_level, due_date, due_at, created_at, "
    "acknowledged_at, acknowledged_by, responded_at, responded_by, outcome, summary, files, returned_at, "
    "returned_by, return_reason"
)
REFERRAL_COLUMNS = (
    "referral_id, case_id, county, employer_ref, target, status, unpaid_amount, workers, basis, package, "
    "letter_id, related_referral_id, created_by, created_at, due_date, due_at, decision, decision_ref, "
    "decision_reasons, decided_by, decided_at, assigned_to, withdrawn_at, withdraw_reason, award_due_date, "
    "award_due_at, award_extension_days, award_extension_ref, award_extension_reason, award_extended_at, award_ref, "
    "awarded_on, award_recorded_at"
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


# How each list is ordered and paged (services/common/pagination.py): letters oldest first, the inbox of
# handoffs by the soonest answer due, referrals newest first.
LETTERS = Keyset("letters", "issued_at", "timestamptz", "letter_id", descending=False)
HANDOFFS = Keyset(
    "handoffs", "coalesce(due_at, 'infinity'::timestamptz)", "timestamptz", "handoff_id", descending=False
)
REFERRALS = Keyset("referrals", "created_at", "timestamptz", "referral_id")


def _equal(filters: tuple[tuple[str, Any], ...]) -> tuple[list[str | None], list[Any]]:
    """`column = %s` for each filter given."""
    given = [(column, value) for column, value in filters if value is not None]
    return [f"{column} = %s" for column, _ in given], [value for _, value in given]


async def page_letters(
    conn: Conn, *, case_id: str | None, handoff_id: str | None, referral_id: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    clauses, params = _equal((("case_id", case_id), ("handoff_id", handoff_id), ("referral_id", referral_id)))
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


# --- handoffs ----------------------------------------------------------------------------------------------


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
    clauses, params = _equal((("department", department), ("county", county), ("status", status), ("case_id", case_id)))
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


# --- referrals ---------------------------------------------------------------------------------------------


async def referral_by_key(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {REFERRAL_COLUMNS}, idempotency_key, request_hash FROM referrals WHERE idempotency_key = %s",
        (key,),
    )
    return await cur.fetchone()


async def get_referral(conn: Conn, referral_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE referral_id = %s" + (" FOR UPDATE" if for_update else ""),
        (referral_id,),
    )
    return await cur.fetchone()


async def latest_referral(conn: Conn, case_id: str, target: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE case_id = %s AND target = %s ORDER BY created_at DESC LIMIT 1",
        (case_id, target),
    )
    return await cur.fetchone()


async def list_referrals(
    conn: Conn,
    *,
    target: str | None,
    county: str | None,
    status: str | None,
    case_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    clauses, params = _equal((("target", target), ("county", county), ("status", status), ("case_id", case_id)))
    return await REFERRALS.fetch(
        conn, REFERRAL_COLUMNS, "referrals", clauses, params, limit=limit, cursor=cursor, id_field="referral_id"
    )


async def insert_referral(conn: Conn, row: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO referrals (referral_id, idempotency_key, request_hash, case_id, county, employer_ref, target, "
        "unpaid_amount, workers, basis, package, letter_id, related_referral_id, created_by, created_at, due_date, "
        "due_at) VALUES (%(referral_id)s, %(idempotency_key)s, %(request_hash)s, %(case_id)s, %(county)s, "
        "%(employer_ref)s, %(target)s, %(unpaid_amount)s, %(workers)s, %(basis)s, %(package)s, %(letter_id)s, "
        "%(related_referral_id)s, %(created_by)s, %(created_at)s, %(due_date)s, %(due_at)s)",
        {**row, "package": Jsonb(row["package"])},
    )


async def decide_referral(
    conn: Conn,
    referral_id: str,
    *,
    status: str,
    decision: str,
    decision_ref: str | None,
    reasons: str | None,
    by: str,
    at: datetime,
    assigned_to: str | None,
) -> bool:
    cur = await conn.execute(
        "UPDATE referrals SET status = %s, decision = %s, decision_ref = %s, decision_reasons = %s, "
        "decided_by = %s, decided_at = %s, assigned_to = %s WHERE referral_id = %s AND status = 'sent'",
        (status, decision, decision_ref, reasons, by, at, assigned_to, referral_id),
    )
    return cur.rowcount == 1


async def set_due(conn: Conn, referral_id: str, *, due_date: date, due_at: datetime) -> None:
    await conn.execute(
        "UPDATE referrals SET due_date = %s, due_at = %s WHERE referral_id = %s", (due_date, due_at, referral_id)
    )


async def set_award_due(conn: Conn, referral_id: str, *, due_date: date, due_at: datetime) -> None:
    await conn.execute(
        "UPDATE referrals SET award_due_date = %s, award_due_at = %s WHERE referral_id = %s",
        (due_date, due_at, referral_id),
    )


async def extend_award(
    conn: Conn,
    referral_id: str,
    *,
    days: int,
    approval_ref: str,
    reason: str,
    at: datetime,
    due_date: date,
    due_at: datetime,
) -> bool:
    cur = await conn.execute(
        "UPDATE referrals SET award_extension_days = %s, award_extension_ref = %s, award_extension_reason = %s, "
        "award_extended_at = %s, award_due_date = %s, award_due_at = %s WHERE referral_id = %s "
        "AND status = 'accepted' AND award_extension_days IS NULL AND awarded_on IS NULL",
        (days, approval_ref, reason, at, due_date, due_at, referral_id),
    )
    return cur.rowcount == 1


async def record_award(conn: Conn, referral_id: str, *, award_ref: str, awarded_on: date, at: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE referrals SET award_ref = %s, awarded_on = %s, award_recorded_at = %s WHERE referral_id = %s "
        "AND status = 'accepted' AND awarded_on IS NULL",
        (award_ref, awarded_on, at, referral_id),
    )
    return cur.rowcount == 1


async def withdraw_referral(conn: Conn, referral_id: str, *, reason: str, at: datetime) -> bool:
    cur = await conn.execute(
        "UPDATE referrals SET status = 'withdrawn', withdrawn_at = %s, withdraw_reason = %s "
        "WHERE referral_id = %s AND status IN ('sent', 'declined')",
        (at, reason, referral_id),
    )
    return cur.rowcount == 1


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


def decimal_or_none(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None
