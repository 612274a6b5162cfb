"""The early warnings' SQL: each raised or resolved in the transaction that writes its event
(services/monitoring/warnings.py), listed by keyset as every list is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg.types.json import Jsonb

from services.common.pagination import Keyset
from services.contracts.monitoring_events import WarningCheck, WarningResolution
from services.monitoring.checks import KnownWarning, NewWarning
from services.monitoring.store import Conn

COLUMNS = (
    'warning_id, project_id, county, month, "check", level, months_failing, facts, raised_at, resolution, '
    "resolved_at, resolved_by, resolution_note, passed_month"
)


async def lock_project_checks(conn: Conn, project_id: str) -> None:
    """Serialise the checks of one project (a scheduled check and a late feed's re-check at once)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"monitoring.checks:{project_id}",))


async def known_warnings(conn: Conn, project_id: str, month: date, before: date) -> list[KnownWarning]:
    """The project's warnings a check of `month` may change or climb from: the month's, the month before's
    (`before`) and every open one up to the month."""
    cur = await conn.execute(
        f"SELECT {COLUMNS} FROM warnings WHERE project_id = %s AND month <= %s "
        "AND (resolution IS NULL OR month >= %s) ORDER BY month, warning_id",
        (project_id, month, before),
    )
    return [
        KnownWarning(
            r["warning_id"],
            r["month"],
            WarningCheck(r["check"]),
            r["months_failing"],
            WarningResolution(r["resolution"]) if r["resolution"] else None,
        )
        for r in await cur.fetchall()
    ]


async def insert_warning(
    conn: Conn, warning_id: str, project_id: str, county: str, month: date, new: NewWarning
) -> dict[str, Any] | None:
    """The warning, or None when the project's month already has one for the check."""
    cur = await conn.execute(
        f'INSERT INTO warnings (warning_id, project_id, county, month, "check", level, months_failing, facts) '
        f'VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (project_id, month, "check") DO NOTHING '
        f"RETURNING {COLUMNS}",
        (warning_id, project_id, county, month, new.check.value, new.level.value, new.months_failing, Jsonb(new.facts)),
    )
    return await cur.fetchone()


async def resolve_warning(
    conn: Conn,
    warning_id: str,
    resolution: WarningResolution,
    *,
    by: str,
    note: str | None = None,
    passed_month: date | None = None,
) -> dict[str, Any] | None:
    """The warning resolved now, or None when it was not open."""
    cur = await conn.execute(
        f"UPDATE warnings SET resolution = %s, resolved_at = now(), resolved_by = %s, resolution_note = %s, "
        f"passed_month = %s WHERE warning_id = %s AND resolution IS NULL RETURNING {COLUMNS}",
        (resolution.value, by, note, passed_month, warning_id),
    )
    return await cur.fetchone()


async def get_warning(conn: Conn, warning_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {COLUMNS} FROM warnings WHERE warning_id = %s" + (" FOR UPDATE" if lock else ""), (warning_id,)
    )
    return await cur.fetchone()


@dataclass(frozen=True)
class WarningFilter:
    county: str | None = None
    project_id: str | None = None
    level: str | None = None
    # True: open only; False: resolved only; None: both.
    open: bool | None = None


# Newest first, paged as every list is (services/common/pagination.py).
WARNINGS = Keyset("warnings", "raised_at", "timestamptz", "warning_id")


async def list_warnings(
    conn: Conn, f: WarningFilter, *, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    clauses: list[str | None] = []
    params: list[Any] = []
    for column, value in (("county", f.county), ("project_id", f.project_id), ("level", f.level)):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if f.open is not None:
        clauses.append("resolution IS NULL" if f.open else "resolution IS NOT NULL")
    return await WARNINGS.fetch(
        conn, COLUMNS, "warnings", clauses, params, limit=limit, cursor=after, id_field="warning_id"
    )
