"""HTTP routes of the sanctions service: thin, HTTP in, domain call, store, workflow call out.

- `/v1/blacklist-procedures`, `/v1/publication-marks`, `/v1/corrections`: the lifecycle's requests,
  idempotent by `Idempotency-Key`.
- `/v1/listings/...`: agencies act on a listing (responsible persons, statements, review, credit repair).
- `/v1/publication-lists/...`: the quarterly list of major violations, drafted and approved.
- `/v1/criminal-transfers`: the register of referrals to the police, and its statistics.
- `/v1/public/...`: the public, without a token: the current blacklist and the published major violations.
- `/v1/interview-proposals`, `/v1/interviews/...`: joint interviews (`interviews_api.py`; `ROUTERS` has both).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.common.auth import LIFECYCLE_CALLER, Principal, Role, bearer_principal, require_roles
from services.common.commands import fingerprint_request
from services.common.exports import XLSX_MEDIA_TYPE, download, xlsx
from services.common.openapi import (
    CREATED_OR_REPEATED,
    created_or_repeated,
    file_responses,
    idempotency_key,
)
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.contracts.lifecycle import SanctionRequest
from services.contracts.sanctions_workflows import PersonRole
from services.sanctions import activities, documents, domain, registers_store, store
from services.sanctions.command_base import valid_id_number
from services.sanctions.commands import Sanctions
from services.sanctions.interviews_api import router as interviews_router

# Agency actions are fingerprinted, so that a repeated Idempotency-Key is compared with the request it came with.
router = APIRouter(prefix="/v1", dependencies=[Depends(fingerprint_request)])

# A quarter of this century, e.g. 2026-Q3 (year 0 or 9999 is a typing error, not a quarter to publish).
QUARTER_PATTERN = r"^20\d{2}-Q[1-4]$"

READERS = require_roles(*domain.READ_ROLES)
ACTORS = require_roles(*domain.ACT_ROLES)
CITY = require_roles(*domain.DECIDE_ROLES)
IDENTITY = require_roles(*domain.IDENTITY_ROLES)
REGISTER_READERS = require_roles(
    Role.city_office, Role.county_inspector, Role.police, Role.procuratorate, Role.operator
)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def sanctions(request: Request) -> Sanctions:
    return request.app.state.sanctions  # type: ignore[no-any-return]


def _json(value: Any) -> JSONResponse:
    # Money stays a string (never a float); dates and instants become ISO 8601.
    return JSONResponse(content=jsonable_encoder(_plain(value)))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not isinstance(v, bytes | memoryview)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- the lifecycle's requests ------------------------------------------------------------------------------


@router.post(
    "/blacklist-procedures",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Start the blacklist procedure for a case (only when the legal criteria hold)",
)
async def post_blacklist_procedure(request: Request, body: SanctionRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await sanctions(request).propose(idempotency_key(key), body))


@router.post(
    "/publication-marks",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Mark a case for the quarterly major-violation publication",
)
async def post_publication_mark(request: Request, body: SanctionRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await sanctions(request).mark(idempotency_key(key), body))


@router.post(
    "/corrections",
    responses=CREATED_OR_REPEATED,
    tags=["lifecycle"],
    dependencies=[LIFECYCLE_CALLER],
    summary="Report wages paid after the refusal (may leave the employer off, enables credit repair)",
)
async def post_correction(request: Request, body: SanctionRequest, key: IdempotencyKey = None) -> JSONResponse:
    return created_or_repeated(*await sanctions(request).correction(idempotency_key(key), body))


# --- agencies: listings -----------------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonBody(_Body):
    role: PersonRole
    name: str = Field(min_length=2, max_length=50)
    id_number: str | None = Field(None, description="Resident ID number (18 characters, checked); stored sealed.")

    @field_validator("id_number")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return valid_id_number(value) if value else None


class PersonsBody(_Body):
    persons: list[PersonBody] = Field(min_length=1, max_length=20)


class StatementBody(_Body):
    text: str = Field(min_length=2, max_length=20000, description="The employer's statement and defence.")


class ReviewBody(_Body):
    list_employer: bool
    reason: str = Field(min_length=2, max_length=2000)


class ApplicationBody(_Body):
    pledge_ref: str = Field(min_length=1, max_length=200, description="The signed credit pledge (信用承诺书).")
    payment_proof_ref: str = Field(min_length=1, max_length=200, description="Proof that the wages were paid.")


class DecisionBody(_Body):
    grant: bool
    reason: str = Field(min_length=2, max_length=2000)


@router.get("/listings", tags=["listings"], summary="Listings in your scope, newest first")
async def get_listings(
    request: Request,
    stage: str | None = None,
    county: str | None = None,
    pending_application: bool | None = Query(
        None,
        description="true: only listings with an early-removal "
        "application waiting for its decision; false: only those without",
    ),
    limit: Limit = 50,
    cursor: Cursor = None,
    principal: Principal = READERS,
) -> JSONResponse:
    if principal.county and county and county != principal.county:
        raise Problem(403, "Forbidden", f"your scope is county {principal.county}")
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await store.search_listings(
            conn,
            stage=stage,
            county=principal.county or county,
            limit=limit,
            cursor=cursor,
            pending_application=pending_application,
        )
    return _json({"items": rows, "next_cursor": next_cursor})


@router.get("/listings/{listing_id}", tags=["listings"], summary="A listing with its actions and live process")
async def get_listing(request: Request, listing_id: str, principal: Principal = READERS) -> JSONResponse:
    return _json(await sanctions(request).listing_view(principal, listing_id))


@router.put(
    "/listings/{listing_id}/responsible-persons",
    tags=["listings"],
    summary="Record the legal representative and persons in charge (before the decision; stored sealed)",
)
async def put_persons(
    request: Request, listing_id: str, body: PersonsBody, key: IdempotencyKey = None, principal: Principal = ACTORS
) -> JSONResponse:
    return _json(
        await sanctions(request).record_persons(principal, listing_id, [p.model_dump() for p in body.persons], key)
    )


@router.get(
    "/listings/{listing_id}/responsible-persons",
    tags=["listings"],
    summary="Responsible persons in clear, for joint discipline (city office, credit systems; audited)",
)
async def get_persons(request: Request, listing_id: str, principal: Principal = IDENTITY) -> JSONResponse:
    return _json({"listing_id": listing_id, "persons": await sanctions(request).identities(principal, listing_id)})


@router.post(
    "/listings/{listing_id}/statements",
    tags=["listings"],
    summary="Record the employer's statement and defence (within the period)",
)
async def post_statement(
    request: Request, listing_id: str, body: StatementBody, key: IdempotencyKey = None, principal: Principal = ACTORS
) -> JSONResponse:
    return _json(await sanctions(request).record_statement(principal, listing_id, body.text, key))


@router.get(
    "/listings/{listing_id}/statements",
    tags=["listings"],
    summary="The employer's statements in clear, for their review (city office, county inspectors; audited)",
)
async def get_statements(request: Request, listing_id: str, principal: Principal = ACTORS) -> JSONResponse:
    return _json(
        {"listing_id": listing_id, "statements": await sanctions(request).statement_texts(principal, listing_id)}
    )


@router.post(
    "/listings/{listing_id}/review",
    tags=["listings"],
    summary="The city office's review of a statement: list, or accept the defence",
)
async def post_review(
    request: Request, listing_id: str, body: ReviewBody, key: IdempotencyKey = None, principal: Principal = CITY
) -> JSONResponse:
    return _json(await sanctions(request).review_statement(principal, listing_id, body.list_employer, body.reason, key))


@router.post(
    "/listings/{listing_id}/early-removal-applications",
    tags=["listings"],
    summary="Apply for early removal (credit repair): paid in full, 6 months after correction, pledge",
)
async def post_application(
    request: Request, listing_id: str, body: ApplicationBody, key: IdempotencyKey = None, principal: Principal = ACTORS
) -> JSONResponse:
    return _json(
        await sanctions(request).apply_for_early_removal(
            principal, listing_id, body.pledge_ref, body.payment_proof_ref, key
        )
    )


@router.post(
    "/listings/{listing_id}/early-removal-applications/{application_id}/decision",
    tags=["listings"],
    summary="Grant or refuse an accepted early-removal application (city office)",
)
async def post_application_decision(
    request: Request,
    listing_id: str,
    application_id: str,
    body: DecisionBody,
    key: IdempotencyKey = None,
    principal: Principal = CITY,
) -> JSONResponse:
    return _json(
        await sanctions(request).decide_early_removal(
            principal, listing_id, application_id, body.grant, body.reason, key
        )
    )


@router.get(
    "/documents/{document_id}",
    tags=["listings"],
    summary="A document: notices and decisions for agencies, published lists for everyone",
    response_class=Response,
    responses=file_responses("application/pdf", "text/html"),
)
async def get_document(request: Request, document_id: str) -> Response:
    doc = await sanctions(request).document(bearer_principal(request), document_id)
    return Response(
        doc["content"],
        media_type=doc["media_type"],
        headers={"ETag": f'"{doc["sha256"]}"', "X-Document-Number": _ascii(doc["document_number"])},
    )


def _ascii(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


# --- the quarterly publication ------------------------------------------------------------------------------------


class QuarterBody(_Body):
    quarter: str = Field(pattern=QUARTER_PATTERN, examples=["2026-Q3"])


@router.post(
    "/publication-lists", tags=["publication"], summary="Draft (or redraft) a quarter's list now (city office)"
)
async def post_publication_list(request: Request, body: QuarterBody, principal: Principal = CITY) -> JSONResponse:
    list_id = await activities.build_quarter_list(request.app.state.pool, request.app.state.settings, body.quarter)
    async with request.app.state.pool.connection() as conn:
        return _json(await registers_store.get_list(conn, list_id))


@router.get("/publication-lists", tags=["publication"], summary="Drafted and published lists")
async def get_publication_lists(request: Request, principal: Principal = READERS) -> JSONResponse:
    async with request.app.state.pool.connection() as conn:
        return _json({"items": await registers_store.lists(conn, published_only=False)})


@router.get(
    "/publication-lists/{list_id}.xlsx",
    tags=["publication"],
    summary="A drafted or published list as an Excel workbook",
    response_class=Response,
    responses=file_responses(XLSX_MEDIA_TYPE),
)
async def get_publication_list_xlsx(request: Request, list_id: str, principal: Principal = READERS) -> Response:
    async with request.app.state.pool.connection() as conn:
        found = await registers_store.get_list(conn, list_id)
    if found is None:
        raise Problem(404, "No such list", f"no publication list {list_id}")
    title = documents.list_title(request.app.state.settings.authority, found["quarter"])
    workbook = xlsx(
        found["quarter"],
        [[title], [label for _, label in documents.LIST_COLUMNS]],
        ([entry.get(name) for name, _ in documents.LIST_COLUMNS] for entry in found["entries"]),
    )
    return download(workbook, f"{list_id}.xlsx", XLSX_MEDIA_TYPE)


@router.post(
    "/publication-lists/{list_id}/approval",
    tags=["publication"],
    summary="Approve and publish a drafted list: record, PDF, HTML and event (city office)",
)
async def post_approval(request: Request, list_id: str, principal: Principal = CITY) -> JSONResponse:
    return _json(await sanctions(request).publish_quarter(principal, list_id))


# --- the criminal-transfer register ---------------------------------------------------------------------------------


@router.get("/criminal-transfers", tags=["register"], summary="Referrals to the police with their outcome")
async def get_transfers(
    request: Request,
    county: str | None = None,
    outcome: str | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    principal: Principal = REGISTER_READERS,
) -> JSONResponse:
    county = principal.county or county
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await registers_store.transfers(
            conn, county=county, outcome=outcome, limit=limit, cursor=cursor
        )
    return _json({"items": rows, "next_cursor": next_cursor})


@router.get("/criminal-transfers/statistics", tags=["register"], summary="Referrals and outcomes per county")
async def get_transfer_statistics(
    request: Request, start: date | None = None, end: date | None = None, principal: Principal = REGISTER_READERS
) -> JSONResponse:
    async with request.app.state.pool.connection() as conn:
        rows = await registers_store.transfer_statistics(conn, start, end)
    if principal.county:
        rows = [r for r in rows if r["county"] == principal.county]
    return _json({"start": start, "end": end, "rows": rows})


# --- the public --------------------------------------------------------------------------------------------------------


@router.get("/public/blacklist", tags=["public"], summary="The current blacklist, by employer name or credit code")
async def public_blacklist(
    request: Request, q: str | None = Query(None, max_length=100), limit: Limit = 50, cursor: Cursor = None
) -> JSONResponse:
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await store.public_blacklist(conn, q, limit, cursor)
        persons = await store.persons_of(conn, [r["listing_id"] for r in rows])
    service = sanctions(request)
    items = [_public_entry(row, service.public_persons(persons.get(row["listing_id"], []))) for row in rows]
    return _json({"items": items, "next_cursor": next_cursor})


@router.get("/public/blacklist/{listing_id}", tags=["public"], summary="One entry of the current blacklist")
async def public_listing(request: Request, listing_id: str) -> JSONResponse:
    async with request.app.state.pool.connection() as conn:
        row = await store.public_listing(conn, listing_id)
        persons = await store.persons_of(conn, [listing_id])
    if row is None:
        raise Problem(404, "Not on the blacklist", f"{listing_id} is not a current blacklist entry")
    return _json(_public_entry(row, sanctions(request).public_persons(persons.get(listing_id, []))))


def _public_entry(row: dict[str, Any], persons: list[dict[str, str]]) -> dict[str, Any]:
    from services.contracts.lifecycle import ListingGround

    return {
        "listing_id": row["listing_id"],
        "employer_name": row["employer_name"],
        "credit_code": row["credit_code"],
        "county": row["county"],
        "ground": domain.GROUND_NAMES[ListingGround(row["ground"])],
        "decision_number": row["decision_number"],
        "listed_on": row["listed_on"],
        "expires_on": row["expires_on"],
        "responsible_persons": persons,
    }


PUBLIC_ENTRY_FIELDS = ("employer_name", "credit_code", "project_name", "county", "violation", "handling")


@router.get(
    "/public/major-violations", tags=["public"], summary="Published major violations, by employer name or credit code"
)
async def public_major_violations(
    request: Request,
    q: str | None = Query(None, max_length=100),
    quarter: str | None = Query(None, pattern=QUARTER_PATTERN),
) -> JSONResponse:
    async with request.app.state.pool.connection() as conn:
        published = await registers_store.lists(conn, published_only=True)
    needle = (q or "").strip()
    items = []
    for published_list in published:
        if quarter and published_list["quarter"] != quarter:
            continue
        for entry in published_list["entries"]:
            if (
                needle
                and needle not in (entry.get("employer_name") or "")
                and needle.upper() != entry.get("credit_code")
            ):
                continue
            items.append(
                {
                    "quarter": published_list["quarter"],
                    "list_id": published_list["list_id"],
                    **{k: entry.get(k) for k in PUBLIC_ENTRY_FIELDS},
                }
            )
    lists_ = [
        {
            "list_id": p["list_id"],
            "quarter": p["quarter"],
            "published_at": p["published_at"],
            "pdf": f"/v1/documents/{p['pdf_document_id']}",
            "html": f"/v1/documents/{p['html_document_id']}",
        }
        for p in published
        if not quarter or p["quarter"] == quarter
    ]
    return _json({"items": items, "lists": lists_})


# Every router of the service, as the app mounts them (the authorisation matrix checks each route of each).
ROUTERS = [router, interviews_router]
