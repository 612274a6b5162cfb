"""The records the cases service owns, each written with its event in one transaction (`store.add_event`): the
documents the lifecycle asks for (notices, forwardings, orders to pay, compensation decisions, process reports;
idempotent by key) and the case papers among them, the inspectors' actions (their answers kept by
Idempotency-Key), the extension requests, and the periodic reports. The ledger's reads are in `store.py`."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from services.cases import periods
from services.cases.store import Conn, add_event
from services.common.outbox import add_event_async
from services.common.pagination import Keyset
from services.contracts.events import EventEnvelope, Topics

# How the extension requests and the reports are listed and paged (services/common/pagination.py).
EXTENSION_REQUESTS = Keyset("extension-requests", "e.created_at", "timestamptz", "e.request_id", descending=False)
REPORTS = Keyset("reports", "period_start", "date", "report_id")


# --- documents the lifecycle asks for (idempotent by key) ----------------------------------------------


async def find_document(conn: Conn, idempotency_key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT document_id, kind, subject, request_hash, request, created_at FROM documents WHERE idempotency_key = %s",
        (idempotency_key,),
    )
    return await cur.fetchone()


async def insert_document(
    conn: Conn,
    *,
    document_id: str,
    idempotency_key: str,
    kind: str,
    subject: str,
    request_hash: str,
    request: dict[str, Any],
    event: EventEnvelope,
    texts: dict[str, str] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO documents (document_id, idempotency_key, kind, subject, request_hash, request) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (document_id, idempotency_key, kind, subject, request_hash, Jsonb(request)),
    )
    await add_event(conn, event, texts)


# The documents that are papers of a case, and what each is about: an order or a compensation decision names its
# case workflow (`request.case_id`), a notice the workflow it is about (`request.subject`, `case:<id>` or
# `complaint:<id>`). A document is the ledger case's that now holds that workflow or complaint, so merges and
# splits carry their documents along (indexes: migration 0010_case_document_indexes).
CASE_PAPERS = ("order", "compensation_decision")
DOCUMENT_COLUMNS = "d.document_id, d.kind, d.request, d.created_at"


CASE_DOCUMENTS = (
    "WITH workflows AS (SELECT process_case_id FROM processes WHERE case_id = %(case)s "
    "UNION SELECT process_case_id FROM complaints WHERE case_id = %(case)s AND process_case_id IS NOT NULL), "
    "subjects AS (SELECT 'case:' || process_case_id AS subject FROM workflows "
    "UNION ALL SELECT 'complaint:' || complaint_id FROM complaints WHERE case_id = %(case)s) "
    f"SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.kind IN ('order', 'compensation_decision') "
    "AND d.request->>'case_id' IN (SELECT process_case_id FROM workflows) "
    f"UNION ALL SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.kind = 'notice' "
    "AND d.request->>'subject' IN (SELECT subject FROM subjects) "
    "ORDER BY created_at, document_id"
)


async def case_documents(conn: Conn, case_id: str) -> list[dict[str, Any]]:
    """The ledger case's orders, compensation decisions and notices, oldest first."""
    cur = await conn.execute(CASE_DOCUMENTS, {"case": case_id})
    return await cur.fetchall()


async def get_case_document(conn: Conn, document_id: str) -> dict[str, Any] | None:
    """One of the case papers, with the county, employer name and id of the ledger case it belongs to now
    (county None: its case is not in the ledger)."""
    cur = await conn.execute(
        f"SELECT {DOCUMENT_COLUMNS}, l.case_id, l.county, l.employer_name FROM documents d "
        "LEFT JOIN LATERAL (SELECT COALESCE("
        "  (SELECT c.case_id FROM complaints c WHERE d.kind = 'notice' AND d.request->>'subject' LIKE 'complaint:%%' "
        "     AND c.complaint_id = substr(d.request->>'subject', 11)),"
        "  (SELECT p.case_id FROM processes p WHERE p.process_case_id = CASE WHEN d.kind = 'notice' "
        "     THEN substr(d.request->>'subject', 6) ELSE d.request->>'case_id' END),"
        "  (SELECT a.case_id FROM case_aliases a WHERE a.alias = d.subject), d.subject) AS case_id) owner ON true "
        "LEFT JOIN ledger l ON l.case_id = owner.case_id "
        "WHERE d.document_id = %s AND d.kind IN ('order', 'compensation_decision', 'notice')",
        (document_id,),
    )
    return await cur.fetchone()


# --- inspector actions -----------------------------------------------------------------------------------


async def find_action(conn: Conn, idempotency_key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT action_id, case_id, actor, request_fingerprint, response FROM actions WHERE idempotency_key = %s",
        (idempotency_key,),
    )
    return await cur.fetchone()


async def insert_action(
    conn: Conn,
    *,
    action_id: str,
    idempotency_key: str | None,
    kind: str,
    case_id: str,
    complaint_id: str | None,
    workflow_id: str | None,
    actor: str,
    request: dict[str, Any],
    response: dict[str, Any],
    event: EventEnvelope,
    request_fingerprint: str | None = None,
    texts: dict[str, str] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO actions (action_id, idempotency_key, kind, case_id, complaint_id, workflow_id, actor, request, "
        "response, request_fingerprint) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            action_id,
            idempotency_key,
            kind,
            case_id,
            complaint_id,
            workflow_id,
            actor,
            Jsonb(request),
            Jsonb(response),
            request_fingerprint,
        ),
    )
    await add_event(conn, event, texts)


async def pending_extension(conn: Conn, process_case_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT request_id, case_id, process_case_id, requested_by, reason, created_at FROM extension_requests "
        "WHERE process_case_id = %s AND status = 'pending'",
        (process_case_id,),
    )
    return await cur.fetchone()


async def insert_extension_request(
    conn: Conn, *, request_id: str, case_id: str, process_case_id: str, requested_by: str, reason: str
) -> None:
    await conn.execute(
        "INSERT INTO extension_requests (request_id, case_id, process_case_id, requested_by, reason) "
        "VALUES (%s, %s, %s, %s, %s)",
        (request_id, case_id, process_case_id, requested_by, reason),
    )


async def decide_extension(conn: Conn, request_id: str, decided_by: str, status: str) -> None:
    await conn.execute(
        "UPDATE extension_requests SET status = %s, decided_by = %s, decided_at = now() WHERE request_id = %s",
        (status, decided_by, request_id),
    )


async def case_extension_requests(conn: Conn, case_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT request_id, process_case_id, requested_by, reason, status, decided_by, decided_at, created_at "
        "FROM extension_requests WHERE case_id = %s ORDER BY created_at",
        (case_id,),
    )
    return await cur.fetchall()


async def extension_requests(
    conn: Conn, *, status: str, county: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Extension requests in a status, oldest first, with their case's county and employer (the approvals list)."""
    return await EXTENSION_REQUESTS.fetch(
        conn,
        "e.request_id, e.case_id, e.process_case_id, e.requested_by, e.reason, e.status, e.created_at, "
        "l.county, l.employer_name, l.stage, l.next_deadline",
        "extension_requests e JOIN ledger l ON l.case_id = e.case_id",
        ["e.status = %s", None if county is None else "l.county = %s"],
        [status, *(() if county is None else (county,))],
        limit=limit,
        cursor=cursor,
        id_field="request_id",
    )


# --- reports ---------------------------------------------------------------------------------------------


async def save_report(
    conn: Conn,
    *,
    report_id: str,
    period: periods.Period,
    figures: dict[str, Any],
    csv_text: str,
    chart_png: bytes | None,
    event: EventEnvelope,
) -> None:
    """Insert or replace the period's report (a report produced again reflects the ledger as it is now)."""
    await conn.execute(
        "INSERT INTO reports (report_id, kind, period_start, period_end, figures, csv, chart_png) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (report_id) DO UPDATE SET figures = EXCLUDED.figures, "
        "csv = EXCLUDED.csv, chart_png = EXCLUDED.chart_png, produced_at = now()",
        (report_id, period.kind, period.start, period.end, Jsonb(figures), csv_text, chart_png),
    )
    await add_event_async(conn, Topics.CASES, event)


async def get_report(conn: Conn, report_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT report_id, kind, period_start, period_end, figures, csv, chart_png, produced_at FROM reports "
        "WHERE report_id = %s",
        (report_id,),
    )
    return await cur.fetchone()


async def list_reports(
    conn: Conn, kind: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    return await REPORTS.fetch(
        conn,
        "report_id, kind, period_start, period_end, produced_at",
        "reports",
        ["(%s::text IS NULL OR kind = %s)"],
        [kind, kind],
        limit=limit,
        cursor=cursor,
        id_field="report_id",
    )
