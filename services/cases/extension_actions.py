"""The city office's refusal of a pending extension request: the request is closed as refused and the refusal
recorded with its event as the other actions are (services/cases/actions.py). The case's workflow is not told:
only an approval changes its investigation limit, so a refused request leaves the process as it was and the
county may ask again while the limit has not passed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.cases import record_store
from services.common.auth import Principal
from services.common.errors import Refused
from services.contracts.case_decision_events import ExtensionRefused
from services.contracts.lifecycle import CaseStatus, case_workflow_id
from services.contracts.process_reports import snapshot_of

if TYPE_CHECKING:
    from services.cases.actions import Cases


async def refuse_extension(
    cases: Cases, principal: Principal, case_id: str, reason: str, process: str | None, key: str | None
) -> dict[str, Any]:
    case = await cases.visible_case(principal, case_id)
    pid = cases._target(case, process)
    async with cases._pool.connection() as conn:
        pending = await record_store.pending_extension(conn, pid)
    if pending is None:
        raise Refused("No extension request", "没有待审批的延期申请 (no extension request is pending for this case)")
    workflow_id = case_workflow_id(pid)
    status = await cases._process.require_status(workflow_id, CaseStatus)
    payload = ExtensionRefused(
        **cases._common(principal, case, pid, snapshot_of(workflow_id, status)),
        request_id=pending["request_id"],
        reason=reason,
    )
    async with cases._pool.connection() as conn:
        await record_store.decide_extension(conn, pending["request_id"], principal.client_id, "refused")
    response = await cases._record_action(
        principal=principal,
        kind="extension.refused",
        case=case,
        complaint_id=None,
        workflow_id=workflow_id,
        idempotency_key=key,
        request={"reason": reason, "request_id": pending["request_id"]},
        payload=payload,
    )
    return {**response, "request_id": pending["request_id"], "status": "refused"}
