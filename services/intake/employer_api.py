"""Intake's routes over the employer register (services/intake/employers.py): what is known of an employer's
name in a county, and an inspector's link of a name to a credit code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.common.auth import Principal, Role, require_roles
from services.intake.employers import EmployerIdentityView, EmployerLinkView, EmployerRegister

router = APIRouter()

INSPECTORS = (Role.county_inspector, Role.city_office)
READERS = (Role.intake_clerk, Role.county_inspector, Role.city_office)


def register(request: Request) -> EmployerRegister:
    return request.app.state.employers  # type: ignore[no-any-return]


class EmployerLinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    county_code: str | None = Field(
        None, pattern=r"^\d{6}$", description="The county (行政区划代码); a county inspector's own by default."
    )
    employer_name: str = Field(min_length=1, max_length=200, examples=["邯郸市某建筑劳务有限公司"])
    credit_code: str = Field(
        min_length=1,
        max_length=40,
        examples=["91130400MA07ABCD12"],
        description="Unified social credit code (统一社会信用代码), checked (GB 32100).",
    )
    reason: str = Field(
        min_length=1, max_length=500, description="Why they are one employer (e.g. the business registry's record)."
    )


@router.post(
    "/v1/employers/links",
    status_code=201,
    response_model=EmployerLinkView,
    tags=["employers"],
    summary="Link an employer named without a credit code to its credit code (complaints from now on join "
    "the credit code's case)",
    responses={
        200: {"description": "The same link again: the first one, unchanged", "model": EmployerLinkView},
        403: {"description": "Another county's employer"},
        409: {"description": "The name is already linked to another credit code"},
        422: {"description": "The name or the credit code is not valid"},
    },
)
async def link_employer(
    request: Request, body: EmployerLinkBody, principal: Principal = require_roles(*INSPECTORS)
) -> JSONResponse:
    link, created = await register(request).link(
        principal, body.county_code, body.employer_name, body.credit_code, body.reason
    )
    return JSONResponse(link.model_dump(mode="json"), status_code=201 if created else 200)


@router.get(
    "/v1/employers/identity",
    response_model=EmployerIdentityView,
    tags=["employers"],
    summary="What the register knows of an employer's name in a county, and the employer a complaint naming "
    "it alone joins now",
)
async def employer_identity(
    request: Request,
    name: Annotated[str, Query(min_length=1, max_length=200, description="The employer's name, as written")],
    county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    principal: Principal = require_roles(*READERS),
) -> EmployerIdentityView:
    return await register(request).identity(principal, county_code, name)
