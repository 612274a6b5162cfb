"""Intake's complaints API for agencies (`/v1/complaints...`, `/v1/evidence`, `/v1/clues/import`), and what
intake's routes share: the `Intake` and the evidence store of the app, the caller's address, who files and reads.

Routes stay thin: parse the request, call `Intake` (validation, storage with the event) or the store, shape the
answer; errors are RFC 9457 problems. The other routes are by resource: the project sites and their posters in
`site_api.py`, the worker's pages (`/`, `/form`, `/status`) in `page_routes.py`, the employer register in
`employer_api.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import unquote

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.common import audit
from services.common.auth import Principal, Role, bearer_principal, require_roles
from services.common.errors import TooManyRequests
from services.common.problems import Problem
from services.intake import clues, domain, identifiers, lookups, store
from services.intake.evidence import EvidenceRejected, EvidenceStore
from services.intake.status import complaint_status
from services.intake.submissions import Intake

router = APIRouter()

FILERS = (Role.intake_clerk, Role.county_inspector, Role.city_office)
READERS = (Role.intake_clerk, Role.county_inspector, Role.city_office, Role.operator)


def intake(request: Request) -> Intake:
    return request.app.state.intake  # type: ignore[no-any-return]


def evidence_store(request: Request) -> EvidenceStore:
    return request.app.state.evidence  # type: ignore[no-any-return]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


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
