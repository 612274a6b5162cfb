"""The cases service's SQL for the API: the ledger's reads (a case, following a merge; its complaints and
processes; a complaint; the complaints at a stage; a case's warnings and timeline), and `add_event`, which puts an event
into the outbox with the agencies' free text it leaves out. The queue's filters, sorts and pages are in
`ledger_queue.py`; the records this service owns, each written with its event in one transaction (the
lifecycle's documents, the inspectors' actions, extension requests, reports), in `record_store.py`. The
projection's SQL lives in `projection.py`."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from services.common.outbox import add_event_async
from services.common.pagination import Keyset
from services.contracts.events import EventEnvelope, Topics

Conn = AsyncConnection[Any]

LEDGER_COLUMNS = (
    "case_id, county, city, employer_ref, employer_name, employer_credit_code, contractors, project_ref, "
    "project_name, complaint_count, complainant_count, workers_affected, amount_claimed, amount_verified, "
    "amount_recovered, classification, outcome, stage, status, closure_reason, assigned_inspector, deadlines, "
    "next_deadline, overdue, stage_times, process_case_ids, merged_into, split_from, received_at, closed_at, "
    "updated_at, kind, project_id"
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


# How the complaints at a stage are ordered and paged (services/common/pagination.py; the queue has its own sorts,
# ledger_queue.py).
COMPLAINTS_AT_STAGE = Keyset(
    "complaints", "coalesce(closed_at, 'infinity'::timestamptz)", "timestamptz", "complaint_id", descending=False
)


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


async def case_warnings(conn: Conn, case_id: str) -> list[dict[str, Any]]:
    """The early warnings recorded against a case (its project's, from the monitoring service), oldest first."""
    cur = await conn.execute(
        "SELECT warning_id, project_id, month, check_name AS check, level, facts, raised_at, resolution, "
        "passed_month, resolved_at FROM case_warnings WHERE case_id = %s ORDER BY raised_at, warning_id",
        (case_id,),
    )
    return await cur.fetchall()


async def timeline(conn: Conn, case_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT id, event_id, at, type, producer, complaint_id, actor, summary, detail FROM timeline "
        "WHERE case_id = %s ORDER BY at, id",
        (case_id,),
    )
    return await cur.fetchall()


async def case_of_process(conn: Conn, process_case_id: str) -> str:
    """The ledger case that holds a case workflow (its own id unless merged or not seen yet)."""
    cur = await conn.execute(
        "SELECT case_id FROM processes WHERE process_case_id = %s "
        "UNION ALL SELECT case_id FROM complaints WHERE process_case_id = %s LIMIT 1",
        (process_case_id, process_case_id),
    )
    row = await cur.fetchone()
    return row["case_id"] if row else await resolve(conn, process_case_id)


async def handoff_departments(conn: Conn) -> set[str]:
    """The departments a case may be handed off to, as the referrals service last published them."""
    cur = await conn.execute("SELECT department FROM department_directory WHERE takes_handoffs")
    return {row["department"] for row in await cur.fetchall()}


async def add_event(conn: Conn, event: EventEnvelope, texts: dict[str, str] | None = None) -> None:
    """The event into the outbox, and the agencies' free text its payload leaves out (`AgencyText`:
    `payload.agency_texts()`) into `event_texts` by the event's id, for the ledger's timeline."""
    if texts:
        await conn.execute("INSERT INTO event_texts (event_id, texts) VALUES (%s, %s)", (event.event_id, Jsonb(texts)))
    await add_event_async(conn, Topics.CASES, event)
