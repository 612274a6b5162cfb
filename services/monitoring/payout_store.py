"""The payouts' SQL: each payout, the money it moved and the steps its process wrote, each county fund's reserve,
and the balances the city office reads. Every change is written by `payout_steps.py` / `fund_commands.py` in the
transaction that writes its event (`store.emit`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from psycopg.types.json import Jsonb

from services.common.pagination import Keyset
from services.contracts.guarantee_funds import PayoutRequest, PayoutStage
from services.monitoring.guarantee_rules import ZERO, FundBalance
from services.monitoring.store import Conn

COLUMNS = (
    "payout_id, case_id, sequence, workflow_id, county, project_id, source, amount, workers_paid, requested_by, "
    "requested_at, stage, decided_by, decided_at, approved_on, refusal_reason, pay_by, overdue, paid_on, "
    "paid_recorded_by, top_up_due, reminders, settled_at, write_off_basis, write_off_reason, written_off_at, "
    "request_hash, "
    "(SELECT coalesce(sum(m.amount), 0) FROM fund_movements m WHERE m.payout_id = payouts.payout_id "
    "AND m.kind IN ('deposit_topped_up', 'fund_recovered')) AS settled, "
    "(SELECT coalesce(sum(m.amount), 0) FROM fund_movements m WHERE m.payout_id = payouts.payout_id "
    "AND m.kind = 'fund_written_off') AS written_off"
)


class MovementKind(StrEnum):
    DEPOSIT_DRAWN = "deposit_drawn"
    DEPOSIT_TOPPED_UP = "deposit_topped_up"
    FUND_ADVANCED = "fund_advanced"
    FUND_RECOVERED = "fund_recovered"
    FUND_WRITTEN_OFF = "fund_written_off"  # the rest of an advance written off: the fund's loss


async def lock(conn: Conn, name: str) -> None:
    """Serialise the writers of one thing for the transaction (a case's requests, a county's fund)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"monitoring.{name}",))


async def lock_fund(conn: Conn, county: str) -> None:
    await lock(conn, f"fund:{county}")


# --- payouts ---------------------------------------------------------------------------------------------------


async def payout_by_key(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {COLUMNS} FROM payouts WHERE idempotency_key = %s", (key,))
    return await cur.fetchone()


async def get_payout(conn: Conn, payout_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {COLUMNS} FROM payouts WHERE payout_id = %s" + (" FOR UPDATE" if lock else ""), (payout_id,)
    )
    return await cur.fetchone()


async def next_sequence(conn: Conn, case_id: str) -> int:
    cur = await conn.execute("SELECT coalesce(max(sequence), 0) + 1 AS n FROM payouts WHERE case_id = %s", (case_id,))
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def insert_payout(
    conn: Conn, payout_id: str, request: PayoutRequest, request_hash: str, sequence: int, workflow_id: str
) -> dict[str, Any]:
    cur = await conn.execute(
        "INSERT INTO payouts (payout_id, idempotency_key, request_hash, case_id, sequence, workflow_id, county, "
        "project_id, source, amount, workers_paid, requested_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        f"RETURNING {COLUMNS}",
        (
            payout_id,
            request.idempotency_key,
            request_hash,
            request.case_id,
            sequence,
            workflow_id,
            request.county,
            request.project_id,
            request.source.value,
            request.amount,
            request.workers_paid,
            request.requested_by,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    return row


async def update_payout(conn: Conn, payout_id: str, **values: Any) -> dict[str, Any]:
    """Set the columns named (`stage` as a `PayoutStage`); the payout as it is now (read again when none is)."""
    if not values:
        row = await get_payout(conn, payout_id)
        assert row is not None, f"payout {payout_id} vanished"
        return row
    names = sorted(values)
    params = [values[n].value if isinstance(values[n], PayoutStage) else values[n] for n in names]
    assignments = ", ".join(f"{name} = %s" for name in names)
    cur = await conn.execute(
        f"UPDATE payouts SET {assignments} WHERE payout_id = %s RETURNING {COLUMNS}", (*params, payout_id)
    )
    row = await cur.fetchone()
    assert row is not None, f"payout {payout_id} vanished"
    return row


# --- the steps of a payout's process ------------------------------------------------------------------------


async def step_outcome(conn: Conn, step_key: str) -> dict[str, Any] | None:
    """What a step written before answered (None: not written yet)."""
    cur = await conn.execute("SELECT outcome FROM payout_steps WHERE step_key = %s", (step_key,))
    row = await cur.fetchone()
    return row["outcome"] if row else None


async def record_step(conn: Conn, step_key: str, payout_id: str, outcome: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO payout_steps (step_key, payout_id, outcome) VALUES (%s, %s, %s)",
        (step_key, payout_id, Jsonb(outcome)),
    )


# --- the money moved -------------------------------------------------------------------------------------------


async def insert_movement(
    conn: Conn,
    step_key: str,
    payout: dict[str, Any],
    kind: MovementKind,
    amount: Decimal,
    on_date: date,
    recorded_by: str,
) -> None:
    await conn.execute(
        "INSERT INTO fund_movements (step_key, payout_id, county, project_id, kind, amount, on_date, recorded_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            step_key,
            payout["payout_id"],
            payout["county"],
            payout["project_id"],
            kind.value,
            amount,
            on_date,
            recorded_by,
        ),
    )


async def movements_of(conn: Conn, payout_id: str) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT kind, amount, on_date, recorded_by, recorded_at FROM fund_movements WHERE payout_id = %s "
        "ORDER BY movement_id",
        (payout_id,),
    )
    return list(await cur.fetchall())


async def project_draws(conn: Conn, project_id: str) -> tuple[Decimal, Decimal]:
    """(drawn, topped up) of the project's deposit, over all its payouts."""
    cur = await conn.execute(
        "SELECT coalesce(sum(amount) FILTER (WHERE kind = 'deposit_drawn'), 0) AS drawn, "
        "coalesce(sum(amount) FILTER (WHERE kind = 'deposit_topped_up'), 0) AS topped_up "
        "FROM fund_movements WHERE project_id = %s",
        (project_id,),
    )
    row = await cur.fetchone()
    assert row is not None
    return Decimal(row["drawn"]), Decimal(row["topped_up"])


# --- the county funds ----------------------------------------------------------------------------------------


async def fund_balance(conn: Conn, county: str) -> tuple[FundBalance, bool]:
    """The county's fund, and whether a reserve was ever set for it."""
    cur = await conn.execute(
        "SELECT (SELECT reserve FROM emergency_funds WHERE county = %s) AS reserve, "
        "coalesce(sum(amount) FILTER (WHERE kind = 'fund_advanced'), 0) AS advanced, "
        "coalesce(sum(amount) FILTER (WHERE kind = 'fund_recovered'), 0) AS recovered, "
        "coalesce(sum(amount) FILTER (WHERE kind = 'fund_written_off'), 0) AS written_off "
        "FROM fund_movements WHERE county = %s",
        (county, county),
    )
    row = await cur.fetchone()
    assert row is not None
    reserve = row["reserve"]
    balance = FundBalance(
        Decimal(reserve if reserve is not None else ZERO),
        Decimal(row["advanced"]),
        Decimal(row["recovered"]),
        Decimal(row["written_off"]),
    )
    return balance, reserve is not None


async def set_reserve(conn: Conn, county: str, reserve: Decimal, set_by: str) -> None:
    await conn.execute(
        "INSERT INTO emergency_funds (county, reserve, set_by) VALUES (%s, %s, %s) ON CONFLICT (county) DO UPDATE "
        "SET reserve = EXCLUDED.reserve, set_by = EXCLUDED.set_by, set_at = now()",
        (county, reserve, set_by),
    )


# Per county: the fund's reserve and movements, and the register's deposits standing as security (lodged, or
# drawn and to be topped up) beside what payouts drew of them and had topped up.
_COUNTY_FUNDS = """
WITH moved AS (
    SELECT county,
           sum(amount) FILTER (WHERE kind = 'fund_advanced') AS advanced,
           sum(amount) FILTER (WHERE kind = 'fund_recovered') AS recovered,
           sum(amount) FILTER (WHERE kind = 'fund_written_off') AS written_off,
           sum(amount) FILTER (WHERE kind = 'deposit_drawn') AS drawn,
           sum(amount) FILTER (WHERE kind = 'deposit_topped_up') AS topped_up
    FROM fund_movements GROUP BY county
), deposits AS (
    SELECT county, count(*) AS projects, sum((facts->'deposit'->>'amount')::numeric) AS lodged
    FROM projects WHERE facts->'deposit'->>'status' IN ('lodged', 'drawn') GROUP BY county
), open_payouts AS (
    SELECT county,
           count(*) FILTER (WHERE source = 'deposit') AS top_ups,
           count(*) FILTER (WHERE source = 'emergency_fund') AS advances
    FROM payouts WHERE stage IN ('approved', 'paid') GROUP BY county
)
SELECT c.county, f.reserve, coalesce(m.advanced, 0) AS advanced, coalesce(m.recovered, 0) AS recovered,
       coalesce(m.written_off, 0) AS written_off,
       coalesce(d.projects, 0) AS deposit_projects, coalesce(d.lodged, 0) AS lodged,
       coalesce(m.drawn, 0) AS drawn, coalesce(m.topped_up, 0) AS topped_up,
       coalesce(o.top_ups, 0) AS payouts_awaiting_top_up, coalesce(o.advances, 0) AS advances_outstanding
FROM unnest(%s::text[]) AS c(county)
LEFT JOIN emergency_funds f USING (county)
LEFT JOIN moved m USING (county)
LEFT JOIN deposits d USING (county)
LEFT JOIN open_payouts o USING (county)
ORDER BY c.county
"""


async def county_funds(conn: Conn, counties: list[str]) -> list[dict[str, Any]]:
    cur = await conn.execute(_COUNTY_FUNDS, (counties,))
    return list(await cur.fetchall())


# --- listing ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutFilter:
    county: str | None = None
    case_id: str | None = None
    project_id: str | None = None
    source: str | None = None
    stage: str | None = None


# Newest first, paged as every list is (services/common/pagination.py).
PAYOUTS = Keyset("payouts", "requested_at", "timestamptz", "payout_id")


async def list_payouts(
    conn: Conn, f: PayoutFilter, *, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    clauses: list[str | None] = []
    params: list[Any] = []
    for column, value in (
        ("county", f.county),
        ("case_id", f.case_id),
        ("project_id", f.project_id),
        ("source", f.source),
        ("stage", f.stage),
    ):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    return await PAYOUTS.fetch(
        conn, COLUMNS, "payouts", clauses, params, limit=limit, cursor=after, id_field="payout_id"
    )
