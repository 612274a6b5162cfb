"""The SQL of joint interviews: the employers' cases as the case facts read model knows them, the department
directory, interviews with their letters and commitments, and the city office's actions by Idempotency-Key.
Each change is written with its event by the caller, in one transaction (`interview_scheduling.py`,
`interview_follow_up.py`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from services.common.pagination import Keyset
from services.sanctions.interviews import OVERDUE_SQL
from services.sanctions.store import Conn

# A case is opened when its first complaint arrived; what it owes is what was claimed less what was reported
# paid after the refusal (corrections).
_CASES = (
    "SELECT f.case_id, f.county, f.employer_ref, f.employer_name, f.employer_credit_code AS credit_code, "
    "(f.first_submitted_at AT TIME ZONE 'Asia/Shanghai')::date AS opened_on, "
    "greatest(f.amount_claimed - coalesce((SELECT sum(c.amount) FROM corrections c WHERE c.case_id = f.case_id), 0), 0)"
    " AS amount_owed FROM case_facts f "
)


async def cases_opened_since(conn: Conn, since: date, county: str | None) -> list[dict[str, Any]]:
    """Every case opened after `since`, of the employers with one in `county` (all employers: None)."""
    clause = ""
    params: list[Any] = [since]
    if county:
        clause = (
            " AND f.employer_ref IN (SELECT employer_ref FROM case_facts WHERE county = %s "
            "AND (first_submitted_at AT TIME ZONE 'Asia/Shanghai')::date > %s)"
        )
        params += [county, since]
    cur = await conn.execute(
        _CASES
        + "WHERE (f.first_submitted_at AT TIME ZONE 'Asia/Shanghai')::date > %s"
        + clause
        + " ORDER BY f.employer_ref, f.first_submitted_at",
        params,
    )
    return await cur.fetchall()


async def cases_of_employer(conn: Conn, employer_ref: str) -> list[dict[str, Any]]:
    cur = await conn.execute(_CASES + "WHERE f.employer_ref = %s ORDER BY f.first_submitted_at", (employer_ref,))
    return await cur.fetchall()


async def last_interviews(conn: Conn, employer_refs: list[str]) -> dict[str, date]:
    """The date of each employer's latest interview (scheduled or held)."""
    cur = await conn.execute(
        "SELECT employer_ref, max((scheduled_for AT TIME ZONE 'Asia/Shanghai')::date) AS on_day FROM interviews "
        "WHERE employer_ref = ANY(%s) GROUP BY employer_ref",
        (employer_refs,),
    )
    return {row["employer_ref"]: row["on_day"] for row in await cur.fetchall()}


async def departments(conn: Conn) -> dict[str, str]:
    cur = await conn.execute("SELECT department, name FROM department_directory")
    return {row["department"]: row["name"] for row in await cur.fetchall()}


# --- interviews ---------------------------------------------------------------------------------------------

INTERVIEW_COLUMNS = (
    "interview_id, employer_ref, employer_name, credit_code, counties, case_ids, amount_owed, scheduled_for, place, "
    "departments, status, scheduled_by, scheduled_at, attendance, note, recorded_by, held_at"
)
INTERVIEWS = Keyset("interviews", "scheduled_for", "timestamptz", "interview_id")


async def insert_interview(
    conn: Conn,
    *,
    interview_id: str,
    employer_ref: str,
    employer_name: str,
    credit_code: str | None,
    counties: list[str],
    case_ids: list[str],
    amount_owed: Decimal,
    scheduled_for: datetime,
    place: str,
    departments: list[str],
    scheduled_by: str,
) -> None:
    await conn.execute(
        "INSERT INTO interviews (interview_id, employer_ref, employer_name, credit_code, counties, case_ids, "
        "amount_owed, scheduled_for, place, departments, status, scheduled_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'scheduled', %s)",
        (
            interview_id,
            employer_ref,
            employer_name,
            credit_code,
            counties,
            case_ids,
            amount_owed,
            scheduled_for,
            place,
            departments,
            scheduled_by,
        ),
    )


async def insert_letter(conn: Conn, interview_id: str, invitee: str, document_id: str) -> None:
    await conn.execute(
        "INSERT INTO interview_letters (interview_id, invitee, document_id) VALUES (%s, %s, %s)",
        (interview_id, invitee, document_id),
    )


async def get_interview(conn: Conn, interview_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {INTERVIEW_COLUMNS} FROM interviews WHERE interview_id = %s" + (" FOR UPDATE" if lock else ""),
        (interview_id,),
    )
    return await cur.fetchone()


async def letters(conn: Conn, interview_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    cur = await conn.execute(
        "SELECT l.interview_id, l.invitee, l.document_id, d.document_number, d.sha256 FROM interview_letters l "
        "JOIN documents d ON d.document_id = l.document_id WHERE l.interview_id = ANY(%s) "
        "ORDER BY l.interview_id, l.invitee = 'employer' DESC, l.invitee",
        (interview_ids,),
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in await cur.fetchall():
        found.setdefault(row.pop("interview_id"), []).append(row)
    return found


async def record_held(
    conn: Conn,
    interview_id: str,
    *,
    attendance: dict[str, Any],
    note: str | None,
    recorded_by: str,
    held_at: datetime,
    commitments: list[dict[str, Any]],
) -> None:
    await conn.execute(
        "UPDATE interviews SET status = 'held', attendance = %s, note = %s, recorded_by = %s, held_at = %s "
        "WHERE interview_id = %s",
        (Jsonb(attendance), note, recorded_by, held_at, interview_id),
    )
    for n, commitment in enumerate(commitments, start=1):
        await conn.execute(
            "INSERT INTO interview_commitments (interview_id, n, text, amount, due_date) VALUES (%s, %s, %s, %s, %s)",
            (interview_id, n, commitment["text"], commitment.get("amount"), commitment.get("due_date")),
        )


async def commitments(conn: Conn, interview_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    cur = await conn.execute(
        "SELECT interview_id, n, text, amount, due_date, outcome, outcome_facts, outcome_by, outcome_at "
        "FROM interview_commitments WHERE interview_id = ANY(%s) ORDER BY interview_id, n",
        (interview_ids,),
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in await cur.fetchall():
        found.setdefault(row.pop("interview_id"), []).append(row)
    return found


async def get_commitment(conn: Conn, interview_id: str, n: int, *, lock: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT n, text, amount, due_date, outcome, outcome_facts, outcome_by, outcome_at FROM interview_commitments "
        "WHERE interview_id = %s AND n = %s" + (" FOR UPDATE" if lock else ""),
        (interview_id, n),
    )
    return await cur.fetchone()


async def record_outcome(
    conn: Conn, interview_id: str, n: int, *, outcome: str, facts: str, by: str, at: datetime
) -> None:
    await conn.execute(
        "UPDATE interview_commitments SET outcome = %s, outcome_facts = %s, outcome_by = %s, outcome_at = %s "
        "WHERE interview_id = %s AND n = %s",
        (outcome, facts, by, at, interview_id, n),
    )


async def search_interviews(
    conn: Conn, *, county: str | None, employer_ref: str | None, overdue_on: date | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Interviews, newest first; `overdue_on`: only those with a commitment overdue on that day."""
    clauses: list[str | None] = []
    params: list[Any] = []
    if county:
        clauses.append("%s = ANY(counties)")
        params.append(county)
    if employer_ref:
        clauses.append("employer_ref = %s")
        params.append(employer_ref)
    if overdue_on is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM interview_commitments c WHERE c.interview_id = interviews.interview_id "
            "AND " + OVERDUE_SQL.replace("%(today)s", "%s") + ")"
        )
        params.append(overdue_on)
    return await INTERVIEWS.fetch(
        conn, INTERVIEW_COLUMNS, "interviews", clauses, params, limit=limit, cursor=cursor, id_field="interview_id"
    )


# --- the city office's actions ----------------------------------------------------------------------------------


async def find_action(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT action_id, interview_id, kind, actor, request_fingerprint, response FROM interview_actions "
        "WHERE idempotency_key = %s",
        (key,),
    )
    return await cur.fetchone()


async def insert_action(
    conn: Conn,
    *,
    action_id: str,
    interview_id: str,
    kind: str,
    key: str | None,
    actor: str,
    response: dict[str, Any],
    request_fingerprint: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO interview_actions (action_id, interview_id, kind, idempotency_key, actor, request_fingerprint, "
        "response) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (action_id, interview_id, kind, key, actor, request_fingerprint, Jsonb(response)),
    )


# --- the gauge (the worker's synchronous pool) ---------------------------------------------------------------------


def overdue_by_county(conn: Any, today: date) -> dict[str, int]:
    """Overdue commitments per county of the interview (an interview of several counties counts in each)."""
    rows = conn.execute(
        "SELECT county, count(*) AS overdue FROM interview_commitments c "
        "JOIN interviews i ON i.interview_id = c.interview_id, unnest(i.counties) AS county "
        "WHERE " + OVERDUE_SQL + " GROUP BY county ORDER BY county",
        {"today": today},
    ).fetchall()
    return {row["county"]: int(row["overdue"]) for row in rows}


# --- invitation letters --------------------------------------------------------------------------------------------


async def next_letter_number(conn: Conn, year: int) -> int:
    cur = await conn.execute(
        "INSERT INTO document_counters (kind, year, last) VALUES ('interview_invitation', %s, 1) "
        "ON CONFLICT (kind, year) DO UPDATE SET last = document_counters.last + 1 RETURNING last",
        (year,),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["last"])


async def insert_letter_document(
    conn: Conn, *, document_id: str, number: str, content: bytes, digest: str, interview_id: str
) -> None:
    await conn.execute(
        "INSERT INTO documents (document_id, kind, document_number, interview_id, media_type, content, sha256) "
        "VALUES (%s, 'interview_invitation', %s, %s, 'application/pdf', %s, %s)",
        (document_id, number, interview_id, content, digest),
    )
