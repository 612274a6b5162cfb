"""HTTP routes of the cases service for the requests that wait on a second person, and the confirmations of a
date or of totals: the case team's criminal referral report and the bureau head's decision on it, the proposed
withdrawal of the referral and its decision, the extension of the investigation limit (requested by the county,
approved or refused by the city office), a provisional deadline's date, and the case's totals anew after a
complaint joined it. Each is answered at once like every action (`action_api.py`, whose `CaseActionBody` they
share); a repeated `Idempotency-Key` gets the first answer (`once`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from services.cases import extension_actions, figure_actions, referral_actions
from services.cases.action_api import CaseActionBody
from services.cases.api import ACTORS, BUREAU_HEAD, CITY, IdempotencyKey, once
from services.common.auth import Principal
from services.common.commands import fingerprint_request
from services.contracts.lifecycle import Evidence, SubjectiveElement

# Every action is fingerprinted, so that a repeated Idempotency-Key is compared with the request it came with.
router = APIRouter(prefix="/v1", dependencies=[Depends(fingerprint_request)])


class ReferralReportBody(CaseActionBody):
    team: list[str] = Field(min_length=2, max_length=10, description="The case team's officers (at least two).")
    facts: str = Field(min_length=10, max_length=4000)
    subjective_element: SubjectiveElement
    evidence: list[Evidence] = Field(min_length=1, max_length=20)


class ReferralDecisionBody(CaseActionBody):
    approved: bool
    reason: str | None = Field(None, min_length=2, max_length=2000, description="Required when refusing.")


class WithdrawalProposalBody(CaseActionBody):
    reason: str = Field(min_length=2, max_length=2000)


class DeadlineConfirmationBody(CaseActionBody):
    note: str | None = Field(None, max_length=500, description="How the date was confirmed.")


class FiguresBody(CaseActionBody):
    confirmed_amount: Decimal = Field(
        ge=0, max_digits=14, decimal_places=2, description="The whole case's wages owed, as verified now."
    )
    confirmed_workers: int = Field(ge=1, description="The whole case's workers owed wages, as verified now.")
    notes: str | None = Field(None, max_length=2000)


class ExtensionRequestBody(CaseActionBody):
    reason: str = Field(min_length=2, max_length=2000)


class ExtensionApprovalBody(CaseActionBody):
    reason: str | None = Field(None, min_length=2, max_length=2000)


class ExtensionRefusalBody(CaseActionBody):
    reason: str = Field(min_length=2, max_length=2000)


@router.post(
    "/cases/{case_id}/referral-report",
    tags=["actions"],
    summary="Submit the case team's criminal referral report for the bureau head's approval (移送报告)",
)
async def submit_referral_report(
    request: Request,
    case_id: str,
    body: ReferralReportBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: referral_actions.submit_referral_report(
            commands, principal, case_id, body.contract_fields(), body.process_case_id, key
        ),
    )


@router.post(
    "/cases/{case_id}/referral-report/decision",
    tags=["actions"],
    summary="Approve or refuse the criminal referral (the bureau head, within 3 days)",
)
async def decide_referral(
    request: Request,
    case_id: str,
    body: ReferralDecisionBody,
    key: IdempotencyKey = None,
    principal: Principal = BUREAU_HEAD,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: referral_actions.decide_referral(
            commands, principal, case_id, body.contract_fields(), body.process_case_id, key
        ),
    )


@router.post(
    "/cases/{case_id}/referral-withdrawal",
    tags=["actions"],
    summary="Propose to withdraw the police referral (wages and compensation paid, the police not decided)",
)
async def propose_referral_withdrawal(
    request: Request,
    case_id: str,
    body: WithdrawalProposalBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: referral_actions.propose_withdrawal(
            commands, principal, case_id, body.contract_fields(), body.process_case_id, key
        ),
    )


@router.post(
    "/cases/{case_id}/referral-withdrawal/decision",
    tags=["actions"],
    summary="Approve or refuse the proposed withdrawal of the police referral (the bureau head)",
)
async def decide_referral_withdrawal(
    request: Request,
    case_id: str,
    body: ReferralDecisionBody,
    key: IdempotencyKey = None,
    principal: Principal = BUREAU_HEAD,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: referral_actions.decide_withdrawal(
            commands, principal, case_id, body.contract_fields(), body.process_case_id, key
        ),
    )


@router.post(
    "/cases/{case_id}/deadlines/{name}/confirmation",
    tags=["actions"],
    summary="Confirm the date of a provisional deadline whose expiry waits for it (e.g. the order's)",
)
async def confirm_deadline(
    request: Request,
    case_id: str,
    name: str,
    body: DeadlineConfirmationBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: referral_actions.confirm_deadline(
            commands, principal, case_id, name, body.contract_fields(), body.process_case_id, key
        ),
    )


@router.post(
    "/cases/{case_id}/figures",
    tags=["actions"],
    summary="Confirm the case's totals anew after a complaint joined it (an amended order follows if more)",
)
async def confirm_figures(
    request: Request,
    case_id: str,
    body: FiguresBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: figure_actions.confirm_figures(
            commands, principal, case_id, body.contract_fields(), body.process_case_id, key
        ),
    )


@router.post(
    "/cases/{case_id}/extension-requests",
    tags=["actions"],
    status_code=201,
    summary="Request a 30-working-day extension of the investigation limit",
)
async def request_extension(
    request: Request,
    case_id: str,
    body: ExtensionRequestBody,
    key: IdempotencyKey = None,
    principal: Principal = ACTORS,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: commands.request_extension(principal, case_id, body.reason, body.process_case_id, key),
    )


@router.post(
    "/cases/{case_id}/extension-requests/approval",
    tags=["actions"],
    summary="Approve the pending extension request (city office)",
)
async def approve_extension(
    request: Request,
    case_id: str,
    body: ExtensionApprovalBody,
    key: IdempotencyKey = None,
    principal: Principal = CITY,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: commands.approve_extension(principal, case_id, body.reason, body.process_case_id, key),
    )


@router.post(
    "/cases/{case_id}/extension-requests/refusal",
    tags=["actions"],
    summary="Refuse the pending extension request with a reason (city office); the limit stands",
)
async def refuse_extension(
    request: Request,
    case_id: str,
    body: ExtensionRefusalBody,
    key: IdempotencyKey = None,
    principal: Principal = CITY,
) -> dict[str, Any]:
    return await once(
        request,
        key,
        principal,
        lambda commands: extension_actions.refuse_extension(
            commands, principal, case_id, body.reason, body.process_case_id, key
        ),
    )
