"""The sanctions service's two registers: the quarterly major-violation publication lists (drafted from the
cases marked in a quarter, approved by the city office) and the criminal-transfer register (`store.py` has the
listings and the rest, `listing_actions_store.py` what agencies record on a listing)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.common.pagination import Keyset
from services.sanctions.store import Conn

# How the transfer register is ordered and paged (services/common/pagination.py).
TRANSFERS = Keyset(
    "criminal-transfers", "coalesce(referred_at, '-infinity'::timestamptz)", "timestamptz", "referral_id"
)

# --- publication lists ------------------------------------------------------------------------------------------------


async def quarter_candidates(conn: Conn, start: date, end: date) -> list[dict[str, Any]]:
    """Cases marked in the quarter, with their facts, corrections and whether they went to the police."""
    cur = await conn.execute(
        "SELECT m.mark_id, m.case_id, m.county, m.employer_ref, m.amount, m.basis, m.marked_at, "
        "f.employer_name, f.employer_credit_code, f.project_name, "
        "(SELECT coalesce(sum(c.amount), 0) FROM corrections c WHERE c.case_id = m.case_id) AS corrected, "
        "(SELECT t.outcome FROM criminal_transfers t WHERE t.case_id = m.case_id AND t.target = 'police' "
        " ORDER BY t.referred_at DESC NULLS LAST LIMIT 1) AS police_outcome "
        "FROM publication_marks m LEFT JOIN case_facts f ON f.case_id = m.case_id "
        "WHERE (m.marked_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN %s AND %s ORDER BY m.marked_at, m.mark_id",
        (start, end),
    )
    return await cur.fetchall()


async def get_list(conn: Conn, list_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT list_id, quarter, status, entries, drafted_at, approved_by, published_at, pdf_document_id, "
        "html_document_id FROM publication_lists WHERE list_id = %s" + (" FOR UPDATE" if lock else ""),
        (list_id,),
    )
    return await cur.fetchone()


async def list_of_quarter(conn: Conn, quarter: str) -> dict[str, Any] | None:
    cur = await conn.execute("SELECT list_id, status FROM publication_lists WHERE quarter = %s", (quarter,))
    return await cur.fetchone()


async def insert_list(conn: Conn, list_id: str, quarter: str, entries: list[dict[str, Any]]) -> None:
    await conn.execute(
        "INSERT INTO publication_lists (list_id, quarter, status, entries) VALUES (%s, %s, 'draft', %s)",
        (list_id, quarter, Jsonb(entries)),
    )


async def replace_draft_entries(conn: Conn, list_id: str, entries: list[dict[str, Any]]) -> None:
    await conn.execute(
        "UPDATE publication_lists SET entries = %s, drafted_at = now() WHERE list_id = %s AND status = 'draft'",
        (Jsonb(entries), list_id),
    )


async def publish_list(conn: Conn, list_id: str, approved_by: str, pdf_id: str, html_id: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE publication_lists SET status = 'published', approved_by = %s, published_at = %s, pdf_document_id = %s, "
        "html_document_id = %s WHERE list_id = %s",
        (approved_by, at, pdf_id, html_id, list_id),
    )


async def lists(conn: Conn, *, published_only: bool) -> list[dict[str, Any]]:
    where = "WHERE status = 'published'" if published_only else ""
    cur = await conn.execute(
        "SELECT list_id, quarter, status, entries, drafted_at, approved_by, published_at, pdf_document_id, "
        f"html_document_id FROM publication_lists {where} ORDER BY quarter DESC"
    )
    return await cur.fetchall()


# --- the criminal-transfer register --------------------------------------------------------------------------------------


async def transfers(
    conn: Conn, *, county: str | None, outcome: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    clauses: list[str | None] = []
    params: list[Any] = []
    if county:
        clauses.append("county = %s")
        params.append(county)
    if outcome:
        clauses.append("outcome = %s")
        params.append(outcome)
    return await TRANSFERS.fetch(
        conn,
        "referral_id, case_id, county, employer_ref, target, document_number, unpaid_amount, workers, "
        "referred_at, outcome, decline_reason, decision_ref, decided_at, late",
        "criminal_transfers",
        clauses,
        params,
        limit=limit,
        cursor=cursor,
        id_field="referral_id",
    )


async def transfer_statistics(conn: Conn, start: date | None, end: date | None) -> list[dict[str, Any]]:
    clauses, params = [], []
    if start:
        clauses.append("(referred_at AT TIME ZONE 'Asia/Shanghai')::date >= %s")
        params.append(start)
    if end:
        clauses.append("(referred_at AT TIME ZONE 'Asia/Shanghai')::date <= %s")
        params.append(end)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    cur = await conn.execute(
        "SELECT county, target, count(*) AS referrals, "
        "count(*) FILTER (WHERE outcome = 'accepted') AS accepted, "
        "count(*) FILTER (WHERE outcome = 'declined') AS declined, "
        "count(*) FILTER (WHERE outcome = 'withdrawn') AS withdrawn, "
        "count(*) FILTER (WHERE outcome = 'pending') AS pending, "
        "coalesce(sum(unpaid_amount), 0) AS unpaid_amount, coalesce(sum(workers), 0) AS workers "
        f"FROM criminal_transfers {where} GROUP BY county, target ORDER BY county, target",
        params,
    )
    return await cur.fetchall()
