"""The quarterly circular per county (`circular.py`): `GET /v1/circulars/{quarter}?county=` as JSON, and
`GET /v1/circulars/{quarter}/{county}.pdf` as the official paper. A county's people read their county's, the
city office every county's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from services.cases import circular, domain, periods
from services.cases.api import READERS
from services.cases.settings import CasesSettings
from services.common.auth import Principal
from services.common.openapi import file_responses
from services.common.problems import Problem

router = APIRouter(prefix="/v1", tags=["reports"])

Quarter = Annotated[str, Path(pattern=r"^\d{4}-Q[1-4]$", examples=["2026-Q4"], description="The quarter, YYYY-Qn")]
County = Annotated[str, Path(pattern=r"^\d{6}$", examples=["130402"], description="The county code")]


def _scope(principal: Principal, county: str) -> str:
    """The county asked for, when the caller may read it (404 otherwise, as for any record out of scope)."""
    if not domain.may_see(principal, county):
        raise Problem(404, "No such circular", f"county {county}'s circular is not in your scope")
    return county


async def _answer(request: Request, quarter: str, county: str) -> dict[str, Any]:
    period = periods.parse_period("quarterly", quarter)
    async with request.app.state.pool.connection() as conn:
        return await circular.circular(conn, period, county)


@router.get("/circulars/{quarter}", summary="A county's quarterly circular: case figures and projects' coverage")
async def get_circular(
    request: Request,
    quarter: Quarter,
    county: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    principal: Principal = READERS,
) -> dict[str, Any]:
    chosen = county or principal.county
    if chosen is None:
        raise Problem(422, "County needed", "name the county (`county=130402`): the circular is one county's")
    return await _answer(request, quarter, _scope(principal, chosen))


@router.get(
    "/circulars/{quarter}/{county}.pdf",
    responses=file_responses("application/pdf"),
    summary="A county's quarterly circular as the official paper",
)
async def get_circular_pdf(
    request: Request, quarter: Quarter, county: County, principal: Principal = READERS
) -> Response:
    answer = await _answer(request, quarter, _scope(principal, county))
    settings = request.app.state.settings
    issuer = (
        settings.document_issuer
        if isinstance(settings, CasesSettings)
        else CasesSettings.model_fields["document_issuer"].default
    )
    today = domain.legal_date(datetime.now(UTC))
    pdf = await asyncio.to_thread(circular.render, answer, issuer=issuer, issued_on=today)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="circular-{quarter}-{county}.pdf"'},
    )
