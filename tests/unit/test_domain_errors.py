"""Domain errors become the problem documents the services answered with when they raised `Problem` themselves:
the same status, type, title, detail, extra members and headers."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.common import errors
from services.common.problems import PROBLEM_BASE, Problem, install_problem_handlers, problem_of

FIELD_ERRORS = [{"field": "reason", "code": "value_error", "message": "a rejection needs a reason"}]

# Each domain error next to the `Problem` the application layer raised for it before.
CASES: list[tuple[errors.DomainError, Problem]] = [
    (
        errors.NotFound("No such case", "case C-1 was not found in your scope"),
        Problem(404, "No such case", "case C-1 was not found in your scope"),
    ),
    (
        errors.NotFound("No such process", "case:C-1 is not running (workflow not found)", workflow_id="case:C-1"),
        Problem(404, "No such process", "case:C-1 is not running (workflow not found)", workflow_id="case:C-1"),
    ),
    (
        errors.Forbidden("only the department the case was handed off to answers it"),
        Problem(403, "Forbidden", "only the department the case was handed off to answers it"),
    ),
    (
        errors.Unauthenticated("Authentication required", "this document is available to agencies only"),
        Problem(
            401,
            "Authentication required",
            "this document is available to agencies only",
            headers={"WWW-Authenticate": "Bearer"},
        ),
    ),
    (
        errors.Incomplete("Filter required", "name a case_id, handoff_id or referral_id"),
        Problem(400, "Filter required", "name a case_id, handoff_id or referral_id"),
    ),
    (
        errors.Refused("The process refused the action", "already recorded", workflow_id="complaint:X"),
        Problem(
            409,
            "The process refused the action",
            "already recorded",
            type_=f"{PROBLEM_BASE}action-refused",
            workflow_id="complaint:X",
        ),
    ),
    (
        errors.Refused("Name the case process", "name one", request_at_fault=True),
        Problem(422, "Name the case process", "name one", type_=f"{PROBLEM_BASE}action-refused"),
    ),
    (
        errors.Refused(
            "The legal criteria for a listing are not met",
            "nothing is unpaid",
            request_at_fault=True,
            code="listing-criteria",
        ),
        Problem(
            422,
            "The legal criteria for a listing are not met",
            "nothing is unpaid",
            type_=f"{PROBLEM_BASE}listing-criteria",
        ),
    ),
    (
        errors.Conflict("The handoff changed", "the handoff was answered meanwhile; read it again"),
        Problem(409, "The handoff changed", "the handoff was answered meanwhile; read it again"),
    ),
    (
        errors.Invalid("The request is not valid", "a rejection needs a reason", errors=FIELD_ERRORS),
        Problem(
            422,
            "The request is not valid",
            "a rejection needs a reason",
            type_=f"{PROBLEM_BASE}validation",
            errors=FIELD_ERRORS,
        ),
    ),
    (
        errors.Invalid("Unknown department", "department 'x' is not configured"),
        Problem(422, "Unknown department", "department 'x' is not configured", type_=f"{PROBLEM_BASE}validation"),
    ),
    (
        errors.Unprocessable("Nothing would remain", "a split must leave at least one complaint"),
        Problem(422, "Nothing would remain", "a split must leave at least one complaint"),
    ),
    (
        errors.IdempotencyKeysDiffer(),
        Problem(
            422, "Idempotency keys differ", "the Idempotency-Key header and the body's idempotency_key must be the same"
        ),
    ),
    (
        errors.IdempotencyKeyReused("letter"),
        Problem(
            422,
            "Idempotency-Key reused",
            "the Idempotency-Key was used for a different letter request",
            type_=f"{PROBLEM_BASE}idempotency-key-reused",
        ),
    ),
    (
        errors.Unavailable("The process engine is unavailable", "connection refused"),
        Problem(503, "The process engine is unavailable", "connection refused", headers={"Retry-After": "5"}),
    ),
    (
        errors.Unavailable("The process could not be read", "query failed", retry_after=None),
        Problem(503, "The process could not be read", "query failed"),
    ),
    (
        errors.TooManyRequests("Too many complaints", "try again in 120 seconds", retry_after=120),
        Problem(
            429,
            "Too many complaints",
            "try again in 120 seconds",
            type_=f"{PROBLEM_BASE}rate-limited",
            headers={"Retry-After": "120"},
        ),
    ),
    (
        errors.Invalid(
            "The complaint is not valid", "Please check: phone", code="invalid-complaint", errors=FIELD_ERRORS
        ),
        Problem(
            422,
            "The complaint is not valid",
            "Please check: phone",
            type_=f"{PROBLEM_BASE}invalid-complaint",
            errors=FIELD_ERRORS,
        ),
    ),
    (
        errors.UpstreamError("The process engine answered with an error", "INTERNAL: boom"),
        Problem(502, "The process engine answered with an error", "INTERNAL: boom"),
    ),
]


@pytest.mark.parametrize(("error", "before"), CASES, ids=[type(e).__name__ for e, _ in CASES])
def test_a_domain_error_is_answered_as_before(error: errors.DomainError, before: Problem) -> None:
    problem = problem_of(error)
    assert problem.status == before.status
    assert problem.body("/v1/x") == before.body("/v1/x")
    assert list(problem.body()) == list(before.body())  # the members in the same order too
    assert problem.headers == before.headers


def test_every_domain_error_is_pinned_above() -> None:
    def subclasses(cls: type[errors.DomainError]) -> list[type[errors.DomainError]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    for cls in subclasses(errors.DomainError):
        if cls.__module__ != errors.__name__:
            continue  # a service's own refinement, pinned with its service
        assert cls in {type(e) for e, _ in CASES}, f"{cls.__name__} has no case above"


def test_the_edge_answers_a_domain_error_as_a_problem_document() -> None:
    api = FastAPI()
    install_problem_handlers(api)

    @api.post("/v1/listings/{listing_id}/early-removal-applications")
    def apply(listing_id: str) -> Any:
        refusal = errors.Refused("The procedure refused the action", "not yet six months", listing_id=listing_id)
        refusal.members["application_id"] = "ER-1"
        raise refusal

    @api.get("/v1/letters")
    def letters() -> Any:
        raise errors.Unavailable("Case facts not known yet", "retry shortly")

    client = TestClient(api)
    refused = client.post("/v1/listings/BL-1/early-removal-applications")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json() == {
        "type": f"{PROBLEM_BASE}action-refused",
        "title": "The procedure refused the action",
        "status": 409,
        "detail": "not yet six months",
        "instance": "/v1/listings/BL-1/early-removal-applications",
        "listing_id": "BL-1",
        "application_id": "ER-1",
    }
    unavailable = client.get("/v1/letters")
    assert unavailable.status_code == 503 and unavailable.headers["retry-after"] == "5"
    assert unavailable.json()["type"] == f"{PROBLEM_BASE}service-unavailable"


APPLICATION_LAYER = [
    path
    for service in ("intake", "cases", "referrals", "sanctions", "monitoring", "webhooks")
    for name in ("actions.py", "commands.py", "submissions.py", "store.py", "domain.py")
    if (path := Path(__file__).parents[2] / "services" / service / name).exists()
]


@pytest.mark.parametrize("path", APPLICATION_LAYER, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_application_layer_raises_domain_errors_not_problems(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert "services.common.problems" not in imported
    assert not {m.split(".")[0] for m in imported} & {"fastapi", "starlette"}
