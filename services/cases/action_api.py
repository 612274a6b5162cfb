"""HTTP routes of the cases service for the people who act on complaints and cases along their path:
acceptance, call-back, verification, service, payments, closure, assignment, parties, merge and split. Each is
answered at once; a repeated `Idempotency-Key` gets the first answer (`once`). The requests that wait for a
second person's decision or confirm a date or totals (the referral's report and approval, its withdrawal, the
extension, a provisional deadline's date, new totals) are in `decision_api.py`; the ledger's reads in
`ledger_api.py`, the lifecycle's requests in `api.py`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, Field, field_validator
from stdnum.cn import uscc

from services.cases import regrouping
from services.cases.api import ACTORS, IdempotencyKey, _Body, cases, once
from services.common.auth import Principal
from services.common.commands import fingerprint_request
from services.contracts.lifecycle import (
    AcceptanceDecisionKind,
    ClosureReason,
    Evidence,
    PaymentPurpose,
    RejectionReason,
    Satisfaction,
    ServiceMethod,
    VerificationOutcome,
)

# Every action is fingerprinted, so that a repeated Idempotency-Key is compared with the request it came with.
router = APIRouter(prefix="/v1", dependencies=[Depends(fingerprint_request)])


class AcceptanceBody(_Body):
    decision: AcceptanceDecisionKind
    reason: RejectionReason | None = None
    explanation: str | None = Field(None, max_length=2000)
    missing_items: list[str] = Field(default_factory=list, max_length=50)
    forward_to: str | None = Field(None, max_length=100, description="Code of the competent office.")


class CallbackBody(_Body):
    satisfaction: Satisfaction
    notes: str | None = Field(None, max_length=2000)


class CaseActionBody(_Body):
    process_case_id: str | None = Field(
        None, description="Only for a merged case holding several case processes: the one acted on."
    )

    def contract_fields(self) -> dict[str, Any]:
        return self.model_dump(exclude={"process_case_id"}, exclude_none=True)


class VerificationBody(CaseActionBody):
    outcome: VerificationOutcome
    department: str | None = Field(None, max_length=100)
    confirmed_amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    confirmed_workers: int | None = Field(None, ge=1)
    notes: str | None = Field(None, max_length=2000)


class ServiceBody(CaseActionBody):
    method: ServiceMethod
    evidence: list[Evidence] = Field(min_length=1, max_length=20)
    served_at: datetime | None = None


class PaymentBody(CaseActionBody):
    payment_id: str = Field(min_length=1, max_length=64)
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    evidence: list[Evidence] = Field(min_length=1, max_length=20)
    # The date on the payment's evidence: it, not the time of recording, decides whether the order was met.
    paid_at: AwareDatetime | None = None
    purpose: PaymentPurpose = Field(PaymentPurpose.WAGES, description="wages, or the additional compensation.")


class ClosureBody(CaseActionBody):
    reason: ClosureReason
    notes: str | None = Field(None, max_length=2000)


class AssignmentBody(_Body):
    inspector: str = Field(min_length=1, max_length=64, description="Agency client id of the inspector.")


class PartyBody(_Body):
    role: Literal["general_contractor", "subcontractor", "project_owner"]
    name: str = Field(min_length=2, max_length=200)
    credit_code: str | None = Field(None, description="Unified social credit code (18 characters, checked).")

    @field_validator("credit_code")
    @classmethod
    def _valid_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if not uscc.is_valid(code):
            raise ValueError("not a valid unified social credit code (统一社会信用代码)")
        return code


class PartiesBody(_Body):
    contractors: list[PartyBody] = Field(max_length=50)


class MergeBody(_Body):
    case_id: str = Field(description="The case merged into this one.")
    reason: str = Field(min_length=2, max_length=2000)


class SplitBody(_Body):
    complaint_ids: list[str] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=2, max_length=2000)


@router.post(
    "/complaints/{complaint_id}/acceptance",
    tags=["actions"],
    summary="Accept, reject, request more information or forward (受理决定)",
)
async def decide_acceptance(
    request: Request,
    complaint_id: str,
    body: AcceptanceBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: commands.decide_acceptance(principal, complaint_id, body.model_dump(exclude_none=True), key),
    )


@router.post("/complaints/{complaint_id}/callback", tags=["actions"], summary="Record the call-back (回访)")
async def record_callback(
    request: Request,
    complaint_id: str,
    body: CallbackBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: commands.record_callback(principal, complaint_id, body.model_dump(exclude_none=True), key),
    )


@router.post("/cases/{case_id}/verification", tags=["actions"], summary="Record the verification outcome (核实)")
async def record_verification(
    request: Request,
    case_id: str,
    body: VerificationBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: commands.record_verification(
            principal, case_id, body.contract_fields(), body.process_case_id, key
        ),
    )


@router.post("/cases/{case_id}/service", tags=["actions"], summary="Record service of the order, with evidence (送达)")
async def record_service(
    request: Request,
    case_id: str,
    body: ServiceBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: commands.record_service(principal, case_id, body.contract_fields(), body.process_case_id, key),
    )


@router.post("/cases/{case_id}/payments", tags=["actions"], summary="Record a payment, with evidence")
async def record_payment(
    request: Request,
    case_id: str,
    body: PaymentBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: commands.record_payment(principal, case_id, body.contract_fields(), body.process_case_id, key),
    )


@router.post("/cases/{case_id}/closure", tags=["actions"], summary="Close the case with a reason")
async def close_case(
    request: Request,
    case_id: str,
    body: ClosureBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: commands.close_case(principal, case_id, body.contract_fields(), body.process_case_id, key),
    )


@router.post("/cases/{case_id}/assignment", tags=["actions"], summary="Assign the inspector handling the case")
async def assign(request: Request, case_id: str, body: AssignmentBody, principal: Principal = ACTORS) -> dict[str, Any]:
    return await cases(request).assign(principal, case_id, body.inspector)


@router.put(
    "/cases/{case_id}/parties",
    tags=["actions"],
    summary="Record the contractors and project owner (总包/分包/建设单位) of the case",
)
async def record_parties(
    request: Request, case_id: str, body: PartiesBody, principal: Principal = ACTORS
) -> dict[str, Any]:
    return await cases(request).record_parties(principal, case_id, [p.model_dump() for p in body.contractors])


@router.post(
    "/cases/{case_id}/merge",
    tags=["ledger"],
    status_code=202,
    summary="Merge another case into this one (the other id becomes an alias; its processes not yet "
    "verified move their complaints into this case's)",
)
async def merge(request: Request, case_id: str, body: MergeBody, principal: Principal = ACTORS) -> dict[str, Any]:
    return await regrouping.merge(cases(request), principal, case_id, body.case_id, body.reason)


@router.post(
    "/cases/{case_id}/split",
    tags=["ledger"],
    status_code=202,
    summary="Split complaints off this case into a case of their own",
)
async def split(request: Request, case_id: str, body: SplitBody, principal: Principal = ACTORS) -> dict[str, Any]:
    return await regrouping.split(cases(request), principal, case_id, body.complaint_ids, body.reason)
