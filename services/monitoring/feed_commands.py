"""The monthly feeds' commands: import a project's payroll or attendance file of a month, idempotently, and
read the month's summary.

An import is all or nothing: a month's feed is one document, and storing part of it would make the workers of
its bad rows look unpaid (or absent). So a file with any bad row stores nothing and answers every row's
result; a good file is written whole, with its audit row and its event, in one transaction. The same file
again (or any file saying the same: `feeds.rows_digest`) changes nothing; a file saying something else for a
month already received replaces the month's rows and says so (`replaced`, what changed).

Scope: the project's, as the register's (`Register.visible`): another county's project answers 404.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from psycopg_pool import AsyncConnectionPool

from services.common import audit
from services.common.auth import Principal
from services.contracts.monitoring_events import AttendanceReceived, PayrollReceived
from services.monitoring import feed_store, store
from services.monitoring.commands import Register
from services.monitoring.feed_rows import parse_feed
from services.monitoring.feeds import (
    FeedKind,
    FeedWorker,
    MonthSummary,
    month_text,
    parse_month,
    replacement,
    rows_digest,
    summarise_month,
)
from services.monitoring.import_rows import FileFormat, FileUnreadable


class Feeds:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        register: Register,
        reference: Callable[[str], str],
        today: Callable[[], date],
        tolerance: Decimal,
    ) -> None:
        self.pool = pool
        self.register = register
        self.reference = reference
        self.today = today
        self.tolerance = tolerance

    async def import_file(
        self, principal: Principal, project_id: str, kind: FeedKind, month_asked: str, data: bytes, fmt: FileFormat
    ) -> dict[str, Any]:
        project = await self.register.visible(principal, project_id)
        today = self.today()
        month = parse_month(month_asked, today=today)
        parsed = list(parse_feed(data, fmt, kind, month, reference=self.reference, today=today))
        if not parsed:
            raise FileUnreadable("the file has a header but no worker")
        results: list[dict[str, Any]] = [
            {"row": p.row, "result": "invalid", "errors": [e.as_dict() for e in p.errors]}
            if p.worker is None
            else {"row": p.row, "result": "valid", **p.worker.as_dict()}
            for p in parsed
        ]
        workers = [(p.row, p.worker) for p in parsed if p.worker is not None]
        digest, file_sha256 = rows_digest([w for _, w in workers]), hashlib.sha256(data).hexdigest()
        answer: dict[str, Any] = {
            "project_id": project_id,
            "kind": kind.value,
            "month": month_text(month),
            "format": fmt,
            "rows": len(parsed),
            "counts": {"valid": len(workers), "invalid": len(parsed) - len(workers)},
        }
        detail = {
            "kind": kind.value,
            "month": month_text(month),
            "sha256": file_sha256,
            "format": fmt,
            "rows": len(parsed),
            "counts": answer["counts"],
        }
        async with self.pool.connection() as conn, conn.transaction():
            if len(workers) < len(parsed):
                await audit.record(conn, principal, f"{kind.value}.rejected", project_id, detail=detail)
                return {**answer, "outcome": "rejected", "results": results}
            await feed_store.lock_month(conn, project_id, kind, month)
            before = await feed_store.get_feed(conn, project_id, kind, month)
            if before is not None and before["rows_digest"] == digest:
                await audit.record(conn, principal, f"{kind.value}.unchanged", project_id, detail=detail)
                return {
                    **answer,
                    "outcome": "unchanged",
                    "version": before["version"],
                    **self._totals(before),
                    "results": results,
                }
            version = 1 if before is None else before["version"] + 1
            change = None
            if before is not None:
                change = replacement(
                    await feed_store.feed_workers(conn, project_id, kind, month), [w for _, w in workers]
                )
            row = await feed_store.write_feed(
                conn,
                project_id,
                kind,
                month,
                version=version,
                rows_digest=digest,
                file_sha256=file_sha256,
                workers=workers,
                received_by=principal.client_id,
            )
            await audit.record(
                conn,
                principal,
                f"{kind.value}.received",
                project_id,
                detail={**detail, "version": version, **({"replaced": change.as_dict()} if change else {})},
            )
            await store.emit(
                conn,
                project_id,
                self._event(
                    project_id, project["county"], kind, month, version, change is not None, [w for _, w in workers]
                ),
            )
        return {
            **answer,
            "outcome": "replaced" if change else "received",
            "version": version,
            **self._totals(row),
            **({"replaced": change.as_dict()} if change else {}),
            "results": results,
        }

    @staticmethod
    def _totals(feed: dict[str, Any]) -> dict[str, Any]:
        if feed["kind"] == FeedKind.PAYROLL:
            return {"workers": feed["workers"], "total_paid": str(feed["total_amount"])}
        return {"workers": feed["workers"], "days_worked": str(feed["total_days"])}

    @staticmethod
    def _event(
        project_id: str,
        county: str,
        kind: FeedKind,
        month: date,
        version: int,
        replaced: bool,
        workers: list[FeedWorker],
    ) -> PayrollReceived | AttendanceReceived:
        common = {
            "project_id": project_id,
            "county": county,
            "month": month_text(month),
            "version": version,
            "replaced": replaced,
            "workers": len(workers),
        }
        if kind is FeedKind.PAYROLL:
            return PayrollReceived(**common, total_paid=sum((w.amount or Decimal(0) for w in workers), Decimal("0.00")))
        return AttendanceReceived(**common, days_worked=sum((w.days or Decimal(0) for w in workers), Decimal(0)))

    async def month_summary(self, principal: Principal, project_id: str, month_asked: str) -> dict[str, Any]:
        await self.register.visible(principal, project_id)
        month = parse_month(month_asked, today=self.today())
        async with self.pool.connection() as conn:
            summary = await load_month_summary(conn, project_id, month, tolerance=self.tolerance)
        return {"project_id": project_id, **summary.as_dict()}


async def load_month_summary(conn: store.Conn, project_id: str, month: date, *, tolerance: Decimal) -> MonthSummary:
    """The month's summary from what is stored (`feeds.summarise_month`): what the monthly checks will read."""
    feeds = {kind: await feed_store.get_feed(conn, project_id, kind, month) for kind in FeedKind}
    workers = {
        kind: await feed_store.feed_workers(conn, project_id, kind, month) if feeds[kind] else None for kind in FeedKind
    }
    return summarise_month(month, workers[FeedKind.ATTENDANCE], workers[FeedKind.PAYROLL], tolerance=tolerance)
