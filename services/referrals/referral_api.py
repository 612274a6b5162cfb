"""HTTP routes of the referrals to the police, the procuratorate, arbitration and legal aid: the receiving
bodies' inboxes and answers, an inspector's fast-track referral (legal aid, arbitration), and an arbitration
body's answers after acceptance — the award limit's extension and the award (services/referrals/award.py).
The shared parts of the service's routes are in `api.py`."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field, model_validator

from services.common.auth import Principal, Role, require_roles
from services.common.commands import request_hash
from services.common.openapi import CREATED_OR_REPEATED, created_or_repeated, idempotency_key
from services.common.pagination import Cursor, Limit
from services.contracts.referrals_events import DeclineReason, ReferralDecision, ReferralKind
from services.referrals.api import READERS, IdempotencyKey, _Body, _jsonable, referrals
from services.referrals.award import ArbitrationAnswers

router = APIRouter(prefix="/v1")

RECEIVERS = require_roles(Role.police, Role.procuratorate, Role.arbitration, Role.legal_aid)
INSPECTORS = require_roles(Role.county_inspector, Role.city_office)
ARBITRATION = require_roles(Role.arbitration)


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


# --- an arbitration body's answers after acceptance (services/referrals/award.py) -----------------------------


class AwardExtensionBody(_Body):
    days: int | None = Field(None, ge=1, le=90, description="Days added (default and most: the directory's, 15).")
    approved_on: date = Field(description="The day the commission chair approved the extension (within the limit).")
    approval_ref: str = Field(min_length=1, max_length=100, description="The approval's or notice's number.")
    reason: str = Field(min_length=2, max_length=2000)


class AwardBody(_Body):
    award_ref: str = Field(min_length=1, max_length=100, description="裁决书 or 调解书 number.")
    awarded_on: date


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
