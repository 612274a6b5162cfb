"""The inspector's decision to have a refused case's workers paid from the project's wage deposit
(动用工资保证金) or with an advance from the county's emergency fund (应急周转金先行垫付): sent to the case's
workflow as its `decide_payout` update, whose validator allows it only after the order's deadline passed unpaid
and for at most the wages no payout covers yet, and which asks the monitoring service for the payout
(services/contracts/case_payouts.py); recorded with its event as the other actions are
(services/cases/actions.py). The city office approves the payout in the monitoring service."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from services.cases.actions import contract_model
from services.common.auth import Principal
from services.contracts.case_payout_events import PayoutDecided
from services.contracts.case_payouts import CasePayoutMessages, CasePayouts, PayoutDecision
from services.contracts.lifecycle import CaseStatus, case_workflow_id
from services.contracts.process_reports import snapshot_of

if TYPE_CHECKING:
    from services.cases.actions import Cases


def decision_id(principal: Principal, key: str | None) -> str:
    """The decision's id: one per client and Idempotency-Key (so the same request again asks the monitoring
    service once), or a new one without a key."""
    if key is None:
        return f"PD-{uuid.uuid4().hex[:16].upper()}"
    return "PD-" + hashlib.sha256(f"{principal.client_id}\n{key}".encode()).hexdigest()[:24].upper()


async def decide_payout(
    cases: Cases, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
) -> dict[str, Any]:
    decision = contract_model(
        PayoutDecision, decision_id=decision_id(principal, key), decided_by=principal.client_id, **body
    )
    case = await cases.visible_case(principal, case_id)
    pid = cases._target(case, process)
    workflow_id = case_workflow_id(pid)
    payouts = await cases.processes.update(
        workflow_id,
        CasePayoutMessages.DECIDE_PAYOUT,
        decision,
        update_id=decision.decision_id,
        result_type=CasePayouts,
    )
    payout = next(p for p in payouts.items if p.decision_id == decision.decision_id)
    assert payout.payout_id is not None  # the update answers once the monitoring service took the request
    status = await cases.processes.require_status(workflow_id, CaseStatus)
    payload = PayoutDecided(
        **cases._common(principal, case, pid, snapshot_of(workflow_id, status)),
        decision_id=decision.decision_id,
        payout_id=payout.payout_id,
        source=decision.source.value,
        amount=decision.amount,
        workers_paid=decision.workers_paid,
        project_id=decision.project_id,
    )
    return await cases._record_action(
        principal=principal,
        kind="payout",
        case=case,
        complaint_id=None,
        workflow_id=workflow_id,
        idempotency_key=key,
        request=decision.model_dump(mode="json"),
        payload=payload,
        answer={
            "payout": payout.model_dump(mode="json"),
            "payouts": payouts.model_dump(mode="json", exclude={"items"}),
        },
    )
