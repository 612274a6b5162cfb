"""The cases service's SQL for the API: reads of the ledger, and the records it owns, each written with
its event in one transaction (`add_event_async`). The projection's SQL lives in `projection.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from services.cases import periods
from services.common.outbox import add_event_async
from services.common.pagination import InvalidCursor, Keyset, decode_cursor, encode_cursor
from services.contracts.events import EventEnvelope, Topics

Conn = AsyncConnection[Any]

LEDGER_COLUMNS = (
    "case_id, county, city, employer_ref, employer_name, employer_credit_code, contractors, project_ref, "
    "project_name, complaint_count, complainant_count, workers_affected, amount_claimed, amount_verified, "
    "amount_recovered, classification, outcome, stage, status, closure_reason, assigned_inspector, deadlines, "
    "next_deadline, overdue, stage_times, process_case_ids, merged_into, split_from, received_at, closed_at, "
    "updated_at"
)


async def resolve(conn: Conn, case_id: str) -> str:
    cur = await conn.execute("SELECT case_id FROM case_aliases WHERE alias = %s", (case_id,))
    row = await cur.fetchone()
    return row["case_id"] if row else case_id


async def get_case(conn: Conn, case_id: str) -> dict[str, Any] | None:
    """The ledger case, following a merge to the case it went into."""
    resolved = await resolve(conn, case_id)
    cur = await conn.execute(f"SELECT {LEDGER_COLUMNS} FROM ledger WHERE case_id = %s", (resolved,))
    return await cur.fetchone()


async def case_complaints(conn: Conn, case_id: str) -> list[dict[str, Any]]:
    """The case's complaints without any personal data: ids, figures, stages."""
    cur = await conn.execute(
        "SELECT complaint_id, process_case_id, channel, amount_owed, workers_affected, submitted_at, stage, status, "
        "decision, decided_at, closure_reason, closed_at, satisfaction, overdue, stale_for_rejection, owed_until, "
        "parked FROM complaints "
        "WHERE case_id = %s ORDER BY submitted_at, complaint_id",
        (case_id,),
    )
    return await cur.fetchall()


# How the other lists are ordered and paged (services/common/pagination.py; the queue has its own sorts below).
COMPLAINTS_AT_STAGE = Keyset(
    "complaints", "coalesce(closed_at, 'infinity'::timestamptz)", "timestamptz", "complaint_id", descending=False
)
EXTENSION_REQUESTS = Keyset("extension-requests", "e.created_at", "timestamptz", "e.request_id", descending=False)
REPORTS = Keyset("reports", "period_start", "date", "report_id")


async def complaints_at_stage(
    conn: Conn, stage: str, county: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Complaints at a stage, without any personal data; `callback`: the call-backs due, the longest waiting first."""
    return await COMPLAINTS_AT_STAGE.fetch(
        conn,
        "complaint_id, case_id, county, amount_owed, workers_affected, submitted_at, stage, status, decision, "
        "closure_reason, closed_at, overdue, deadlines",
        "complaints",
        ["stage = %s", "(%s::text IS NULL OR county = %s)"],
        [stage, county, county],
        limit=limit,
        cursor=cursor,
        id_field="complaint_id",
    )


async def case_processes(conn: Conn, case_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT process_case_id, stage, status, classification, outcome, overdue, investigation_overdue, "
        "deadlines, amount_verified, workers_verified, order_id, compensation_id, extension_approved, "
        "closure_reason, opened_at, verified_at, closed_at, stage_times, parked, referral_approval, referral_withdrawal, "
        "unconfirmed_members FROM processes WHERE case_id = %s "
        "ORDER BY opened_at, process_case_id",
        (case_id,),
    )
    return await cur.fetchall()


async def get_complaint(conn: Conn, complaint_id: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT c.complaint_id, c.case_id, c.process_case_id, c.county, c.stage, c.status, c.decision, "
        "c.stale_for_rejection, c.owed_until, c.parked FROM complaints c WHERE c.complaint_id = %s",
        (complaint_id,),
    )
    return await cur.fetchone()


# --- the queue ----------------------------------------------------------------------------------------


@dataclass
class QueueFilter:
    county: str | None = None
    stage: str | None = None
    status: str | None = None
    overdue: bool | None = None
    due_within_days: int | None = None
    employer: str | None = None
    inspector: str | None = None
    classification: str | None = None
    awaiting: Awaiting | None = None


Awaiting = Literal["referral_report", "referral_decision", "withdrawal_decision", "figures", "deadline_confirmation"]

# What an open process of a case may wait for a person to do (`GET /v1/cases?awaiting=`), over `processes p`,
# as the workflow last reported it: its report (the case team), a decision (the bureau head), new totals.
AWAITING: dict[Awaiting, str] = {
    "referral_report": "p.referral_approval = 'awaiting_report'",
    "referral_decision": "p.referral_approval = 'awaiting_decision'",
    "withdrawal_decision": "p.referral_withdrawal = 'pending'",
    "figures": "p.unconfirmed_members <> '[]'::jsonb",
    "deadline_confirmation": "EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(p.deadlines, '[]'::jsonb)) d "
    "WHERE d->>'outcome' = 'pending' AND coalesce((d->>'provisional')::boolean, false))",
}


SORTS = {
    # name: (key expression, direction)
    "next_deadline": ("coalesce(next_deadline, '9999-12-31T00:00:00Z'::timestamptz)", "ASC"),
    "received_at": ("received_at", "DESC"),
    "amount_claimed": ("amount_claimed", "DESC"),
}


def _cursor_key(sort: str, key: str) -> Any:
    """The sort key a queue cursor holds, as its column's type."""
    try:
        return Decimal(key) if sort == "amount_claimed" else datetime.fromisoformat(key)
    except (ValueError, TypeError, ArithmeticError):
        raise InvalidCursor("the cursor is not valid; start again without it") from None


async def list_cases(
    conn: Conn, f: QueueFilter, *, sort: str, limit: int, after: str | None, now: datetime | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the queue, in a stable order (sort key, then case id), and the cursor of the next page."""
    now = now or datetime.now(UTC)
    expression, direction = SORTS[sort]
    clauses = ["merged_into IS NULL"]
    params: list[Any] = []
    for column, value in (
        ("county", f.county),
        ("stage", f.stage),
        ("status", f.status),
        ("assigned_inspector", f.inspector),
        ("classification", f.classification),
    ):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if f.employer:
        clauses.append("(employer_ref = %s OR employer_credit_code = %s OR employer_name ILIKE %s)")
        params += [f.employer, f.employer, f"%{f.employer}%"]
    if f.overdue is not None:
        overdue_expr = "(status = 'open' AND (overdue OR next_deadline < %s))"
        clauses.append(overdue_expr if f.overdue else f"NOT {overdue_expr}")
        params.append(now)
    if f.awaiting is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM processes p WHERE p.case_id = ledger.case_id AND p.status = 'open' "
            f"AND {AWAITING[f.awaiting]})"
        )
    if f.due_within_days is not None:
        clauses.append("status = 'open' AND next_deadline >= %s AND next_deadline < %s")
        params += [now, now + timedelta(days=f.due_within_days)]
    if after:
        key, case_id = decode_cursor(after, f"cases.{sort}", 2)
        key = _cursor_key(sort, key)
        op = ">" if direction == "ASC" else "<"
        clauses.append(f"({expression}, case_id) {op} (%s, %s)")
        params += [key, case_id]
    order = f"{expression} {direction}, case_id {direction}"
    cur = await conn.execute(
        f"SELECT {LEDGER_COLUMNS}, {expression} AS sort_key FROM ledger WHERE {' AND '.join(clauses)} "
        f"ORDER BY {order} LIMIT %s",
        (*params, limit + 1),
    )
    rows = await cur.fetchall()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(f"cases.{sort}", last["sort_key"], last["case_id"])
    for row in rows:
        row.pop("sort_key", None)
    return rows, next_cursor


async def timeline(conn: Conn, case_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT id, event_id, at, type, producer, complaint_id, actor, summary, detail FROM timeline "
        "WHERE case_id = %s ORDER BY at, id",
        (case_id,),
    )
    return await cur.fetchall()


# --- documents the lifecycle asks for (idempotent by key) ----------------------------------------------


async def handoff_departments(conn: Conn) -> set[str]:
    """The departments a case may be handed off to, as the referrals service last published them."""
    cur = await conn.execute("SELECT department FROM department_directory WHERE takes_handoffs")
    return {row["department"] for row in await cur.fetchall()}


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


async def case_of_process(conn: Conn, process_case_id: str) -> str:
    """The ledger case that holds a case workflow (its own id unless merged or not seen yet)."""
    cur = await conn.execute(
        "SELECT case_id FROM processes WHERE process_case_id = %s "
        "UNION ALL SELECT case_id FROM complaints WHERE process_case_id = %s LIMIT 1",
        (process_case_id, process_case_id),
    )
    row = await cur.fetchone()
    return row["case_id"] if row else await resolve(conn, process_case_id)


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


async def add_event(conn: Conn, event: EventEnvelope, texts: dict[str, str] | None = None) -> None:
    """The event into the outbox, and the agencies' free text its payload leaves out (`AgencyText`:
    `payload.agency_texts()`) into `event_texts` by the event's id, for the ledger's timeline."""
    if texts:
        await conn.execute("INSERT INTO event_texts (event_id, texts) VALUES (%s, %s)", (event.event_id, Jsonb(texts)))
    await add_event_async(conn, Topics.CASES, event)


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
