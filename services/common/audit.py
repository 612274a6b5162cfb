"""The audit trail: every read or change of personal data and every action on a case, append-only.

Call `record(conn, principal, ...)` in the same transaction as the read or change it describes, so an
action and its audit row commit (or fail) together. Rows never hold the personal data itself: `fields`
names which fields were read or changed. PostgreSQL chains each row to the one before it by hash as it is
inserted (migration 0000d_audit_chain; `anxin audit verify` checks it), so nothing here computes a hash.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from services.common.auth import Principal, Role, require_roles
from services.common.pagination import Cursor, Keyset, Limit


def scope_of(principal: Principal) -> str:
    if principal.department:
        return f"department:{principal.department}"
    if principal.county:
        return f"county:{principal.county}"
    return "city"


async def record(
    conn: AsyncConnection[Any],
    principal: Principal | None,
    action: str,
    subject: str,
    *,
    fields: list[str] | None = None,
    detail: dict[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """One audit row. `principal` None: the worker with a tracking code, or the system (name it in `actor`)."""
    await conn.execute(
        "INSERT INTO audit_log (actor, role, scope, action, subject, fields, detail) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            principal.client_id if principal else (actor or "anonymous"),
            principal.role.value if principal else "worker" if actor == "tracking-code" else "system",
            scope_of(principal) if principal else "complaint",
            action,
            subject,
            fields or [],
            Jsonb(detail or {}),
        ),
    )


# The trail newest first, paged by its row ids (services/common/pagination.py).
TRAIL = Keyset("audit", "id", "bigint", "id")


def audit_router() -> APIRouter:
    """`GET /v1/audit`: the city office (and operators) query the trail of this service."""
    router = APIRouter(tags=["audit"])

    @router.get("/v1/audit", summary="The audit trail of this service (city office, operators)")
    async def audit(
        request: Request,
        subject: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        principal: Principal = require_roles(Role.city_office, Role.operator),
    ) -> dict[str, Any]:
        clauses: list[str | None] = []
        params: list[Any] = []
        for column, value in (("subject", subject), ("actor", actor), ("action", action)):
            if value:
                clauses.append(f"{column} = %s")
                params.append(value)
        async with request.app.state.pool.connection() as conn, conn.transaction():
            rows, next_cursor = await TRAIL.fetch(
                conn,
                "id, at, actor, role, scope, action, subject, fields, detail",
                "audit_log",
                clauses,
                params,
                limit=limit,
                cursor=cursor,
                id_field="id",
            )
            await record(conn, principal, "audit.read", subject or "*")
        return {"items": rows, "next_cursor": next_cursor}

    return router
