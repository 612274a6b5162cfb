"""HTTP routes of the payouts and funds (docs/monitoring.md, "Paying workers from the deposit or the emergency
fund"): thin, HTTP in, command call (`fund_commands.py`), answer out.

- `GET /v1/payouts` (filters, cursor pages), `GET /v1/payouts/{id}`: the payouts cases asked for.
- `POST /v1/payouts/{id}/decision`: the city office approves or refuses (a Temporal Update, answered at once).
- `POST /v1/payouts/{id}/payment`, `POST /v1/payouts/{id}/top-ups`, `POST /v1/payouts/{id}/recoveries`: the
  bank's payout, the deposit's top-ups, the advance's recoveries (the city office or the payout's county).
- `POST /v1/payouts/{id}/write-off`: the city office writes off what is left of an advance never to be repaid.
- `GET /v1/funds`, `PUT /v1/funds/{county}/reserve`: each county's emergency fund and deposits; the reserve.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from services.common.auth import Principal, Role, require_roles
from services.common.commands import fingerprint_request
from services.common.pagination import Cursor, Limit
from services.contracts.guarantee_funds import MAX_AMOUNT, PayoutSource, PayoutStage, WriteOffBasis
from services.monitoring.fund_commands import Payouts
from services.monitoring.payout_store import PayoutFilter

router = APIRouter(prefix="/v1")

# A county's inspectors and bureau head read and record their county's payouts; the city office all of them.
KEEPERS = require_roles(Role.county_inspector, Role.bureau_head, Role.city_office)
CITY_OFFICE = require_roles(Role.city_office)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="The same key again gets the first answer and records nothing twice.",
    ),
]
PayoutId = Annotated[str, Path(max_length=40, examples=["PO-0123456789ABCDEF"])]
Amount = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, decimal_places=2, examples=["120000.00"], description="Yuan")]


def payouts(request: Request) -> Payouts:
    return request.app.state.payouts  # type: ignore[no-any-return]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionIn(_Body):
    decision: Literal["approve", "refuse"]
    reason: str | None = Field(
        None,
        max_length=1000,
        examples=["总包单位已承诺三日内自行支付"],
        description="Why it is refused (required to refuse)",
    )


class PaymentIn(_Body):
    paid_on: date = Field(examples=["2026-12-04"], description="The day the bank paid the workers")


class TopUpIn(_Body):
    topped_up_on: date = Field(examples=["2026-12-15"])
    amount: Amount | None = Field(None, description="Yuan topped up; none: all that is outstanding")


class RecoveryIn(_Body):
    recovered_on: date = Field(examples=["2027-01-20"])
    amount: Amount


class WriteOffIn(_Body):
    basis: WriteOffBasis = Field(
        examples=["enforcement_terminated"],
        description="The ground: the employer deregistered (注销), its bankruptcy closed (破产终结), or the court "
        "ended enforcement (终结执行)",
    )
    reason: str = Field(
        min_length=1,
        max_length=1000,
        examples=["法院裁定终结本次执行程序，用人单位无可供执行财产"],
        description="Why, in the city office's words (kept by the service, never in an event)",
    )


class ReserveIn(_Body):
    reserve: Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2, examples=["10000000.00"])] = Field(
        description="The county's emergency-fund reserve, in yuan"
    )


@router.get("/payouts", tags=["payouts"], summary="Payouts from the deposit or the emergency fund, newest first")
async def list_payouts(
    request: Request,
    county: str | None = None,
    case: Annotated[str | None, Query(max_length=64, description="A ledger case id")] = None,
    project: Annotated[str | None, Query(max_length=40)] = None,
    source: PayoutSource | None = None,
    stage: PayoutStage | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    principal: Principal = KEEPERS,
) -> dict[str, Any]:
    filters = PayoutFilter(
        county=county,
        case_id=case,
        project_id=project,
        source=source.value if source else None,
        stage=stage.value if stage else None,
    )
    return await payouts(request).list(principal, filters, limit=limit, cursor=cursor)


@router.get("/payouts/{payout_id}", tags=["payouts"], summary="One payout, with the money it moved")
async def get_payout(request: Request, payout_id: PayoutId, principal: Principal = KEEPERS) -> dict[str, Any]:
    return await payouts(request).read(principal, payout_id)


@router.post(
    "/payouts/{payout_id}/decision",
    tags=["payouts"],
    dependencies=[Depends(fingerprint_request)],
    summary="Approve (the deposit drawn or the fund's advance made) or refuse a payout: the city office",
)
async def decide_payout(
    request: Request,
    payout_id: PayoutId,
    body: DecisionIn,
    key: IdempotencyKey = None,
    principal: Principal = CITY_OFFICE,
) -> dict[str, Any]:
    return await payouts(request).decide(principal, payout_id, body.decision == "approve", body.reason, key)


@router.post(
    "/payouts/{payout_id}/payment",
    tags=["payouts"],
    dependencies=[Depends(fingerprint_request)],
    summary="Record the bank's payout to the workers, with the day it paid",
)
async def record_payment(
    request: Request, payout_id: PayoutId, body: PaymentIn, key: IdempotencyKey = None, principal: Principal = KEEPERS
) -> dict[str, Any]:
    return await payouts(request).record_paid(principal, payout_id, body.paid_on, key)


@router.post(
    "/payouts/{payout_id}/top-ups",
    tags=["payouts"],
    dependencies=[Depends(fingerprint_request)],
    summary="Record the general contractor's top-up of the deposit a payout drew",
)
async def record_top_up(
    request: Request, payout_id: PayoutId, body: TopUpIn, key: IdempotencyKey = None, principal: Principal = KEEPERS
) -> dict[str, Any]:
    return await payouts(request).record_top_up(principal, payout_id, body.amount, body.topped_up_on, key)


@router.post(
    "/payouts/{payout_id}/recoveries",
    tags=["payouts"],
    dependencies=[Depends(fingerprint_request)],
    summary="Record money the employer paid back on an advance of the emergency fund",
)
async def record_recovery(
    request: Request, payout_id: PayoutId, body: RecoveryIn, key: IdempotencyKey = None, principal: Principal = KEEPERS
) -> dict[str, Any]:
    return await payouts(request).record_recovery(principal, payout_id, body.amount, body.recovered_on, key)


@router.post(
    "/payouts/{payout_id}/write-off",
    tags=["payouts"],
    dependencies=[Depends(fingerprint_request)],
    summary="Write off what is left of an advance of the emergency fund the employer will never repay: the city office",
)
async def write_off(
    request: Request,
    payout_id: PayoutId,
    body: WriteOffIn,
    key: IdempotencyKey = None,
    principal: Principal = CITY_OFFICE,
) -> dict[str, Any]:
    return await payouts(request).write_off(principal, payout_id, body.basis, body.reason, key)


@router.get("/funds", tags=["funds"], summary="Each county's emergency fund and wage deposits, with the city's totals")
async def list_funds(request: Request, principal: Principal = KEEPERS) -> dict[str, Any]:
    return await payouts(request).funds(principal)


@router.put("/funds/{county}/reserve", tags=["funds"], summary="Set a county's emergency-fund reserve: the city office")
async def set_reserve(
    request: Request,
    body: ReserveIn,
    county: Annotated[str, Path(pattern=r"^\d{6}$", examples=["130403"])],
    principal: Principal = CITY_OFFICE,
) -> dict[str, Any]:
    return await payouts(request).set_reserve(principal, county, body.reserve)
