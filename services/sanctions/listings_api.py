"""HTTP routes of the agencies' actions on a listing — its responsible persons (stored sealed), the employer's
statements and their review, early removal (credit repair) applied for and decided — and their reads: the
listings in scope, one listing with its actions and live process, the identities and statements in clear
(audited), and the documents. Thin: HTTP in, `Sanctions` (commands.py, listing_actions.py) out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field, field_validator

from services.common.auth import Principal, bearer_principal
from services.common.commands import fingerprint_request
from services.common.openapi import file_responses
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.contracts.sanctions_workflows import PersonRole
from services.sanctions import store
from services.sanctions.api_base import ACTORS, CITY, IDENTITY, READERS, IdempotencyKey, _Body, _json, sanctions
from services.sanctions.command_base import valid_id_number

# Agency actions are fingerprinted, so that a repeated Idempotency-Key is compared with the request it came with.
router = APIRouter(prefix="/v1", dependencies=[Depends(fingerprint_request)])


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
