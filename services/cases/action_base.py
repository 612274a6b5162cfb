"""What the cases service's commands share (`actions.py`, `lifecycle_requests.py`): the engines, the reads
with scope (a case or complaint the caller may see), an Update to a case's live process with the snapshot taken
after it, and an inspector's action recorded with its event and audit row in one transaction."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel
from temporalio.client import Client

from services.cases import domain, record_store, store
from services.common import audit
from services.common.auth import Principal
from services.common.commands import (
    REQUEST_FINGERPRINT,
    ActionLog,
    KeyedRecords,
    in_scope,
)
from services.common.process_gateway import ProcessGateway
from services.contracts.cases_events import ActionRecorded, ProcessSnapshot
from services.contracts.events import EventEnvelope
from services.contracts.lifecycle import (
    CaseStatus,
    Queries,
    case_workflow_id,
)
from services.contracts.process_reports import snapshot_of


class ActionBase:
    """The engines the commands use, and what the inspectors' actions share."""

    def __init__(self, pool: AsyncConnectionPool, client: Client) -> None:
        self._pool = pool
        self._process = ProcessGateway(client, status_query=Queries.STATUS)
        self._documents = KeyedRecords(record_store.find_document, answer=lambda row: {"id": row["document_id"]})
        self._actions = ActionLog(pool, record_store.find_action)

    @property
    def pool(self) -> AsyncConnectionPool:
        return self._pool

    @property
    def processes(self) -> ProcessGateway:
        """The case and complaint workflows, reached through Temporal."""
        return self._process

    # --- reads with scope -----------------------------------------------------------------------------

    async def visible_case(self, principal: Principal, case_id: str) -> dict[str, Any]:
        return await in_scope(
            self._pool, store.get_case, case_id, "case", lambda case: domain.may_see(principal, case["county"])
        )

    async def visible_complaint(self, principal: Principal, complaint_id: str) -> dict[str, Any]:
        return await in_scope(
            self._pool,
            store.get_complaint,
            complaint_id,
            "complaint",
            lambda complaint: domain.may_see(principal, complaint["county"]),
        )

    # --- inspector actions ----------------------------------------------------------------------------

    async def _record_action(
        self,
        *,
        principal: Principal,
        kind: str,
        case: dict[str, Any],
        complaint_id: str | None,
        workflow_id: str | None,
        idempotency_key: str | None,
        request: dict[str, Any],
        payload: ActionRecorded,
        answer: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record the action with its event and audit row; `answer` adds to the response (kept with it, so a
        repeated Idempotency-Key gets it too)."""
        action_id = payload.action_id
        event = EventEnvelope.wrap(payload, subject=case["case_id"], producer="cases")
        response = {
            "action_id": action_id,
            "accepted": True,
            "kind": kind,
            "case_id": case["case_id"],
            "complaint_id": complaint_id,
            "workflow_id": workflow_id,
            "process": payload.process.model_dump(mode="json") if payload.process else None,
            **(answer or {}),
        }
        async with self._pool.connection() as conn, conn.transaction():
            await record_store.insert_action(
                conn,
                action_id=action_id,
                idempotency_key=idempotency_key,
                kind=kind,
                case_id=case["case_id"],
                complaint_id=complaint_id,
                workflow_id=workflow_id,
                actor=principal.client_id,
                request=request,
                response=response,
                event=event,
                request_fingerprint=REQUEST_FINGERPRINT.get(),
                texts=payload.agency_texts(),
            )
            await audit.record(
                conn,
                principal,
                f"case.{kind}",
                complaint_id or case["case_id"],
                detail={"action_id": action_id, "case_id": case["case_id"]},
            )
        return response

    async def repeated_action(self, principal: Principal, idempotency_key: str | None) -> dict[str, Any] | None:
        return await self._actions.repeated(
            idempotency_key, principal, lambda action: self.visible_case(principal, action["case_id"])
        )

    async def _case_update(
        self,
        principal: Principal,
        case_id: str,
        requested_process: str | None,
        update: str,
        arg: BaseModel,
        idempotency_key: str | None,
    ) -> tuple[dict[str, Any], str, str, ProcessSnapshot]:
        case = await self.visible_case(principal, case_id)
        process_case_id = self._target(case, requested_process)
        workflow_id = case_workflow_id(process_case_id)
        update_id = idempotency_key or f"A-{uuid.uuid4().hex[:16].upper()}"
        status = await self._process.update(workflow_id, update, arg, update_id=update_id, result_type=CaseStatus)
        after = await self._process.settled_status(workflow_id, CaseStatus, status)
        return case, process_case_id, workflow_id, snapshot_of(workflow_id, after)

    @staticmethod
    def _target(case: dict[str, Any], requested: str | None) -> str:
        return domain.target_process(list(case["process_case_ids"]), requested)

    def _common(
        self, principal: Principal, case: dict[str, Any], process_case_id: str, snapshot: ProcessSnapshot
    ) -> dict[str, Any]:
        return {
            "action_id": f"A-{uuid.uuid4().hex[:16].upper()}",
            "case_id": case["case_id"],
            "process_case_id": process_case_id,
            "county": case["county"],
            "actor": principal.client_id,
            "process": snapshot,
        }
