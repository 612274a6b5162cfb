"""The inspector's new totals for a case that grew after verification (a complaint joined the verified case):
sent to the case's workflow as its `confirm_figures` update, which issues an amended order when the case now
owes more than the order states (workflows/case/growth.py), and recorded with its event as the other actions
are (services/cases/actions.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.cases.actions import contract_model
from services.common.auth import Principal
from services.contracts.case_decision_events import FiguresConfirmed
from services.contracts.lifecycle import FiguresConfirmation, Updates

if TYPE_CHECKING:
    from services.cases.actions import Cases


async def confirm_figures(
    cases: Cases, principal: Principal, case_id: str, body: dict[str, Any], process: str | None, key: str | None
) -> dict[str, Any]:
    confirmation = contract_model(FiguresConfirmation, confirmed_by=principal.client_id, **body)
    case, pid, workflow_id, snapshot = await cases._case_update(
        principal, case_id, process, Updates.CONFIRM_FIGURES, confirmation, key
    )
    payload = FiguresConfirmed(
        **cases._common(principal, case, pid, snapshot),
        confirmed_amount=confirmation.confirmed_amount,
        confirmed_workers=confirmation.confirmed_workers,
        notes=confirmation.notes,
    )
    return await cases._record_action(
        principal=principal,
        kind="figures_confirmation",
        case=case,
        complaint_id=None,
        workflow_id=workflow_id,
        idempotency_key=key,
        request=confirmation.model_dump(mode="json"),
        payload=payload,
    )
