"""The register's commands: register, change and import projects, each change with its audit row and its event
in the one transaction that makes it.

Scope: a county's inspectors and bureau head see and change their county's projects, the city office all
(`Principal.may_see_county`). A project out of the caller's scope is answered as one that does not exist.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from psycopg.errors import UniqueViolation
from psycopg_pool import AsyncConnectionPool

from services.common import audit
from services.common.auth import Principal
from services.common.commands import REQUEST_FINGERPRINT, ActionLog
from services.common.errors import Conflict, Forbidden, NotFound
from services.contracts.monitoring_events import ProjectFacts, ProjectRegistered, ProjectUpdated
from services.monitoring import store
from services.monitoring.domain import ProjectDraft, draft_of, merge_patch
from services.monitoring.import_rows import FileFormat, ParsedRow, parse_file
from services.monitoring.project_validation import validate_project

OUT_OF_SCOPE = "This client registers projects of its own county only; the project is in county {county}."
CODE_ELSEWHERE = "A project with this code is registered in a county this client does not see."


def new_project_id() -> str:
    return f"PRJ-{uuid.uuid4().hex[:16].upper()}"


def view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A project as the API answers it: its facts, and when it was registered and last changed."""
    return {
        **store.facts_of(dict(row)).model_dump(mode="json"),
        "registered_at": row["registered_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


class Register:
    def __init__(self, pool: AsyncConnectionPool, today: Callable[[], date]) -> None:
        self.pool = pool
        self.today = today
        self.requests = ActionLog(pool, store.find_request)

    # --- reading --------------------------------------------------------------------------------------------

    async def visible(self, principal: Principal, project_id: str) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            row = await store.get_project(conn, project_id)
        if row is None or not principal.may_see_county(row["county"]):
            raise NotFound("No such project", f"project {project_id} was not found in your scope")
        return row

    async def read(self, principal: Principal, project_id: str) -> dict[str, Any]:
        return view(await self.visible(principal, project_id))

    # --- registering ----------------------------------------------------------------------------------------

    async def register(
        self, principal: Principal, body: Mapping[str, Any], key: str | None
    ) -> tuple[dict[str, Any], bool]:
        """(the project, whether it was registered now). A repeated Idempotency-Key gets the first answer."""

        async def still_visible(row: dict[str, Any]) -> None:
            await self.visible(principal, row["project_id"])

        repeated = await self.requests.repeated(key, principal, still_visible)
        if repeated is not None:
            return repeated, False
        draft = validate_project(body, today=self.today())
        self._check_scope(principal, draft.county)
        try:
            async with self.pool.connection() as conn, conn.transaction():
                await store.lock_code(conn, draft.code)
                existing = await store.project_by_code(conn, draft.code)
                if existing is not None:
                    if principal.may_see_county(existing["county"]):
                        raise Conflict(
                            "Project already registered",
                            f"project {existing['project_id']} has code {draft.code}; change it with PUT or PATCH",
                            code="project-registered",
                            project_id=existing["project_id"],
                        )
                    raise Conflict("Project already registered", CODE_ELSEWHERE, code="project-registered")
                row = await self._insert(conn, principal, draft, source="api")
                answer = view(row)
                if key:
                    await store.insert_request(
                        conn, key, principal.client_id, REQUEST_FINGERPRINT.get(), row["project_id"], answer
                    )
        except UniqueViolation:
            # The same key, sent twice at once: the first one's answer (or its refusal) is this one's.
            repeated = await self.requests.repeated(key, principal, still_visible)
            if repeated is None:
                raise
            return repeated, False
        return answer, True

    async def _insert(
        self, conn: store.Conn, principal: Principal, draft: ProjectDraft, *, source: str
    ) -> dict[str, Any]:
        facts = draft.facts(new_project_id(), 1)
        row = await store.insert_project(conn, facts, principal.client_id)
        await audit.record(
            conn,
            principal,
            "project.registered",
            facts.project_id,
            detail={"code": facts.code, "county": facts.county, "source": source},
        )
        await store.emit(conn, facts.project_id, ProjectRegistered(project=facts, source=source))
        return row

    def _check_scope(self, principal: Principal, county: str) -> None:
        if not principal.may_see_county(county):
            raise Forbidden(OUT_OF_SCOPE.format(county=county))

    # --- changing -------------------------------------------------------------------------------------------

    async def replace(self, principal: Principal, project_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT: the project as `body` gives it whole."""
        return await self._change(principal, project_id, lambda _current: body)

    async def patch(self, principal: Principal, project_id: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH: the fields `patch` names replaced, the others kept (a JSON merge patch at the top level)."""
        return await self._change(principal, project_id, lambda current: merge_patch(current, patch))

    async def _change(
        self, principal: Principal, project_id: str, new_body: Callable[[dict[str, Any]], Mapping[str, Any]]
    ) -> dict[str, Any]:
        await self.visible(principal, project_id)
        async with self.pool.connection() as conn, conn.transaction():
            row = await store.get_project(conn, project_id, lock=True)
            assert row is not None  # projects are never deleted
            before = draft_of(store.facts_of(row))
            draft = validate_project(new_body(before.as_json()), today=self.today())
            self._check_scope(principal, draft.county)
            if draft.code != before.code:
                await store.lock_code(conn, draft.code)
            if draft.code != before.code and await store.project_by_code(conn, draft.code) is not None:
                raise Conflict(
                    "Project code taken", f"another project has code {draft.code}", code="project-code-taken"
                )
            changed = draft.changed_from(before)
            if not changed:
                return {**view(row), "changed": []}
            row = await self._update(conn, principal, store.facts_of(row), draft, changed, source="api")
        return {**view(row), "changed": changed}

    async def _update(
        self,
        conn: store.Conn,
        principal: Principal,
        current: ProjectFacts,
        draft: ProjectDraft,
        changed: list[str],
        *,
        source: str,
    ) -> dict[str, Any]:
        facts = draft.facts(current.project_id, current.version + 1)
        row = await store.update_project(conn, facts)
        await audit.record(
            conn,
            principal,
            "project.updated",
            facts.project_id,
            fields=changed,
            detail={"version": facts.version, "source": source},
        )
        await store.emit(conn, facts.project_id, ProjectUpdated(project=facts, changed=changed, source=source))
        return row

    # --- importing ------------------------------------------------------------------------------------------

    async def import_file(self, principal: Principal, data: bytes, fmt: FileFormat) -> dict[str, Any]:
        """Every row checked; the valid rows in the caller's scope registered (or, for a code already
        registered, changed); one result per row. The same file again changes nothing (`unchanged`)."""
        results = [await self._import_row(principal, parsed) for parsed in parse_file(data, fmt, today=self.today())]
        counts: dict[str, int] = {}
        for result in results:
            counts[result["result"]] = counts.get(result["result"], 0) + 1
        async with self.pool.connection() as conn, conn.transaction():
            # The file by its hash (its name is the client's free text): which file it was can be proven later.
            digest = hashlib.sha256(data).hexdigest()
            await audit.record(
                conn,
                principal,
                "project.import",
                f"import:{digest[:16]}",
                detail={"format": fmt, "sha256": digest, "rows": len(results), "counts": counts},
            )
        return {"format": fmt, "rows": len(results), "counts": counts, "results": results}

    async def _import_row(self, principal: Principal, parsed: ParsedRow) -> dict[str, Any]:
        if parsed.project is None:
            return {"row": parsed.row, "result": "invalid", "errors": [e.as_dict() for e in parsed.errors]}
        draft = parsed.project
        if not principal.may_see_county(draft.county):
            return {
                "row": parsed.row,
                "result": "refused",
                "code": draft.code,
                "errors": [
                    {"field": "county", "code": "out_of_scope", "message": OUT_OF_SCOPE.format(county=draft.county)}
                ],
            }
        async with self.pool.connection() as conn, conn.transaction():
            await store.lock_code(conn, draft.code)
            existing = await store.project_by_code(conn, draft.code, lock=True)
            if existing is None:
                row = await self._insert(conn, principal, draft, source="import")
                return {"row": parsed.row, "result": "registered", "code": draft.code, "project_id": row["project_id"]}
            if not principal.may_see_county(existing["county"]):
                return {
                    "row": parsed.row,
                    "result": "refused",
                    "code": draft.code,
                    "errors": [{"field": "code", "code": "out_of_scope", "message": CODE_ELSEWHERE}],
                }
            current = store.facts_of(existing)
            changed = draft.changed_from(draft_of(current))
            if not changed:
                return {
                    "row": parsed.row,
                    "result": "unchanged",
                    "code": draft.code,
                    "project_id": existing["project_id"],
                }
            await self._update(conn, principal, current, draft, changed, source="import")
        return {
            "row": parsed.row,
            "result": "updated",
            "code": draft.code,
            "project_id": existing["project_id"],
            "changed": changed,
        }
