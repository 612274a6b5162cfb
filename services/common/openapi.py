"""What the OpenAPI says a route answers with beyond its JSON model: files, idempotent creation, and the problem
document of every refusal."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.common.problems import PROBLEM_JSON, PROBLEM_SCHEMA, Problem


def file_responses(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route whose 200 is a file of one of `media_types` (declared so that clients and
    `make fuzz` know the answer is not JSON)."""
    return {
        200: {
            "description": "The content, in one of these media types",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in media_types},
        }
    }


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


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def with_shared_problem_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """`openapi` with the problem document as one named schema, `Problem`, that every 4xx response refers to:
    those the routers declare for all routes (`PROBLEM_RESPONSES`), and those a route declares by status with a
    description only (a 422 whose `errors` name the fields, a 429), which the handlers answer with a problem
    document all the same. Generated clients then read every refusal into one `Problem` type."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = {
        **PROBLEM_SCHEMA,
        "title": "Problem",
        "description": "Problem details (RFC 9457): why the request was refused.",
    }
    for path_item in openapi.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith("4"):
                    continue
                content = response.setdefault("content", {})
                problem = content.get(PROBLEM_JSON)
                if not content or (problem is not None and problem.get("schema") == PROBLEM_SCHEMA):
                    content[PROBLEM_JSON] = {"schema": PROBLEM_REF}
    return openapi


def install_shared_problem_schema(app: FastAPI) -> None:
    """Serve `app`'s OpenAPI document `with_shared_problem_schema` (built once, as FastAPI does)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_shared_problem_schema(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
