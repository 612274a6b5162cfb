"""HTTP routes of the cases service for paying a refused case's workers from the project's wage deposit or the
emergency fund: the inspector's (or the bureau head's) decision, answered at once like every action
(`action_api.py`, whose `CaseActionBody` it shares; a repeated `Idempotency-Key` gets the first answer), and the
case's payouts as its process and the ledger know them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from services.cases import payout_actions
from services.cases.action_api import CaseActionBody
from services.cases.api import READERS, IdempotencyKey, cases, once
from services.cases.store import Conn
from services.common.auth import Principal, Role, require_roles
from services.common.commands import fingerprint_request
from services.contracts.guarantee_funds import MAX_AMOUNT, PayoutSource

# The county's inspectors and its bureau head decide a payout (the city office approves it, in monitoring).
DECIDERS = require_roles(Role.county_inspector, Role.bureau_head)

router = APIRouter(prefix="/v1")


class PayoutBody(CaseActionBody):
    source: PayoutSource = Field(description="deposit (动用工资保证金) or emergency_fund (应急周转金先行垫付).")
    amount: Decimal = Field(gt=0, le=MAX_AMOUNT, max_digits=14, decimal_places=2, description="Yuan, to the fen.")
    workers_paid: int = Field(ge=1, le=100_000, description="How many workers the payout pays.")
    project_id: str | None = Field(
        None, max_length=40, description="The register's project (`PRJ-…`): required for the deposit."
    )


@router.post(
    "/cases/{case_id}/payouts",
    tags=["actions"],
    dependencies=[Depends(fingerprint_request)],
    summary="Pay the workers from the wage deposit or the emergency fund, once the order's deadline passed unpaid "
    "(动用工资保证金 / 应急周转金先行垫付)",
)
async def decide_payout(
    request: Request,
    case_id: str,
    body: PayoutBody,
    key: IdempotencyKey = None,
    principal: Principal = DECIDERS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: payout_actions.decide_payout(
            commands, principal, case_id, body.contract_fields(), body.process_case_id, key
        ),
    )


@router.get("/cases/{case_id}/payouts", tags=["ledger"], summary="The case's payouts from deposits and funds")
async def list_payouts(request: Request, case_id: str, principal: Principal = READERS) -> dict[str, Any]:
    commands = cases(request)
    case = await commands.visible_case(principal, case_id)
    async with commands.pool.connection() as conn:
        rows = await case_payouts(conn, case["case_id"])
    paid = [r for r in rows if r["paid_on"] is not None]
    return {
        "case_id": case["case_id"],
        "items": rows,
        # What the workers received from deposits and funds: not the employer's payment (`amount_recovered`).
        "paid_amount": sum((r["amount_paid"] for r in paid), Decimal(0)),
        "workers_paid": sum(r["workers_paid"] for r in paid),
    }


async def case_payouts(conn: Conn, case_id: str) -> list[dict[str, Any]]:
    """The ledger case's payouts (table `case_payouts`, kept by `payout_projection.py`), oldest first."""
    cursor = await conn.execute(
        "SELECT payout_id, process_case_id, source, project_id, sequence, stage, amount_requested, amount_paid, "
        "workers_paid, paid_on, owed_back, requested_by, requested_at, updated_at FROM case_payouts "
        "WHERE case_id = %s ORDER BY requested_at, payout_id",
        (case_id,),
    )
    return await cursor.fetchall()
