"""HTTP routes for the public, without a token: the current blacklist (by employer name or credit code, and
one entry) with the responsible persons as the settings publish them, and the published major violations with
their lists' documents. Thin: HTTP in, the store out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.common.commands import fingerprint_request
from services.common.pagination import Cursor, Limit
from services.common.problems import Problem
from services.sanctions import domain, listing_actions_store, registers_store, store
from services.sanctions.api_base import QUARTER_PATTERN, _json, sanctions

# Fingerprinted like every route of the service (a repeated Idempotency-Key is compared with its request).
router = APIRouter(prefix="/v1", dependencies=[Depends(fingerprint_request)])


@router.get("/public/blacklist", tags=["public"], summary="The current blacklist, by employer name or credit code")
async def public_blacklist(
    request: Request, q: str | None = Query(None, max_length=100), limit: Limit = 50, cursor: Cursor = None
) -> JSONResponse:
    async with request.app.state.pool.connection() as conn:
        rows, next_cursor = await store.public_blacklist(conn, q, limit, cursor)
        persons = await listing_actions_store.persons_of(conn, [r["listing_id"] for r in rows])
    service = sanctions(request)
    items = [_public_entry(row, service.public_persons(persons.get(row["listing_id"], []))) for row in rows]
    return _json({"items": items, "next_cursor": next_cursor})


@router.get("/public/blacklist/{listing_id}", tags=["public"], summary="One entry of the current blacklist")
async def public_listing(request: Request, listing_id: str) -> JSONResponse:
    async with request.app.state.pool.connection() as conn:
        row = await store.public_listing(conn, listing_id)
        persons = await listing_actions_store.persons_of(conn, [listing_id])
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
