"""What the OpenAPI says a route answers with beyond its JSON model: files, and idempotent creation."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from services.common.problems import Problem


def file_responses(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route whose 200 is a file of one of `media_types` (declared so that clients and
    `make fuzz` know the answer is not JSON)."""
    return {200: {"description": "The content, in one of these media types", "content": {
        media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in media_types}}}


# Lifecycle commands are idempotent by their Idempotency-Key: the first request creates (201), a repeat of it
# (a retried activity) answers with the same record (200). Both are declared.
CREATED_OR_REPEATED: dict[int | str, dict[str, Any]] = {
    201: {"description": "Created"},
    200: {"description": "A repeated Idempotency-Key: the record the first request created, unchanged"},
}


def created_or_repeated(record: dict[str, Any], created: bool) -> JSONResponse:
    return JSONResponse(record, status_code=201 if created else 200)


def idempotency_key(key: str | None) -> str:
    """The Idempotency-Key header of a lifecycle command, which cannot be applied safely twice without one."""
    if not key:
        raise Problem(400, "Idempotency-Key required", "This request must carry an Idempotency-Key header.")
    return key
