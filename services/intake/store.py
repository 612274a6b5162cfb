"""Intake's SQL. A complaint, its idempotency record and its `complaint.submitted` event commit together.

No HTTP types here; the routes call these functions inside one transaction each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from services.common.outbox import add_event_async
from services.common.pagination import Keyset
from services.contracts.events import EventEnvelope, Topics
from services.contracts.intake_events import Channel


@dataclass(frozen=True)
class ComplaintRow:
    """Everything stored for one complaint; personal data already sealed by the caller."""

    complaint_id: str
    tracking_code_mac: str  # HMAC of the tracking code (services/intake/lookups.py); never the code itself
    channel: Channel
    site_id: str | None
    county_code: str
    project_name: str
    employer_name: str
    employer_name_key: str
    employer_credit_code: str | None
    period_start: date
    period_end: date
    amount_owed: Decimal
    workers_affected: int
    description: str
    confidential: bool
    stale_for_rejection: bool
    worker_name_sealed: bytes
    id_number_sealed: bytes
    phone_sealed: bytes
    bank_card_sealed: bytes | None
    person_ref: str
    phone_ref: str
    evidence: list[dict[str, Any]]
    submitted_at: datetime


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different request."""


class DuplicateClue(Exception):
    """The clue was imported before, as `complaint_id` in `county_code` (which the importer may not see)."""

    def __init__(self, complaint_id: str, county_code: str) -> None:
        super().__init__(complaint_id)
        self.complaint_id = complaint_id
        self.county_code = county_code


_INSERT_COMPLAINT = """
INSERT INTO complaints (
    complaint_id, tracking_code_mac, channel, site_id, county_code, project_name, employer_name,
    employer_name_key, employer_credit_code, period_start, period_end, amount_owed, workers_affected,
    description, confidential, stale_for_rejection, worker_name_sealed, id_number_sealed, phone_sealed,
    bank_card_sealed, person_ref, phone_ref, evidence, submitted_at
) VALUES (
    %(complaint_id)s, %(tracking_code_mac)s, %(channel)s, %(site_id)s, %(county_code)s, %(project_name)s,
    %(employer_name)s, %(employer_name_key)s, %(employer_credit_code)s, %(period_start)s, %(period_end)s,
    %(amount_owed)s, %(workers_affected)s, %(description)s, %(confidential)s, %(stale_for_rejection)s,
    %(worker_name_sealed)s, %(id_number_sealed)s, %(phone_sealed)s, %(bank_card_sealed)s, %(person_ref)s,
    %(phone_ref)s, %(evidence)s, %(submitted_at)s
)
"""


async def find_idempotent(conn: AsyncConnection[Any], key: str) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT idempotency_key, request_hash, complaint_id, response_sealed FROM idempotency_keys "
        "WHERE idempotency_key = %s",
        (key,),
    )
    return await cursor.fetchone()  # type: ignore[return-value]


async def insert_complaint(
    conn: AsyncConnection[Any],
    row: ComplaintRow,
    event: EventEnvelope,
    *,
    idempotency: tuple[str, str, bytes] | None = None,
    clue_fingerprint: tuple[str, str] | None = None,
) -> None:
    """Insert the complaint with its event (and idempotency / clue records) in the caller's transaction.

    Raises UniqueViolation through `IdempotencyConflict`/`DuplicateClue` handling in the caller when a
    concurrent request won the race; the transaction is then rolled back whole.
    """
    params = dict(vars(row))
    params["evidence"] = Jsonb(row.evidence)
    await conn.execute(_INSERT_COMPLAINT, params)
    if idempotency is not None:
        key, request_hash, response_sealed = idempotency
        await conn.execute(
            "INSERT INTO idempotency_keys (idempotency_key, request_hash, complaint_id, response_sealed) "
            "VALUES (%s, %s, %s, %s)",
            (key, request_hash, row.complaint_id, response_sealed),
        )
    if clue_fingerprint is not None:
        fingerprint, source = clue_fingerprint
        await conn.execute(
            "INSERT INTO clue_fingerprints (fingerprint, complaint_id, source) VALUES (%s, %s, %s)",
            (fingerprint, row.complaint_id, source),
        )
    await add_event_async(conn, Topics.INTAKE_COMPLAINTS, event)


async def clue_seen(conn: AsyncConnection[Any], fingerprint: str) -> DuplicateClue | None:
    """The earlier import of this clue (its complaint and that complaint's county), or None."""
    cursor = await conn.execute(
        "SELECT f.complaint_id, c.county_code FROM clue_fingerprints f JOIN complaints c USING (complaint_id) "
        "WHERE f.fingerprint = %s",
        (fingerprint,),
    )
    found = await cursor.fetchone()
    return DuplicateClue(found["complaint_id"], found["county_code"]) if found else None


async def get_complaint(conn: AsyncConnection[Any], complaint_id: str) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT c.*, w.workflow_id, w.started_at AS workflow_started_at FROM complaints c "
        "LEFT JOIN workflow_starts w USING (complaint_id) WHERE c.complaint_id = %s",
        (complaint_id,),
    )
    return await cursor.fetchone()  # type: ignore[return-value]


def _window_start(seconds: str) -> str:
    """SQL for the start of the window of `seconds` (an SQL expression) that `now()` falls in. One row per
    bucket and fixed window (migration 0004), windows counted from the epoch, so every request in the same
    window meets the same row."""
    return f"to_timestamp(floor(extract(epoch FROM now()) / {seconds}) * {seconds})"


# A request's hits in one statement, one round trip: its buckets upserted in the order of their names (two
# requests sharing buckets lock them in the same order), and up to `purge` expired windows deleted on the way
# (skipping rows another transaction holds; the index on `expires_at` makes this a probe when none has
# expired), so the table stays the size of the windows in use without a timer of its own.
_HITS = f"""
WITH expired AS (
    DELETE FROM rate_windows WHERE (bucket, window_start) IN (
        SELECT bucket, window_start FROM rate_windows WHERE expires_at < now() LIMIT %(purge)s FOR UPDATE SKIP LOCKED)
), hit AS (
    SELECT bucket, secs, amount, {_window_start("secs")} AS window_start
    FROM unnest(%(buckets)s::text[], %(windows)s::int[], %(amounts)s::int[]) AS h(bucket, secs, amount)
)
INSERT INTO rate_windows (bucket, window_start, expires_at, hits)
SELECT bucket, window_start, window_start + make_interval(secs => secs), amount FROM hit ORDER BY bucket
ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_windows.hits + EXCLUDED.hits
RETURNING bucket, hits, GREATEST(1, ceil(extract(epoch FROM expires_at - now())))::int AS wait
"""
PURGE_BATCH = 500


@dataclass(frozen=True)
class RateHit:
    """One hit to count: `amount` (1, or e.g. bytes) in `bucket`'s current window of `window_seconds`, against
    `limit`."""

    bucket: str
    window_seconds: int
    limit: int = 0
    amount: int = 1


async def hit_rate_limits(conn: AsyncConnection[Any], hits: list[RateHit]) -> list[int | None]:
    """Count every hit, in one statement; for each, in order, seconds to wait when it makes its bucket more
    than its limit, else None. Call it in the transaction of the limited change: a refusal rolls its own hits
    back with it. Buckets must be distinct."""
    counted = await _hit(conn, hits)
    return [wait if count > hit.limit else None for hit, (count, wait) in zip(hits, counted, strict=True)]


async def hit_rate_limit(
    conn: AsyncConnection[Any], bucket: str, *, limit: int, window_seconds: int, amount: int = 1
) -> int | None:
    """Count one hit (or `amount`, e.g. bytes) in `bucket`'s current window; seconds to wait when that makes
    it more than `limit`, else None. Call it in the transaction of the limited change: a refusal rolls its
    own hit back with it."""
    (wait,) = await hit_rate_limits(conn, [RateHit(bucket, window_seconds, limit, amount)])
    return wait


async def rate_limit_wait(conn: AsyncConnection[Any], bucket: str, *, limit: int, window_seconds: int) -> int | None:
    """Seconds to wait when `bucket` has had `limit` hits in its current window already, else None (nothing
    is counted)."""
    cursor = await conn.execute(
        f"SELECT GREATEST(1, ceil(extract(epoch FROM expires_at - now())))::int AS wait FROM rate_windows "
        f"WHERE bucket = %(bucket)s AND window_start = {_window_start('%(window)s')} AND hits >= %(limit)s",
        {"bucket": bucket, "window": window_seconds, "limit": limit},
    )
    row = await cursor.fetchone()
    return int(row["wait"]) if row else None


async def add_rate_hits(conn: AsyncConnection[Any], buckets: list[str], *, window_seconds: int) -> None:
    """Count one hit in each of `buckets`' current windows, whatever the count."""
    await _hit(conn, [RateHit(bucket, window_seconds) for bucket in buckets])


async def _hit(conn: AsyncConnection[Any], hits: list[RateHit]) -> list[tuple[int, int]]:
    """(hits in the window now, seconds until it ends) for each of `hits`, in their order."""
    cursor = await conn.execute(
        _HITS,
        {
            "purge": PURGE_BATCH,
            "buckets": [hit.bucket for hit in hits],
            "windows": [hit.window_seconds for hit in hits],
            "amounts": [hit.amount for hit in hits],
        },
    )
    by_bucket = {row["bucket"]: (int(row["hits"]), int(row["wait"])) for row in await cursor.fetchall()}
    return [by_bucket[hit.bucket] for hit in hits]


async def upsert_site(conn: AsyncConnection[Any], site: dict[str, Any]) -> dict[str, Any]:
    cursor = await conn.execute(
        """
        INSERT INTO sites (site_id, name, county_code, address, owner_name, owner_credit_code,
                           general_contractor, general_contractor_credit_code)
        VALUES (%(site_id)s, %(name)s, %(county_code)s, %(address)s, %(owner_name)s, %(owner_credit_code)s,
                %(general_contractor)s, %(general_contractor_credit_code)s)
        ON CONFLICT (site_id) DO UPDATE SET name = EXCLUDED.name, county_code = EXCLUDED.county_code,
            address = EXCLUDED.address, owner_name = EXCLUDED.owner_name,
            owner_credit_code = EXCLUDED.owner_credit_code, general_contractor = EXCLUDED.general_contractor,
            general_contractor_credit_code = EXCLUDED.general_contractor_credit_code
        RETURNING *
        """,
        site,
    )
    row = await cursor.fetchone()
    assert row is not None
    return row  # type: ignore[no-any-return]


async def get_site(conn: AsyncConnection[Any], site_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    cursor = await conn.execute(f"SELECT * FROM sites WHERE site_id = %s{lock}", (site_id,))
    return await cursor.fetchone()  # type: ignore[return-value]


# Registered sites in site id order (services/common/pagination.py).
SITES = Keyset("sites", "site_id", "text", "site_id", descending=False)


async def list_sites(
    conn: AsyncConnection[Any], county: str | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the registered sites (of one county, or all)."""
    return await SITES.fetch(
        conn,
        "*",
        "sites",
        ["(%s::text IS NULL OR county_code = %s)"],
        [county, county],
        limit=limit,
        cursor=cursor,
        id_field="site_id",
    )


async def record_workflow_start(conn: AsyncConnection[Any], complaint_id: str, workflow_id: str) -> None:
    await conn.execute(
        "INSERT INTO workflow_starts (complaint_id, workflow_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (complaint_id, workflow_id),
    )


__all__ = [
    "ComplaintRow",
    "DuplicateClue",
    "IdempotencyConflict",
    "RateHit",
    "UniqueViolation",
    "add_rate_hits",
    "clue_seen",
    "find_idempotent",
    "get_complaint",
    "get_site",
    "hit_rate_limit",
    "hit_rate_limits",
    "insert_complaint",
    "list_sites",
    "rate_limit_wait",
    "record_workflow_start",
    "upsert_site",
]
