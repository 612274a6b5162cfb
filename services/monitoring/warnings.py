"""The early warnings' commands: a month's check of a project (the monitoring workflow's activity), the
warnings listed, and a warning resolved by an inspector.

A month's check reads the register's project and the month's feeds, applies the checks once
(services/monitoring/checks.py) and writes what it changes — each warning raised, each open one its check now
passes resolved — with its event (`project.warning_raised`, `project.warning_resolved`) in one transaction.
It is idempotent: one warning per project, month and check, so a retried activity or a month checked again
raises nothing twice.

Scope: as the register's: a county's inspectors and bureau head see their county's warnings, the city office
all; a county's inspectors and bureau head resolve their county's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.common import audit
from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, Invalid, NotFound
from services.contracts.monitoring_events import (
    MonitoringEvent,
    ProjectWarningRaised,
    ProjectWarningResolved,
    WarningCheck,
    WarningLevel,
    WarningResolution,
)
from services.monitoring import store, warning_store
from services.monitoring.checks import CheckRules, check_month, plan_warnings, previous_month
from services.monitoring.feed_commands import load_month_summary
from services.monitoring.feeds import month_text

SYSTEM = "monitoring-workflow"
RESOLVERS = frozenset({Role.county_inspector, Role.bureau_head})
NOTE_LIMIT = 1000


def new_warning_id() -> str:
    return f"WRN-{uuid.uuid4().hex[:16].upper()}"


def view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A warning as the API answers it."""
    return {
        "warning_id": row["warning_id"],
        "project_id": row["project_id"],
        "county": row["county"],
        "month": month_text(row["month"]),
        "check": row["check"],
        "level": row["level"],
        "months_failing": row["months_failing"],
        "facts": row["facts"],
        "raised_at": row["raised_at"].isoformat(),
        "open": row["resolution"] is None,
        "resolution": row["resolution"],
        "resolved_at": row["resolved_at"].isoformat() if row["resolved_at"] else None,
        "resolved_by": row["resolved_by"],
        "resolution_note": row["resolution_note"],
        "passed_month": month_text(row["passed_month"]) if row["passed_month"] else None,
    }


def _resolved_event(row: Mapping[str, Any]) -> ProjectWarningResolved:
    return ProjectWarningResolved(
        warning_id=row["warning_id"],
        project_id=row["project_id"],
        county=row["county"],
        month=month_text(row["month"]),
        check=WarningCheck(row["check"]),
        resolution=WarningResolution(row["resolution"]),
        passed_month=month_text(row["passed_month"]) if row["passed_month"] else None,
    )


class Warnings:
    def __init__(self, pool: AsyncConnectionPool, rules: CheckRules, tolerance: Decimal) -> None:
        self.pool = pool
        self.rules = rules
        self.tolerance = tolerance

    async def check_month(self, project_id: str, month: date) -> dict[str, Any]:
        """Check the project's month; what it raised and resolved, and the planned end the register holds."""
        month = month.replace(day=1)
        async with self.pool.connection() as conn, conn.transaction():
            await warning_store.lock_project_checks(conn, project_id)
            row = await store.get_project(conn, project_id)
            if row is None:
                return {"found": False}
            project = store.facts_of(dict(row))
            summary = await load_month_summary(conn, project_id, month, tolerance=self.tolerance)
            known = await warning_store.known_warnings(conn, project_id, month, previous_month(month))
            plan = plan_warnings(month, check_month(project, summary, self.rules), known, self.rules)
            # The check's events are written together after its rows, in one statement.
            events: list[MonitoringEvent] = []
            resolved: list[str] = []
            for warning_id in plan.resolved:
                done = await warning_store.resolve_warning(
                    conn, warning_id, WarningResolution.CHECK_PASSED, by=SYSTEM, passed_month=month
                )
                if done is not None:
                    resolved.append(warning_id)
                    events.append(_resolved_event(done))
            raised: list[str] = []
            for new in plan.raised:
                written = await warning_store.insert_warning(
                    conn, new_warning_id(), project_id, project.county, month, new
                )
                if written is None:
                    continue
                raised.append(new.check.value)
                events.append(
                    ProjectWarningRaised(
                        warning_id=written["warning_id"],
                        project_id=project_id,
                        county=project.county,
                        month=month_text(month),
                        check=new.check,
                        level=new.level,
                        facts=new.facts,
                    )
                )
            await store.emit_all(conn, project_id, events)
        return {"found": True, "planned_end_date": project.planned_end_date, "raised": raised, "resolved": resolved}

    # --- reading --------------------------------------------------------------------------------------------

    async def list(
        self, principal: Principal, filters: warning_store.WarningFilter, *, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        if filters.level is not None and filters.level not in set(WarningLevel):
            raise Invalid(
                "Invalid level",
                f"level is one of {', '.join(WarningLevel)}",
                errors=[{"field": "level", "code": "invalid", "message": "unknown level"}],
            )
        if principal.role is not Role.city_office:
            # A county's own warnings only; asking for another county's finds nothing.
            if principal.county is None or (filters.county is not None and filters.county != principal.county):
                return {"items": [], "next_cursor": None}
            filters = warning_store.WarningFilter(
                county=principal.county, project_id=filters.project_id, level=filters.level, open=filters.open
            )
        async with self.pool.connection() as conn:
            rows, next_cursor = await warning_store.list_warnings(conn, filters, limit=limit, after=cursor)
        return {"items": [view(r) for r in rows], "next_cursor": next_cursor}

    # --- resolving ------------------------------------------------------------------------------------------

    async def resolve(self, principal: Principal, warning_id: str, note: str) -> dict[str, Any]:
        note = note.strip()
        if not note or len(note) > NOTE_LIMIT:
            raise Invalid(
                "Invalid note",
                f"a resolution says why, in 1 to {NOTE_LIMIT} characters",
                errors=[{"field": "note", "code": "length", "message": "1–1000 characters"}],
            )
        async with self.pool.connection() as conn, conn.transaction():
            row = await warning_store.get_warning(conn, warning_id, lock=True)
            if row is None or not principal.may_see_county(row["county"]):
                raise NotFound("No such warning", f"warning {warning_id} was not found in your scope")
            if principal.role not in RESOLVERS:
                raise Forbidden("A warning is resolved by an inspector or the bureau head of its county.")
            if row["resolution"] is not None:
                raise Conflict(
                    "Warning already resolved",
                    f"warning {warning_id} was resolved on "
                    f"{row['resolved_at'].date().isoformat()} ({row['resolution']})",
                )
            done = await warning_store.resolve_warning(
                conn, warning_id, WarningResolution.INSPECTOR, by=principal.client_id, note=note
            )
            assert done is not None
            await audit.record(
                conn,
                principal,
                "warning.resolved",
                done["project_id"],
                detail={"warning_id": warning_id, "month": month_text(done["month"]), "check": done["check"]},
            )
            await store.emit(conn, done["project_id"], _resolved_event(done))
        return view(done)
