"""Intake's HTTP routes: the agency API (`/v1/...`) and the worker's pages (`/`, `/form`, `/status`).

Routes stay thin: parse the request, call `Intake` (validation, storage with the event) or the store,
shape the answer. Errors are RFC 9457 problems on the API and friendly Chinese messages on the pages.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from services.common import audit
from services.common.auth import Principal, Role, bearer_principal, require_roles
from services.common.errors import TooManyRequests
from services.common.openapi import file_responses
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.intake import clues, domain, identifiers, lookups, pages, posters, store, validation
from services.intake.evidence import EvidenceRejected, EvidenceStore
from services.intake.status import complaint_status
from services.intake.submissions import Intake, invalid_complaint

router = APIRouter()

FILERS = (Role.intake_clerk, Role.county_inspector, Role.city_office)
READERS = (Role.intake_clerk, Role.county_inspector, Role.city_office, Role.operator)


def intake(request: Request) -> Intake:
    return request.app.state.intake  # type: ignore[no-any-return]


def evidence_store(request: Request) -> EvidenceStore:
    return request.app.state.evidence  # type: ignore[no-any-return]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# -- the agency API ---------------------------------------------------------------------------------


class FiledResponse(BaseModel):
    complaint_id: str = Field(
        description="The complaint number, e.g. TS-20261128-7KQ3MZ", examples=["TS-20261128-7KQ3MZ"]
    )
    tracking_code: str = Field(description="The worker's secret for following the complaint", examples=["K7QM-3ZPA"])
    status_url: str = Field(description="Where the worker can follow the complaint", examples=["/status"])


class EvidenceResponse(BaseModel):
    sha256: str
    size: int
    media_type: str


@router.post(
    "/v1/complaints",
    status_code=201,
    response_model=FiledResponse,
    tags=["complaints"],
    summary="File a complaint (clerks filing for a caller; the form uses the same path)",
    responses={
        200: {"description": "A repeated Idempotency-Key: the first complaint, unchanged", "model": FiledResponse},
        422: {"description": "A field is not valid; `errors` names each field"},
        429: {"description": "Too many complaints from this address or phone number"},
    },
)
async def file_complaint(
    request: Request,
    body: domain.ComplaintSubmissionIn,
    principal: Principal = require_roles(*FILERS),
    idempotency_key: Annotated[str | None, Header(max_length=200, description="Resend-safe key")] = None,
) -> JSONResponse:
    service = intake(request)
    raw = body.model_dump(mode="json", exclude={"evidence"})
    raw.setdefault("channel", "clerk")
    submission = service.validate(raw)
    if not principal.may_see_county(submission.county_code):
        raise Problem(403, "Forbidden", "This client files complaints for its own county only.")
    refs = []
    for sha in body.evidence:
        ref = evidence_store(request).ref(sha)
        if ref is None:
            raise Problem(
                422,
                "Unknown evidence",
                f"No evidence file with sha256 {sha}; upload it first.",
                errors=[{"field": "evidence", "code": "unknown", "message": sha}],
            )
        refs.append(ref)
    # Clerks file for many callers from one office: only the per-phone limit applies to them.
    filed = await service.file(
        submission, evidence=refs, client_ip=None, idempotency_key=idempotency_key, principal=principal
    )
    answer = FiledResponse(complaint_id=filed.complaint_id, tracking_code=filed.tracking_code, status_url="/status")
    return JSONResponse(answer.model_dump(), status_code=200 if filed.replayed else 201)


@router.post(
    "/v1/evidence",
    status_code=201,
    response_model=EvidenceResponse,
    tags=["complaints"],
    summary="Upload one evidence file (photo or PDF); reference it by sha256 when filing",
)
async def upload_evidence(
    request: Request, file: UploadFile = File(...), principal: Principal = require_roles(*FILERS)
) -> EvidenceResponse:
    ref = await _store_upload(request, file, principal)
    return EvidenceResponse(sha256=ref.sha256, size=ref.size, media_type=ref.media_type)


@router.get(
    "/v1/complaints/{complaint_id}",
    tags=["complaints"],
    summary="A complaint's status and plain-language timeline (tracking code or agency token)",
    responses={
        404: {"description": "No such complaint, or the tracking code does not match"},
        429: {"description": "Too many wrong tracking codes from this address or for this complaint"},
    },
)
async def get_complaint(
    request: Request,
    complaint_id: str,
    x_tracking_code: Annotated[str | None, Header(description="The worker's tracking code")] = None,
    principal: Principal | None = Depends(bearer_principal),
) -> dict[str, Any]:
    # One answer for "no such complaint" and "wrong code": existence must not leak to strangers.
    not_found = Problem(404, "Not found", "No complaint with this number and tracking code.")
    if principal is None:
        # The worker, with the code: wrong codes are counted and limited (services/intake/lookups.py).
        row = await lookups.look_up(intake(request), complaint_id, x_tracking_code or "", client_ip(request))
        if row is None:
            raise not_found
        return await complaint_status(request.app, row)
    async with intake(request).pool.connection() as conn:
        row = await store.get_complaint(conn, complaint_id)
    if row is None or principal.role not in READERS or not principal.may_see_county(row["county_code"]):
        raise not_found
    return await complaint_status(request.app, row)


# Who sees a complainant's personal data in clear (inspectors handle the case and call the worker back);
# other agency readers get it masked. Every read is audited either way.
CLEAR_READERS = (Role.county_inspector, Role.city_office)


@router.get(
    "/v1/complaints/{complaint_id}/complainant",
    tags=["complaints"],
    summary="The complainant's personal data (clear for inspectors and the city office, masked otherwise; audited)",
)
async def get_complainant(
    request: Request,
    complaint_id: str,
    principal: Principal = require_roles(*READERS),
    read_reason: Annotated[
        str | None,
        Header(
            max_length=4500,
            description="Why the identity is read, percent-encoded UTF-8, up to 500 characters (kept "
            "in the audit row). A header rather than a query parameter, so that no logged URL carries what was typed.",
        ),
    ] = None,
) -> dict[str, Any]:
    reason = unquote(read_reason or "").strip()[:500]
    service = intake(request)
    async with service.pool.connection() as conn, conn.transaction():
        row = await store.get_complaint(conn, complaint_id)
        if row is None or not principal.may_see_county(row["county_code"]):
            raise Problem(404, "Not found", "No complaint with this number.")
        person = service.open_person(row)
        clear = principal.role in CLEAR_READERS
        await audit.record(
            conn,
            principal,
            "complainant.read",
            complaint_id,
            fields=sorted(k for k, v in person.items() if v),
            detail={"clear": clear, **({"reason": reason} if reason else {})},
        )
    if not clear:
        person = {
            "worker_name": identifiers.mask_name(person["worker_name"] or ""),
            "id_number": identifiers.mask_id_number(person["id_number"] or ""),
            "phone": identifiers.mask_phone(person["phone"] or ""),
            "bank_card": identifiers.mask_bank_card(person["bank_card"]) if person["bank_card"] else None,
        }
    return {"complaint_id": complaint_id, "confidential": row["confidential"], "masked": not clear, **person}


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


@router.post(
    "/v1/clues/import",
    tags=["complaints"],
    summary="Import clues from another platform (JSON lines or CSV), one result per row",
)
async def import_clues(
    request: Request,
    file: UploadFile = File(..., description="JSON lines (.jsonl) or CSV with a header row"),
    source: str = Form("national-platform", max_length=60),
    principal: Principal = require_roles(Role.intake_clerk, Role.city_office),
) -> dict[str, Any]:
    data = await file.read()
    fmt: Literal["csv", "jsonl"] = "csv" if (file.filename or "").lower().endswith(".csv") else "jsonl"
    return await clues.import_clues(intake(request), principal, data, fmt, source)


# -- the worker's pages -----------------------------------------------------------------------------


async def _store_upload(request: Request, file: UploadFile, principal: Principal) -> Any:
    settings = request.app.state.settings
    data = await file.read(settings.evidence_max_bytes + 1)
    files = evidence_store(request)
    try:
        # Checked before it is counted, counted before it is written: a refused file costs no quota, and a
        # client past its quota writes nothing (a leaked agency token must not fill the disk).
        files.check(data)
        await _count_upload(request, principal, len(data))
        return files.put(data, declared_name=file.filename or "")
    except EvidenceRejected as rejected:
        raise Problem(
            422,
            "Evidence file refused",
            str(rejected),
            errors=[{"field": "evidence", "code": rejected.code, "message": str(rejected)}],
        ) from None


async def _count_upload(request: Request, principal: Principal, size: int) -> None:
    limit = request.app.state.settings.evidence_bytes_per_client_per_hour
    async with intake(request).pool.connection() as conn:
        wait = await store.hit_rate_limit(
            conn, f"evidence-client_{principal.client_id}", limit=limit, window_seconds=3600, amount=size
        )
    if wait is not None:
        raise TooManyRequests(
            "Upload quota used up",
            f"This client has uploaded {limit} bytes of evidence this hour; try again in {wait} seconds.",
            retry_after=wait,
        )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def form_page(request: Request, site: str | None = None) -> HTMLResponse:
    site_row = await _site_for_form(request, site)
    return HTMLResponse(pages.render_form(site_row, intake(request).counties, values={}, errors={}))


async def _site_for_form(request: Request, site_id: str | None) -> dict[str, Any] | None:
    if not site_id:
        return None
    async with intake(request).pool.connection() as conn:
        site = await store.get_site(conn, site_id)
    if site is None:
        return None
    return {**site, "county_name": intake(request).counties.get(site["county_code"], site["county_code"])}


@router.post("/form", response_class=HTMLResponse, include_in_schema=False)
async def submit_form(request: Request) -> HTMLResponse:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    site_row = await _site_for_form(request, values.get("site_id") or None)
    if site_row is not None:
        # The site came from the QR code: its facts are the registered ones, not whatever was posted.
        values.update(county_code=site_row["county_code"], project_name=site_row["name"])
    values["channel"] = "qr_form"
    service = intake(request)
    counties = service.counties
    try:
        submission = validation.validate_submission(values, counties=counties, today=service.today())
    except domain.SubmissionInvalid as invalid:
        errors = invalid.by_field()
        return HTMLResponse(pages.render_form(site_row, counties, values=values, errors=errors), status_code=422)
    uploads = [f for f in form.getlist("evidence") if not isinstance(f, str) and f.filename]
    refs, blobs = [], []
    try:
        if len(uploads) > request.app.state.settings.evidence_max_files:
            raise EvidenceRejected("too_many", f"最多上传 {request.app.state.settings.evidence_max_files} 个文件")
        for upload in uploads:
            data = await upload.read(request.app.state.settings.evidence_max_bytes + 1)
            refs.append(evidence_store(request).check(data))  # written by `file`, once the limits let it through
            blobs.append(data)
    except EvidenceRejected as rejected:
        errors = {"evidence": str(rejected)}
        return HTMLResponse(pages.render_form(site_row, counties, values=values, errors=errors), status_code=422)
    try:
        filed = await service.file(
            submission,
            evidence=refs,
            uploads=blobs,
            client_ip=client_ip(request),
            idempotency_key=values.get("form_token") or None,
        )
    except TooManyRequests as limited:
        errors = {"_form": (limited.detail or "").split(" Too many", 1)[0] or "提交次数过多，请稍后再试"}
        return HTMLResponse(
            pages.render_form(site_row, counties, values=values, errors=errors),
            status_code=429,
            headers={"Retry-After": str(limited.retry_after)},
        )
    except Problem as problem:
        if problem.status == 422:  # this form was already filed, then edited: file it as a new complaint
            values.pop("form_token", None)
            errors = {"_form": "这份表单已经提交过。如需再次投诉，请确认内容后重新提交。"}
            return HTMLResponse(pages.render_form(site_row, counties, values=values, errors=errors), status_code=409)
        raise
    return HTMLResponse(pages.render_submitted(filed.complaint_id, filed.tracking_code), status_code=201)


@router.get("/status", response_class=HTMLResponse, include_in_schema=False)
async def status_form() -> HTMLResponse:
    return HTMLResponse(pages.render_status_form(values={}, error=None))


@router.post("/status", response_class=HTMLResponse, include_in_schema=False)
async def status_page(request: Request, complaint_id: str = Form(""), tracking_code: str = Form("")) -> Response:
    complaint_id = identifiers.normalise_complaint_id(complaint_id) or complaint_id.strip().upper()
    values = {"complaint_id": complaint_id}
    try:
        row = (
            await lookups.look_up(intake(request), complaint_id, tracking_code, client_ip(request))
            if complaint_id
            else None
        )
    except TooManyRequests as limited:
        error = f"查询码错误次数过多，请 {max(1, limited.retry_after // 60)} 分钟后再试，或拨打 12333 热线。"
        return HTMLResponse(
            pages.render_status_form(values=values, error=error),
            status_code=429,
            headers={"Retry-After": str(limited.retry_after)},
        )
    if row is None:
        return HTMLResponse(
            pages.render_status_form(values=values, error="投诉编号或查询码不正确，请核对后再试。"), status_code=404
        )
    return HTMLResponse(pages.render_status(await complaint_status(request.app, row)))
