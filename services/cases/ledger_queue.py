"""The ledger's queue (`GET /v1/cases` and its workbook): the filters, what an open process may wait for a person
to do, the sorts, and the keyset pages over them (sort key, then case id, so pages stay stable while cases
change). The ledger's other reads are in `store.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from services.cases.store import LEDGER_COLUMNS, Conn
from services.common.pagination import InvalidCursor, decode_cursor, encode_cursor


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
    kind: str | None = None


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
        ("kind", f.kind),
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
