"""Intake's routes of the worker's pages (`/`, `/form`, `/status`): the complaint form, opened bare or from a
site's QR poster, and the status page behind the complaint number and tracking code. The pages are rendered by
`pages.py`; errors are friendly Chinese messages on the page, not problems as on the API (`api.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.common.errors import TooManyRequests
from services.common.problems import Problem
from services.intake import domain, identifiers, lookups, pages, store, validation
from services.intake.api import client_ip, evidence_store, intake
from services.intake.evidence import EvidenceRejected
from services.intake.status import complaint_status

router = APIRouter()


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
