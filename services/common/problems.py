"""RFC 9457 problem details for every error an API returns (`application/problem+json`).

The application layer raises domain errors (`services/common/errors.py`); `problem_of` below is the one
place that decides their status, type and headers. `Problem` itself is for the HTTP edge: middlewares,
authentication and what a route checks of the request before any command runs.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common import errors
from services.common.problem_types import PROBLEM_PATH, install_problem_types, status_type_name

PROBLEM_JSON = "application/problem+json"
# Every `type` is `/problems/<name>`, a page of the service that answered (services/common/problem_types.py).
PROBLEM_BASE = PROBLEM_PATH


# The problem document as the OpenAPI describes it (RFC 9457 members, plus `errors` for validation).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}

# Declared on every route (`include_router(..., responses=PROBLEM_RESPONSES)`): each 4xx a route gives is a
# problem document. Without it the OpenAPI promised FastAPI's own 422 body (`HTTPValidationError`, as
# application/json) and no 401/403/404/409/429 at all, while the handlers above answer all of them as
# application/problem+json; clients generated from the schema could not read any error.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "Problem details (RFC 9457): the request was refused; `detail` says why",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    },
}


class Problem(Exception):
    """Raise from a route or domain call to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_ or f"{PROBLEM_BASE}{status_type_name(status)}"
        self.errors = errors
        self.headers = headers
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        if self.errors is not None:
            doc["errors"] = self.errors
        doc.update(self.extensions)
        return doc


# Each domain error's status; the first class of an error's MRO found here decides.
STATUS_OF: dict[type[errors.DomainError], int] = {
    errors.Incomplete: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Refused: 409,
    errors.Invalid: 422,
    errors.Unprocessable: 422,
    errors.IdempotencyKeyReused: 422,
    errors.TooManyRequests: 429,
    errors.UpstreamError: 502,
    errors.Unavailable: 503,
}


def problem_of(error: errors.DomainError) -> Problem:
    """The problem document a domain error is answered with."""
    status = next(STATUS_OF[cls] for cls in type(error).__mro__ if cls in STATUS_OF)
    headers: dict[str, str] | None = None
    if isinstance(error, errors.Refused) and error.request_at_fault:
        status = 422
    if isinstance(error, errors.Unavailable | errors.TooManyRequests) and error.retry_after is not None:
        headers = {"Retry-After": str(error.retry_after)}
    if isinstance(error, errors.Unauthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    return Problem(
        status,
        error.title,
        error.detail,
        type_=f"{PROBLEM_BASE}{error.code}" if error.code else None,
        errors=error.errors if isinstance(error, errors.Invalid) else None,
        headers=headers,
        **error.members,
    )


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(str(request.url.path) if request else None),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "worker", "id_number") -> "worker.id_number"; the transport part says nothing useful.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    install_problem_types(app)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(errors.DomainError)
    async def _refused(request: Request, exc: errors.DomainError) -> JSONResponse:
        return problem_response(problem_of(exc), request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_name(err.get("loc", ())), "code": err.get("type", "invalid"), "message": err.get("msg")}
            for err in exc.errors()
        ]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        problem = Problem(
            422,
            "The request is not valid",
            f"Check these fields: {fields}",
            type_=f"{PROBLEM_BASE}validation",
            errors=errors,
        )
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
        return problem_response(Problem(exc.status_code, title, detail, headers=getattr(exc, "headers", None)), request)
