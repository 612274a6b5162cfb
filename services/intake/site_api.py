"""Intake's routes of the project sites (`/v1/sites/...`): an agency registers a site, the sites of a county are
listed, and anyone reads a registered site and its QR poster, whose link opens the worker's form for that site
(`page_routes.py`). Thin, as the complaints API (`api.py`, which holds what intake's routes share)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.common.auth import Principal, Role, require_roles
from services.common.openapi import file_responses
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.intake import domain, posters, store, validation
from services.intake.api import FILERS, READERS, intake
from services.intake.submissions import invalid_complaint

router = APIRouter()


class SiteIn(BaseModel):
    site_id: str = Field(pattern=r"^[A-Za-z0-9-]{3,40}$", examples=["HD-2026-0001"])
    name: str = Field(min_length=2, max_length=100, examples=["邯郸市丛台区某安置房项目"])
    county_code: str = Field(examples=["130403"])
    address: str = Field(min_length=2, max_length=200, examples=["丛台区人民路 100 号"])
    owner_name: str | None = Field(None, max_length=100, examples=["邯郸市某建设投资有限公司"])
    owner_credit_code: str | None = Field(None, examples=["91130400MA0XXXXXXX"])
    general_contractor: str | None = Field(None, max_length=100)
    general_contractor_credit_code: str | None = None


@router.put("/v1/sites/{site_id}", tags=["sites"], summary="Register or update a project site")
async def register_site(
    request: Request, site_id: str, body: SiteIn, principal: Principal = require_roles(*FILERS)
) -> dict[str, Any]:
    if body.site_id != site_id:
        raise Problem(422, "Site id mismatch", "The site_id in the body must match the URL.")
    try:
        site = validation.validate_site(body.model_dump(), counties=intake(request).counties)
    except domain.SubmissionInvalid as invalid:
        raise invalid_complaint(invalid) from None
    if not principal.may_see_county(site["county_code"]):
        raise Problem(403, "Forbidden", "This client registers sites in its own county only.")
    async with intake(request).pool.connection() as conn, conn.transaction():
        stored = await store.get_site(conn, site_id, for_update=True)
        if stored is not None:
            # The poster sends every worker who scans it to the site's county, whose inspectors then read their
            # identity: a site stays in its county unless the city office moves it.
            if not principal.may_see_county(stored["county_code"]):
                raise Problem(403, "Forbidden", "This site is registered in another county.")
            if stored["county_code"] != site["county_code"] and principal.role is not Role.city_office:
                raise Problem(403, "Forbidden", "Only the city office moves a site to another county.")
        saved = await store.upsert_site(conn, site)
    base = request.app.state.settings.public_base_url.rstrip("/")
    return {
        **saved,
        "form_url": f"{base}/?site={site_id}",
        "poster_png": f"/v1/sites/{site_id}/poster.png",
        "poster_pdf": f"/v1/sites/{site_id}/poster.pdf",
    }


async def _site_or_404(request: Request, site_id: str) -> dict[str, Any]:
    async with intake(request).pool.connection() as conn:
        site = await store.get_site(conn, site_id)
    if site is None:
        raise Problem(404, "Not found", f"No site {site_id}.")
    return site


@router.get("/v1/sites", tags=["sites"], summary="The sites registered in the caller's county, by site id")
async def list_sites(
    request: Request, limit: Limit = 100, cursor: Cursor = None, principal: Principal = require_roles(*READERS)
) -> dict[str, Any]:
    county = None if principal.role in (Role.city_office, Role.operator) else (principal.county or "-")
    async with intake(request).pool.connection() as conn:
        rows, next_cursor = await store.list_sites(conn, county, limit, cursor)
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/v1/sites/{site_id}", tags=["sites"], summary="A registered site (public: it is on the poster)")
async def get_site(request: Request, site_id: str) -> dict[str, Any]:
    return await _site_or_404(request, site_id)


@router.get(
    "/v1/sites/{site_id}/poster.{fmt}",
    tags=["sites"],
    summary="The site's QR poster (png or pdf)",
    response_class=Response,
    responses=file_responses("image/png", "application/pdf"),
)
async def site_poster(request: Request, site_id: str, fmt: str) -> Response:
    if fmt not in ("png", "pdf"):
        raise Problem(404, "Not found", "Posters come as .png or .pdf.")
    site = await _site_or_404(request, site_id)
    site_view = {**site, "county_name": intake(request).counties.get(site["county_code"], site["county_code"])}
    url = f"{request.app.state.settings.public_base_url.rstrip('/')}/?site={site_id}"
    public = {"Cache-Control": "public, max-age=300"}  # printed and posted at the site: nothing private
    # Rendering takes a while the first time: off the event loop (then it is kept, services/intake/posters.py).
    content = await asyncio.to_thread(posters.poster, fmt, site_view, url)
    if fmt == "png":
        return Response(content, media_type="image/png", headers=public)
    return Response(
        content,
        media_type="application/pdf",
        headers={**public, "Content-Disposition": f'inline; filename="poster-{site_id}.pdf"'},
    )
