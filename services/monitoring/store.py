"""The monitoring service's SQL: the project register, each change written with its event in one transaction
(`add_event_async`; several events of one change with `add_events_async`), and the answers given to requests made with an Idempotency-Key."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from services.common.outbox import add_event_async, add_events_async
from services.common.pagination import Keyset
from services.contracts.events import EventEnvelope
from services.contracts.monitoring_events import MonitoringEvent, ProjectFacts

Conn = AsyncConnection[Any]

PRODUCER = "monitoring"
COLUMNS = "project_id, code, county, department, name, facts, version, registered_by, registered_at, updated_at"


async def emit(conn: Conn, subject: str, payload: MonitoringEvent) -> None:
    await add_event_async(conn, payload.TOPIC, EventEnvelope.wrap(payload, subject=subject, producer=PRODUCER))


async def emit_all(conn: Conn, subject: str, payloads: list[MonitoringEvent]) -> None:
    """Several events of one change, in their order: one statement for each run of events on the same topic."""
    for topic, run in groupby(payloads, key=lambda payload: payload.TOPIC):
        envelopes = [EventEnvelope.wrap(payload, subject=subject, producer=PRODUCER) for payload in run]
        await add_events_async(conn, topic, envelopes)


def facts_of(row: dict[str, Any]) -> ProjectFacts:
    return ProjectFacts.model_validate({**row["facts"], "project_id": row["project_id"], "version": row["version"]})


def _facts_json(facts: ProjectFacts) -> Jsonb:
    return Jsonb(facts.model_dump(mode="json", exclude={"project_id", "version"}))


async def insert_project(conn: Conn, facts: ProjectFacts, registered_by: str) -> dict[str, Any]:
    cur = await conn.execute(
        f"INSERT INTO projects (project_id, code, county, department, name, facts, has_wage_account, has_deposit, "
        f"version, registered_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}",
        (
            facts.project_id,
            facts.code,
            facts.county,
            facts.department,
            facts.name,
            _facts_json(facts),
            facts.wage_account is not None,
            facts.deposit is not None,
            facts.version,
            registered_by,
        ),
    )
    row = await cur.fetchone()
    assert row is not None
    return row


async def update_project(conn: Conn, facts: ProjectFacts) -> dict[str, Any]:
    """Write `facts` over the project's version before it (`facts.version - 1`); None-safe callers hold the row lock."""
    cur = await conn.execute(
        f"UPDATE projects SET code = %s, county = %s, department = %s, name = %s, facts = %s, has_wage_account = %s, "
        f"has_deposit = %s, version = %s, updated_at = now() WHERE project_id = %s AND version = %s RETURNING {COLUMNS}",
        (
            facts.code,
            facts.county,
            facts.department,
            facts.name,
            _facts_json(facts),
            facts.wage_account is not None,
            facts.deposit is not None,
            facts.version,
            facts.project_id,
            facts.version - 1,
        ),
    )
    row = await cur.fetchone()
    assert row is not None, "the project changed under its row lock"
    return row


async def get_project(conn: Conn, project_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {COLUMNS} FROM projects WHERE project_id = %s" + (" FOR UPDATE" if lock else ""), (project_id,)
    )
    return await cur.fetchone()


async def project_by_code(conn: Conn, code: str, *, lock: bool = False) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"SELECT {COLUMNS} FROM projects WHERE code = %s" + (" FOR UPDATE" if lock else ""), (code,)
    )
    return await cur.fetchone()


async def lock_code(conn: Conn, code: str) -> None:
    """Serialise the registrations of one project code (an import and a POST racing on a new code)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('monitoring.project:' || %s, 0))", (code,))


# --- listing --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectFilter:
    county: str | None = None
    department: str | None = None
    # True: only projects with no dedicated wage account (no deposit) recorded.
    no_wage_account: bool = False
    no_deposit: bool = False


# The register newest first, paged as every list is (services/common/pagination.py).
PROJECTS = Keyset("projects", "registered_at", "timestamptz", "project_id")


async def list_projects(
    conn: Conn, f: ProjectFilter, *, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of projects, newest first, and the cursor of the next page (None on the last)."""
    clauses: list[str | None] = []
    params: list[Any] = []
    if f.county is not None:
        clauses.append("county = %s")
        params.append(f.county)
    if f.department is not None:
        clauses.append("department = %s")
        params.append(f.department)
    if f.no_wage_account:
        clauses.append("NOT has_wage_account")
    if f.no_deposit:
        clauses.append("NOT has_deposit")
    return await PROJECTS.fetch(
        conn, COLUMNS, "projects", clauses, params, limit=limit, cursor=after, id_field="project_id"
    )


# --- requests made with an Idempotency-Key ----------------------------------------------------------------------


async def find_request(conn: Conn, key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT idempotency_key, actor, request_fingerprint, project_id, response FROM project_requests "
        "WHERE idempotency_key = %s",
        (key,),
    )
    return await cur.fetchone()


async def insert_request(
    conn: Conn, key: str, actor: str, fingerprint: str | None, project_id: str, response: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO project_requests (idempotency_key, actor, request_fingerprint, project_id, response) "
        "VALUES (%s, %s, %s, %s, %s)",
        (key, actor, fingerprint, project_id, Jsonb(response)),
    )
