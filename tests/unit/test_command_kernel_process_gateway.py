"""The command kernel's process gateway: Temporal's answers become domain errors, and each service (the referrals
service's case process, the sanctions service's procedure) names its process in its own words."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.common import errors
from services.common.problems import PROBLEM_BASE, Problem, problem_of
from services.common.process_gateway import ProcessGateway, Wording
from services.referrals.command_base import CASE_PROCESS
from services.sanctions.command_base import PROCEDURE


class _Handle:
    def __init__(self, error: BaseException) -> None:
        self._error = error

    async def execute_update(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error


class _Client:
    def __init__(self, error: BaseException) -> None:
        self._error = error

    def get_workflow_handle(self, workflow_id: str) -> _Handle:
        return _Handle(self._error)


class Arg(BaseModel):
    x: int = 1


REFUSED = WorkflowUpdateFailedError(
    ApplicationError("已记录回访结果 (the call-back is already recorded)", type="TransitionRefused")
)
MISSING = RPCError("workflow not found for ID: complaint:X", RPCStatusCode.NOT_FOUND, b"")
COMPLETED = RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b"")
DOWN = RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
BROKEN = RPCError("boom", RPCStatusCode.INTERNAL, b"")
LATE = WorkflowUpdateRPCTimeoutOrCancelledError()


@pytest.mark.parametrize(
    ("error", "status", "type_", "title", "detail", "members", "retry_after"),
    [
        (
            REFUSED,
            409,
            "action-refused",
            "The process refused the action",
            "已记录回访结果 (the call-back is already recorded)",
            {"workflow_id": "complaint:X"},
            None,
        ),
        (
            MISSING,
            404,
            "not-found",
            "No such process",
            "complaint:X is not running (workflow not found)",
            {"workflow_id": "complaint:X"},
            None,
        ),
        (
            COMPLETED,
            409,
            "action-refused",
            "The process has finished",
            "complaint:X has already finished (closed): no further action is possible",
            {"workflow_id": "complaint:X"},
            None,
        ),
        (DOWN, 503, "service-unavailable", "The process engine is unavailable", "connection refused", {}, "5"),
        (BROKEN, 502, "bad-gateway", "The process engine answered with an error", "INTERNAL: boom", {}, None),
        (
            LATE,
            503,
            "service-unavailable",
            "The process did not answer in time",
            "complaint:X did not answer within 15s; try again",
            {},
            "5",
        ),
    ],
)
async def test_temporal_answers_become_domain_errors(
    error: BaseException,
    status: int,
    type_: str,
    title: str,
    detail: str,
    members: dict[str, str],
    retry_after: str | None,
) -> None:
    gateway = ProcessGateway(_Client(error), status_query="status")  # type: ignore[arg-type]
    with pytest.raises(errors.DomainError) as caught:
        await gateway.update("complaint:X", "record_callback", Arg(), update_id="u1", result_type=Arg)
    problem = problem_of(caught.value)
    body = problem.body()
    assert (problem.status, problem.type, problem.title, problem.detail) == (
        status,
        PROBLEM_BASE + type_,
        title,
        detail,
    )
    assert {k: v for k, v in body.items() if k not in ("type", "title", "status", "detail")} == members
    assert (problem.headers or {}).get("Retry-After") == retry_after


# Each service names its process in its own words; the answers are those each service gave before.
REASON = "已记录回访结果 (the call-back is already recorded)"
REFERRALS_GONE = Problem(
    409,
    "The case process is not running",
    "case:C-1 is not running (finished or never started): the answer cannot be taken into account",
    type_=f"{PROBLEM_BASE}action-refused",
    workflow_id="case:C-1",
)
SERVICES: list[tuple[Wording, str, dict[str, str] | None, BaseException, Problem]] = [
    (
        CASE_PROCESS,
        "case:C-1",
        None,
        REFUSED,
        Problem(
            409,
            "The case process refused the answer",
            REASON,
            type_=f"{PROBLEM_BASE}action-refused",
            workflow_id="case:C-1",
        ),
    ),
    (CASE_PROCESS, "case:C-1", None, MISSING, REFERRALS_GONE),
    (CASE_PROCESS, "case:C-1", None, COMPLETED, REFERRALS_GONE),
    (
        CASE_PROCESS,
        "case:C-1",
        None,
        LATE,
        Problem(
            503,
            "The case process did not answer in time",
            "case:C-1 did not answer within 15s; try again",
            headers={"Retry-After": "5"},
        ),
    ),
    (
        PROCEDURE,
        "listing:BL-1",
        {"listing_id": "BL-1"},
        REFUSED,
        Problem(
            409, "The procedure refused the action", REASON, type_=f"{PROBLEM_BASE}action-refused", listing_id="BL-1"
        ),
    ),
    (
        PROCEDURE,
        "listing:BL-1",
        {"listing_id": "BL-1"},
        COMPLETED,
        Problem(
            409,
            "The procedure has ended",
            "listing BL-1's procedure has finished: no further action is possible",
            type_=f"{PROBLEM_BASE}action-refused",
        ),
    ),
    (
        PROCEDURE,
        "listing:BL-1",
        {"listing_id": "BL-1"},
        MISSING,
        Problem(404, "No such procedure", "listing BL-1 has no running procedure"),
    ),
    (
        PROCEDURE,
        "listing:BL-1",
        {"listing_id": "BL-1"},
        LATE,
        Problem(503, "The procedure did not answer in time", "try again", headers={"Retry-After": "5"}),
    ),
]


@pytest.mark.parametrize(("wording", "workflow_id", "subject", "error", "before"), SERVICES)
async def test_a_service_names_its_process_in_its_own_words(
    wording: Wording, workflow_id: str, subject: dict[str, str] | None, error: BaseException, before: Problem
) -> None:
    gateway = ProcessGateway(_Client(error), status_query="status", wording=wording)  # type: ignore[arg-type]
    with pytest.raises(errors.DomainError) as caught:
        await gateway.update(workflow_id, "review", Arg(), update_id="u1", subject=subject)
    problem = problem_of(caught.value)
    assert (problem.status, problem.body(), problem.headers) == (before.status, before.body(), before.headers)
