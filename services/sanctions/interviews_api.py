"""HTTP routes of joint interviews (联合约谈): the employers proposed, the city office scheduling an interview
(with an invitation letter per invitee), recording it held with the commitments made, and following each
commitment up. Thin: HTTP in, `Interviews` (interview_commands.py) out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.common.auth import Principal, Role, require_roles
from services.common.commands import fingerprint_request
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.sanctions.interview_commands import Interviews
from services.sanctions.interview_follow_up import RepresentativeRole
from services.sanctions.interviews import CommitmentOutcome

# Agency actions are fingerprinted, so that a repeated Idempotency-Key is compared with the request it came with.
router = APIRouter(prefix="/v1", dependencies=[Depends(fingerprint_request)], tags=["interviews"])

READERS = require_roles(Role.city_office, Role.county_inspector)
CITY = require_roles(Role.city_office)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
InterviewId = Annotated[str, Path(max_length=40)]


def interviews(request: Request) -> Interviews:
    return request.app.state.interviews  # type: ignore[no-any-return]


def _json(value: Any) -> JSONResponse:
    # Money stays a string (never a float); dates and instants become ISO 8601 (as the service's other answers).
    return JSONResponse(content=jsonable_encoder(value, custom_encoder={Decimal: str}))


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleBody(_Body):
    employer_ref: str = Field(
        min_length=3,
        max_length=40,
        description="The employer as the case facts know it "
        "(`E-<credit code>`, or the name reference), as the proposals list it.",
    )
    scheduled_for: AwareDatetime = Field(description="Date and time of the interview (with its offset).")
    place: str = Field(min_length=2, max_length=200)
    departments: list[str] = Field(
        min_length=1,
        max_length=20,
        description="Departments invited: ids of the "
        "referrals service's department directory (police, tax, approval, housing …).",
    )
    case_ids: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="The cases it concerns; none: the employer's cases opened in the proposal window.",
    )


class CommitmentBody(_Body):
    text: str = Field(min_length=2, max_length=2000)
    amount: Decimal | None = Field(None, gt=0, max_digits=14, decimal_places=2, description="Amount to pay, yuan.")
    due_date: date | None = None


class RecordBody(_Body):
    employer_representative: RepresentativeRole | None = Field(
        description="Who came for the employer, by role; null: nobody came."
    )
    departments: dict[str, bool] = Field(
        default_factory=dict, description="Each invited department: came or not (one left out: did not come)."
    )
    commitments: list[CommitmentBody] = Field(default_factory=list, max_length=50)
    note: str | None = Field(None, max_length=20000)


class OutcomeBody(_Body):
    outcome: CommitmentOutcome
    facts: str = Field(min_length=2, max_length=5000, description="What shows it kept or broken.")


@router.get("/interview-proposals", summary="Employers with repeated cases and no interview in the window")
async def get_proposals(
    request: Request, limit: Limit = 50, cursor: Cursor = None, principal: Principal = READERS
) -> JSONResponse:
    items, next_cursor = await interviews(request).proposals(principal, limit, cursor)
    return _json({"items": items, "next_cursor": next_cursor})


@router.post(
    "/interviews",
    status_code=201,
    summary="Schedule a joint interview: an invitation letter (PDF) to the employer and each department",
)
async def post_interview(
    request: Request, body: ScheduleBody, key: IdempotencyKey = None, principal: Principal = CITY
) -> JSONResponse:
    answer = await interviews(request).schedule(
        principal,
        key,
        employer_ref=body.employer_ref,
        scheduled_for=body.scheduled_for,
        place=body.place,
        departments=body.departments,
        case_ids=body.case_ids,
    )
    response = _json(answer)
    response.status_code = 200 if answer.get("repeated") else 201
    return response


@router.get("/interviews", summary="Interviews, newest first; overdue=true: those with a commitment overdue")
async def get_interviews(
    request: Request,
    county: str | None = None,
    employer_ref: str | None = None,
    overdue: bool = Query(False, description="Only interviews with a commitment past its due date and no outcome"),
    limit: Limit = 50,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> JSONResponse:
    if principal.county and county and county != principal.county:
        raise Problem(403, "Forbidden", f"your scope is county {principal.county}")
    items, next_cursor = await interviews(request).search(
        principal, county=county, employer_ref=employer_ref, overdue=overdue, limit=limit, cursor=cursor
    )
    return _json({"items": items, "next_cursor": next_cursor})


@router.get("/interviews/{interview_id}", summary="An interview with its letters and commitments")
async def get_interview(request: Request, interview_id: InterviewId, principal: Principal = READERS) -> JSONResponse:
    return _json(await interviews(request).view(principal, interview_id))


@router.post("/interviews/{interview_id}/record", summary="Record the interview held: attendance, commitments, note")
async def post_record(
    request: Request,
    interview_id: InterviewId,
    body: RecordBody,
    key: IdempotencyKey = None,
    principal: Principal = CITY,
) -> JSONResponse:
    return _json(
        await interviews(request).record(
            principal,
            interview_id,
            key,
            representative=body.employer_representative,
            departments_present=body.departments,
            commitments=[c.model_dump() for c in body.commitments],
            note=body.note,
        )
    )


@router.post("/interviews/{interview_id}/commitments/{n}/outcome", summary="A commitment kept or broken, with facts")
async def post_outcome(
    request: Request,
    interview_id: InterviewId,
    n: Annotated[int, Path(ge=1, le=50)],
    body: OutcomeBody,
    key: IdempotencyKey = None,
    principal: Principal = CITY,
) -> JSONResponse:
    return _json(
        await interviews(request).outcome(principal, interview_id, n, key, outcome=body.outcome, facts=body.facts)
    )
