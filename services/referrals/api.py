"""HTTP routes of the referrals service: thin, HTTP in, domain call, store, workflow call out.

- `POST /v1/letters`, `/v1/referrals`, `/v1/referrals/{id}/withdrawal`: what the lifecycle's activities
  ask for, idempotent by `Idempotency-Key`.
- `/v1/letters/{id}` and `/v1/letters/{id}/pdf`: letters and their PDF, to the addressee and the agencies
  that see the case.
- `/v1/handoffs…`: a department's inbox, acknowledgement, response (with files) and return.
- `/v1/referrals…`: the receiving bodies' inboxes and answers (an arbitration body's award and its
  extension too); inspectors' fast-track referrals.
- `/v1/departments`: the configured departments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.auth import LIFECYCLE_CALLER, Principal, Role, require_roles
from services.common.commands import request_hash
from services.common.downloads import OPAQUE, SAFE_MEDIA_TYPES, attachment
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
from services.contracts.referrals_events import (
    DeclineReason,
    HandoffOutcome,
    HandoffStatus,
    ReferralDecision,
    ReferralKind,
    ReturnReason,
)
from services.referrals.award import ArbitrationAnswers
from services.referrals.commands import Referrals

router = APIRouter(prefix="/v1")

READERS = require_roles(*Role)
DEPARTMENT = require_roles(Role.department)
RECEIVERS = require_roles(Role.police, Role.procuratorate, Role.arbitration, Role.legal_aid)
INSPECTORS = require_roles(Role.county_inspector, Role.city_office)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def referrals(request: Request) -> Referrals:
    return request.app.state.referrals  # type: ignore[no-any-return]


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


# --- handoffs ----------------------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttachedFile(_Body):
    name: str = Field(min_length=1, max_length=200)
    media_type: str = Field("application/pdf", max_length=100)
    content_base64: str = Field(min_length=4, max_length=700_000)


class ResponseBody(_Body):
    outcome: HandoffOutcome
    summary: str = Field(min_length=2, max_length=4000)
    files: list[AttachedFile] = Field(default_factory=list, max_length=10)


class ReturnBody(_Body):
    reason: ReturnReason
    explanation: str = Field(min_length=2, max_length=4000)


@router.get("/handoffs", tags=["handoffs"], summary="Handoffs: a department's inbox (its own only), or by county")
async def list_handoffs(
    request: Request,
    status: HandoffStatus | None = None,
    case_id: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    rows, next_cursor = await referrals(request).handoffs(
        principal, status=status.value if status else None, case_id=case_id, limit=limit, cursor=cursor
    )
    return {"items": [_jsonable(r) for r in rows], "next_cursor": next_cursor}


@router.get("/handoffs/{handoff_id}", tags=["handoffs"], summary="A handoff with its letters")
async def get_handoff(request: Request, handoff_id: str, principal: Principal = READERS) -> dict[str, Any]:
    return _jsonable(await referrals(request).handoff(principal, handoff_id))


@router.post("/handoffs/{handoff_id}/acknowledgement", tags=["handoffs"], summary="Acknowledge receipt (签收)")
async def acknowledge(request: Request, handoff_id: str, principal: Principal = DEPARTMENT) -> dict[str, Any]:
    return _jsonable(await referrals(request).acknowledge(principal, handoff_id))


@router.post(
    "/handoffs/{handoff_id}/response",
    tags=["handoffs"],
    summary="Report the outcome with files (办理结果反馈); the case process decides anew",
)
async def respond(
    request: Request, handoff_id: str, body: ResponseBody, principal: Principal = DEPARTMENT
) -> dict[str, Any]:
    files = [f.model_dump() for f in body.files]
    return _jsonable(await referrals(request).respond(principal, handoff_id, body.outcome, body.summary, files))


@router.post(
    "/handoffs/{handoff_id}/return",
    tags=["handoffs"],
    summary="Return the handoff with a reason (退回); the case process decides anew",
)
async def return_handoff(
    request: Request, handoff_id: str, body: ReturnBody, principal: Principal = DEPARTMENT
) -> dict[str, Any]:
    return _jsonable(await referrals(request).return_handoff(principal, handoff_id, body.reason, body.explanation))


@router.get(
    "/handoffs/{handoff_id}/files/{file_id}",
    tags=["handoffs"],
    summary="A file of a response, as a download (its type as sent only if it cannot carry script)",
    response_class=Response,
    responses=file_responses(*sorted(SAFE_MEDIA_TYPES), OPAQUE),
)
async def get_handoff_file(request: Request, handoff_id: str, file_id: str, principal: Principal = READERS) -> Response:
    row = await referrals(request).handoff_file(principal, handoff_id, file_id)
    return attachment(
        bytes(row["content"]),
        name=row["name"],
        media_type=row["media_type"],
        headers={"X-Content-SHA256": row["sha256"]},
    )


# --- referrals ---------------------------------------------------------------------------------------------


class DecisionBody(_Body):
    decision: ReferralDecision
    decision_ref: str | None = Field(None, max_length=100, description="The body's own number (立案决定书文号 …).")
    decline_reason: DeclineReason | None = None
    reasons: str | None = Field(None, max_length=4000)
    assigned_to: str | None = Field(
        None, max_length=100, description="Legal aid: the assigned lawyer's practice number or staff reference."
    )


class FastTrackBody(_Body):
    case_id: str = Field(min_length=1, max_length=64)
    target: ReferralKind
    basis: str = Field(min_length=2, max_length=2000)

    @model_validator(mode="after")
    def _fast_track(self) -> FastTrackBody:
        if self.target not in (ReferralKind.LEGAL_AID, ReferralKind.ARBITRATION):
            raise ValueError(
                "inspectors make legal-aid and arbitration fast-track referrals here; criminal "
                "referrals follow the case process"
            )
        return self


@router.get("/referrals", tags=["referrals"], summary="Referrals: the receiving body's inbox, or by county")
async def list_referrals(
    request: Request,
    status: str | None = None,
    case_id: str | None = None,
    target: ReferralKind | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    rows, next_cursor = await referrals(request).referrals(
        principal, status=status, case_id=case_id, target=target, limit=limit, cursor=cursor
    )
    return {"items": [_jsonable(r) for r in rows], "next_cursor": next_cursor}


@router.get("/referrals/{referral_id}", tags=["referrals"], summary="A referral with its package and letters")
async def get_referral(request: Request, referral_id: str, principal: Principal = READERS) -> dict[str, Any]:
    return _jsonable(await referrals(request).referral(principal, referral_id))


@router.post(
    "/referrals/{referral_id}/decision",
    tags=["referrals"],
    summary="The receiving body's answer: police 立案 / 不予立案, procuratorate, arbitration, legal aid",
)
async def decide(
    request: Request, referral_id: str, body: DecisionBody, principal: Principal = RECEIVERS
) -> dict[str, Any]:
    return _jsonable(
        await referrals(request).decide(
            principal,
            referral_id,
            body.decision,
            body.decision_ref,
            body.decline_reason,
            body.reasons,
            body.assigned_to,
        )
    )


@router.post(
    "/fast-track-referrals",
    responses=CREATED_OR_REPEATED,
    tags=["referrals"],
    summary="An inspector's fast-track referral: legal aid (green channel, same day) or arbitration",
)
async def fast_track(
    request: Request, body: FastTrackBody, key: IdempotencyKey = None, principal: Principal = INSPECTORS
) -> JSONResponse:
    return created_or_repeated(
        *await referrals(request).make_agency_referral(
            principal, idempotency_key(key), body.target, body.case_id, body.basis, request_hash(body)
        )
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


# --- an arbitration body's answers after acceptance (services/referrals/award.py) -----------------------------


class AwardExtensionBody(_Body):
    days: int | None = Field(None, ge=1, le=90, description="Days added (default and most: the directory's, 15).")
    approved_on: date = Field(description="The day the commission chair approved the extension (within the limit).")
    approval_ref: str = Field(min_length=1, max_length=100, description="The approval's or notice's number.")
    reason: str = Field(min_length=2, max_length=2000)


class AwardBody(_Body):
    award_ref: str = Field(min_length=1, max_length=100, description="裁决书 or 调解书 number.")
    awarded_on: date


ARBITRATION = require_roles(Role.arbitration)


@router.post(
    "/referrals/{referral_id}/award-extension",
    responses=CREATED_OR_REPEATED,
    tags=["referrals"],
    summary="Arbitration: the award limit extended once (劳动争议调解仲裁法 art. 43, at most 15 days)",
)
async def post_award_extension(
    request: Request,
    referral_id: str,
    body: AwardExtensionBody,
    key: IdempotencyKey = None,
    principal: Principal = ARBITRATION,
) -> JSONResponse:
    return created_or_repeated(
        *await ArbitrationAnswers(referrals(request)).extend(
            principal,
            idempotency_key(key),
            referral_id,
            request_hash(body),
            days=body.days,
            approved_on=body.approved_on,
            approval_ref=body.approval_ref,
            reason=body.reason,
        )
    )


@router.post(
    "/referrals/{referral_id}/award",
    responses=CREATED_OR_REPEATED,
    tags=["referrals"],
    summary="Arbitration: the award made (late if after the limit, art. 43)",
)
async def post_award(
    request: Request, referral_id: str, body: AwardBody, key: IdempotencyKey = None, principal: Principal = ARBITRATION
) -> JSONResponse:
    return created_or_repeated(
        *await ArbitrationAnswers(referrals(request)).record_award(
            principal,
            idempotency_key(key),
            referral_id,
            request_hash(body),
            award_ref=body.award_ref,
            awarded_on=body.awarded_on,
        )
    )
