"""Walk a service's audit chain (`services/common/migrations/0000d_audit_chain.sql`) and find its first broken
link: a row whose hash no longer matches its content (changed after it was written), or one whose previous
hash is not the hash of the row before it (a row removed or rewritten before it).

The hash is recomputed here, in Python over a canonical text PostgreSQL renders with this module's own
expression, not with the schema's `audit_log_hash` function: whoever could replace that function could make
it agree with anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from operations.i18n import _

GENESIS = bytes(32)
# The same content, in the same order and form, as `audit_log_hash` in the migration.
CANONICAL = (
    "jsonb_build_array(id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), actor, role, scope, "
    "action, subject, to_jsonb(fields), detail)::text"
)


@dataclass(frozen=True)
class ChainReport:
    service: str
    rows: int
    broken_at: int | None = None
    reason: str = ""
    head: bytes = GENESIS

    @property
    def intact(self) -> bool:
        return self.broken_at is None

    def describe(self) -> str:
        if self.intact:
            return _("{service}: {rows} rows, chain intact; head {head}").format(
                service=self.service, rows=self.rows, head=self.head.hex()
            )
        return _("{service}: chain broken at row {row}: {reason} ({rows} rows read)").format(
            service=self.service, row=self.broken_at, reason=self.reason, rows=self.rows
        )


def row_hash(previous: bytes, canonical: str) -> bytes:
    return hashlib.sha256(previous + canonical.encode("utf-8")).digest()


def verify_chain(database_url: str, service: str, batch: int = 5000) -> ChainReport:
    """Read `service`'s audit_log in id order (a server-side cursor, so a long trail is not held in memory)
    and stop at the first broken link."""
    query = sql.SQL("SELECT id, prev_hash, row_hash, {} FROM {} ORDER BY id").format(
        sql.SQL(CANONICAL), sql.Identifier(service, "audit_log")
    )
    previous, count = GENESIS, 0
    with psycopg.connect(database_url) as conn, conn.transaction():
        # One snapshot for the whole walk: rows committed meanwhile are not half seen.
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor: psycopg.ServerCursor[Any] = conn.cursor(name="audit_chain")
        cursor.itersize = batch
        cursor.execute(query)
        for row_id, prev_hash, stored, canonical in cursor:
            count += 1
            if bytes(prev_hash) != previous:
                return ChainReport(
                    service,
                    count,
                    row_id,
                    "its previous hash is not the hash of the row before it (a row before it was removed or rewritten)",
                    previous,
                )
            if bytes(stored) != row_hash(previous, canonical):
                return ChainReport(
                    service,
                    count,
                    row_id,
                    "its content does not match its hash (changed after it was written)",
                    previous,
                )
            previous = bytes(stored)
    return ChainReport(service, count, head=previous)
