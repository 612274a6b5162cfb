"""HTTP routes of the cases service: thin, HTTP in, domain call, store, workflow call out.

This module holds what every router of the service shares (the roles, the `Idempotency-Key` header, the
commands, `once`) and the routes of the lifecycle's requests: `/v1/notices`, `/v1/forwardings`, `/v1/orders`,
`/v1/compensation-decisions`, `/v1/process-reports`, idempotent by `Idempotency-Key`. The other routers, by
resource:

- `ledger_api.py`: the ledger — `/v1/cases` (the queue), `/v1/cases/{id}`, its timeline and documents,
  `/v1/documents/{id}.pdf`, `/v1/complaints`, `/v1/extension-requests`;
- `report_api.py`: `/v1/statistics`, `/v1/reports` (figures, CSV, workbooks and charts) and, without a token,
  `/v1/public/statistics`;
- `action_api.py`: the inspectors' actions on complaints and cases, answered at once, and `decision_api.py`: the
  requests that wait on a second person's decision and the confirmations of dates and totals;
- `export_api.py` (the queue as a workbook), `circular_api.py` (the quarterly circular per county).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from services.cases import domain
from services.cases.actions import Cases
from services.common.auth import LIFECYCLE_CALLER, Principal, Role, require_roles
from services.common.openapi import CREATED_OR_REPEATED, created_or_repeated, idempotency_key
from services.contracts.lifecycle import (
    AgencyNotice,
    CompensationRequest,
    ForwardRequest,
    OrderToPayRequest,
)
from services.contracts.process_reports import ProcessReport

router = APIRouter(prefix="/v1")

READERS = require_roles(*domain.READ_ROLES)
ACTORS = require_roles(*domain.ACT_ROLES)
CITY = require_roles(Role.city_office)
BUREAU_HEAD = require_roles(Role.bureau_head)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


class _Body(BaseModel):
    """A request body of the agencies' routes: members it does not name are refused."""

    model_config = ConfigDict(extra="forbid")


def cases(request: Request) -> Cases:
    return request.app.state.cases  # type: ignore[no-any-return]


async def once(
    request: Request, key: str | None, principal: Principal, act: Callable[[Cases], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """An inspector action; with an Idempotency-Key this client already used for this request, the answer it got
    the first time (services/common/commands.py, `ActionLog`)."""
    commands = cases(request)
    repeated = await commands.repeated_action(principal, key)
    return repeated if repeated is not None else await act(commands)


# --- the lifecycle's requests --------------------------------------------------------------------------


@router.post(
    "/notices",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Record a notice to an office (reminder, overdue, warning)",
)
async def post_notice(request: Request, notice: AgencyNotice, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).notice(idempotency_key(key), notice))


@router.post(
    "/process-reports",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Record a workflow's state as it reported it (one report per change)",
)
async def post_process_report(request: Request, body: ProcessReport, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).process_report(idempotency_key(key), body))


@router.post(
    "/forwardings",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Forward a complaint to the competent office (转送)",
)
async def post_forwarding(request: Request, body: ForwardRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).forwarding(idempotency_key(key), body))


@router.post(
    "/orders",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Issue an order to pay by a deadline (限期改正指令书)",
)
async def post_order(request: Request, body: OrderToPayRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).order(idempotency_key(key), body))


@router.post(
    "/compensation-decisions",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Decide additional compensation (加付赔偿金)",
)
async def post_compensation(request: Request, body: CompensationRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await cases(request).compensation(idempotency_key(key), body))
