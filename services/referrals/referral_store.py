"""The referrals service's SQL for referrals (移送、提前介入、速裁、法律援助): a referral by its idempotency key,
the receiving body's decision, its due dates, an arbitration award's limit, extension and award, and a
withdrawal. The caller's transaction writes the change's event (`store.publish`); what every record shares is
in `store.py`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from services.common.pagination import Keyset
from services.referrals.store import Conn, equal_filters

REFERRAL_COLUMNS = (
    "referral_id, case_id, county, employer_ref, target, status, unpaid_amount, workers, basis, package, "
    "letter_id, related_referral_id, created_by, created_at, due_date, due_at, decision, decision_ref, "
    "decision_reasons, decided_by, decided_at, assigned_to, withdrawn_at, withdraw_reason, award_due_date, "
    "award_due_at, award_extension_days, award_extension_ref, award_extension_reason, award_extended_at, award_ref, "
    "awarded_on, award_recorded_at"
)

# Referrals are paged newest first (services/common/pagination.py).
REFERRALS = Keyset("referrals", "created_at", "timestamptz", "referral_id")


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
    clauses, params = equal_filters((("target", target), ("county", county), ("status", status), ("case_id", case_id)))
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
