"""HTTP routes of the sanctions service: thin, HTTP in, domain call, store, workflow call out. Here the
lifecycle's requests, and `ROUTERS`, every router of the service as the app mounts them:

- `/v1/blacklist-procedures`, `/v1/publication-marks`, `/v1/corrections`: the lifecycle's requests,
  idempotent by `Idempotency-Key` (here).
- `/v1/listings/...`, `/v1/documents/...`: agencies act on a listing (responsible persons, statements, review,
  credit repair) and read its documents (`listings_api.py`).
- `/v1/publication-lists/...`: the quarterly list of major violations, drafted and approved; and
  `/v1/criminal-transfers`: the register of referrals to the police, and its statistics (`registers_api.py`).
- `/v1/public/...`: the public, without a token: the current blacklist and the published major violations
  (`public_api.py`).
- `/v1/interview-proposals`, `/v1/interviews/...`: joint interviews (`interviews_api.py`).

What the routers share (roles, the Idempotency-Key header, the JSON answer) is in `api_base.py`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.common.auth import LIFECYCLE_CALLER
from services.common.commands import fingerprint_request
from services.common.openapi import CREATED_OR_REPEATED, created_or_repeated, idempotency_key
from services.contracts.lifecycle import SanctionRequest
from services.sanctions import listings_api, public_api, registers_api
from services.sanctions.api_base import IdempotencyKey, sanctions
from services.sanctions.interviews_api import router as interviews_router

# Agency actions are fingerprinted, so that a repeated Idempotency-Key is compared with the request it came with.
router = APIRouter(prefix="/v1", dependencies=[Depends(fingerprint_request)])


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


# Every router of the service, as the app mounts them (the authorisation matrix checks each route of each).
ROUTERS = [router, listings_api.router, registers_api.router, public_api.router, interviews_router]
