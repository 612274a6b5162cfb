"""HTTP routes of the referrals service: thin, HTTP in, domain call, store, workflow call out.

Here, with what every route module of the service shares (the roles that read, the `Idempotency-Key` header,
the commands on the app, amounts kept exact in JSON):

- `POST /v1/letters`, `/v1/referrals`, `/v1/referrals/{id}/supplements`, `/v1/referrals/{id}/withdrawal`: what
  the lifecycle's activities ask for, idempotent by `Idempotency-Key`.
- `/v1/letters/{id}` and `/v1/letters/{id}/pdf`: letters and their PDF, to the addressee and the agencies
  that see the case; `/v1/case-facts`: the case facts the letters quote.
- `/v1/departments`: the configured departments.

A department's handoffs are in `handoff_api.py` (inbox, acknowledgement, response with files, return), the
receiving bodies' referrals in `referral_api.py` (inboxes and answers, an arbitration body's award and its
extension, inspectors' fast-track referrals).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from services.common.auth import LIFECYCLE_CALLER, Principal, Role, require_roles
from services.common.openapi import (
    CREATED_OR_REPEATED,
    created_or_repeated,
    file_responses,
    idempotency_key,
)
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.contracts.lifecycle import (
    DepartmentTerms,
    LetterRequest,
    ReferralRequest,
    ReferralSupplementRequest,
    WithdrawReferralRequest,
)
from services.referrals.commands import Referrals

router = APIRouter(prefix="/v1")

READERS = require_roles(*Role)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def referrals(request: Request) -> Referrals:
    return request.app.state.referrals  # type: ignore[no-any-return]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    # Amounts stay exact: Decimal as a string, never a float.
    return jsonable_encoder(row, custom_encoder={Decimal: str})  # type: ignore[no-any-return]


# --- the lifecycle's requests --------------------------------------------------------------------------


@router.post(
    "/letters",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Issue a handoff letter or a ladder letter (交办函 … 问责移交单)",
)
async def post_letter(request: Request, body: LetterRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await referrals(request).issue_letter(idempotency_key(key), body))


@router.post(
    "/referrals",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Refer a case to the police, procuratorate or arbitration",
)
async def post_referral(request: Request, body: ReferralRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await referrals(request).make_referral(idempotency_key(key), body))


@router.post(
    "/referrals/{referral_id}/supplements",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Send the receiving body a supplementary notice (补充材料函): wages paid after the referral",
)
async def post_supplement(
    request: Request, referral_id: str, body: ReferralSupplementRequest, key: IdempotencyKey = None
) -> JSONResponse:
    if body.referral_id != referral_id:
        raise Problem(422, "Referral ids differ", "the path and the body name different referrals")
    return created_or_repeated(*await referrals(request).supplement_referral(idempotency_key(key), body))


@router.post(
    "/referrals/{referral_id}/withdrawal",
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Withdraw a referral (paid in full before the police opened a case)",
)
async def post_withdrawal(
    request: Request, referral_id: str, body: WithdrawReferralRequest, key: IdempotencyKey = None
) -> dict[str, Any]:
    if body.referral_id != referral_id:
        raise Problem(422, "Referral ids differ", "the path and the body name different referrals")
    return await referrals(request).withdraw(idempotency_key(key), body)


# --- letters -----------------------------------------------------------------------------------------------


@router.get("/letters", tags=["letters"], summary="Letters of a case, handoff or referral")
async def list_letters(
    request: Request,
    case_id: str | None = None,
    handoff_id: str | None = None,
    referral_id: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    rows, next_cursor = await referrals(request).letters(
        principal, case_id=case_id, handoff_id=handoff_id, referral_id=referral_id, limit=limit, cursor=cursor
    )
    return {"items": [_jsonable(r) for r in rows], "next_cursor": next_cursor}


@router.get("/letters/{letter_id}", tags=["letters"], summary="A letter's record: number, dates, facts, hash")
async def get_letter(request: Request, letter_id: str, principal: Principal = READERS) -> dict[str, Any]:
    return _jsonable(await referrals(request).letter(principal, letter_id))


@router.get(
    "/letters/{letter_id}/pdf",
    tags=["letters"],
    summary="The letter as PDF",
    response_class=Response,
    responses=file_responses("application/pdf"),
)
async def get_letter_pdf(request: Request, letter_id: str, principal: Principal = READERS) -> Response:
    row, pdf = await referrals(request).letter_pdf(principal, letter_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{letter_id}.pdf"',
            "ETag": f'"{row["sha256"]}"',
            "X-Content-SHA256": row["sha256"],
        },
    )


# --- case facts --------------------------------------------------------------------------------------------


@router.get(
    "/case-facts",
    tags=["letters"],
    summary="The case facts letters quote (from intake's and cases' events), by case or complaint id",
)
async def case_facts(
    request: Request, case_id: str | None = None, complaint_id: str | None = None, principal: Principal = READERS
) -> dict[str, Any]:
    if not case_id and not complaint_id:
        raise Problem(400, "Filter required", "name a case_id or a complaint_id")
    return _jsonable(await referrals(request).case_facts(principal, case_id=case_id, complaint_id=complaint_id))


# --- departments -------------------------------------------------------------------------------------------


@router.get("/departments", tags=["departments"], summary="The configured departments with deadlines and ladder")
async def departments(request: Request, principal: Principal = READERS) -> dict[str, Any]:
    config = request.app.state.departments
    return {
        "bureau": config.bureau.model_dump(mode="json"),
        "departments": [d.model_dump(mode="json") for d in config.departments],
        "project_ladder": config.project_ladder.model_dump(mode="json"),
    }


@router.get(
    "/departments/{department_id}/terms",
    tags=["departments"],
    response_model=DepartmentTerms,
    summary="A department's own response days and ladder (what the case workflow's handoff follows)",
)
async def department_terms(request: Request, department_id: str, principal: Principal = READERS) -> DepartmentTerms:
    department = request.app.state.departments.get(department_id)
    if department is None:
        raise Problem(404, "No such department", f"department {department_id!r} is not in the directory")
    return department.terms()  # type: ignore[no-any-return]
