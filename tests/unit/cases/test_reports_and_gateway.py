"""The chart, the events' payload contract, the report workflow under time skipping, and how Temporal's
answers to an inspector's action become problem documents."""

from __future__ import annotations

import io
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from PIL import Image
from pydantic import BaseModel, ValidationError
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.cases import domain
from services.cases.actions import ProcessGateway, contract_model
from services.cases.report_workflow import (
    PRODUCE_REPORT_ACTIVITY,
    ProduceReport,
    ReportRequest,
    ReportWorkflow,
)
from services.cases.reports import CHART_COLOURS, render_chart
from services.common.problems import Problem
from services.common.temporal import data_converter, test_server_path
from services.contracts.cases_events import PAYLOADS, CaseEvents, parse_payload
from services.contracts.lifecycle import AcceptanceDecision, ComplaintStatus


def test_the_chart_draws_one_group_per_area_with_cjk_labels() -> None:
    rows = domain.report_rows(domain.compute_figures(domain.ReportFacts(
        received=Counter({"130402": 4, "130403": 2}), accepted=Counter({"130402": 3}),
        resolved=Counter({("130403", True): 1}))))
    png = render_chart("欠薪线索办理情况 2026-Q4", rows)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (max(640, 140 + 3 * 150), 460)
    counts = Counter(c for _, c in image.getcolors(maxcolors=1_000_000) or [])
    colours = {tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)) for h in CHART_COLOURS}
    assert colours <= set(counts)
    # An empty period still renders (an axis and the legend, no bars to speak of).
    assert Image.open(io.BytesIO(render_chart("空", []))).format == "PNG"


def test_every_event_type_has_a_versioned_payload_schema_without_unknown_fields() -> None:
    names = {v for k, v in vars(CaseEvents).items() if k.isupper()}
    assert names == {name for name, _ in PAYLOADS} and all(version == 1 for _, version in PAYLOADS)
    with pytest.raises(ValidationError):
        parse_payload(CaseEvents.PAYMENT_RECORDED, 1, {"action_id": "A", "case_id": "C", "county": "130402",
                                                       "actor": "x", "payment_id": "P", "amount": "1",
                                                       "worker_name": "张三"})
    assert parse_payload("case.unknown", 1, {}) is None


def test_a_contract_rule_becomes_a_422_problem() -> None:
    with pytest.raises(Problem) as caught:
        contract_model(AcceptanceDecision, decided_by="i", decision="reject")
    assert caught.value.status == 422 and "reason" in (caught.value.detail or "")


async def test_the_report_workflow_asks_for_the_period_on_its_own_clock() -> None:
    asked: list[ProduceReport] = []

    @activity.defn(name=PRODUCE_REPORT_ACTIVITY)
    async def produce(request: ProduceReport) -> str:
        asked.append(request)
        period = domain.previous_period(request.kind, date.fromisoformat(request.asked_on))  # type: ignore[arg-type]
        return f"R-{period.kind}-{period.label}"

    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()), data_converter=data_converter()
    ) as env:
        queue = f"test-{uuid.uuid4().hex[:8]}"
        async with Worker(env.client, task_queue=queue, workflows=[ReportWorkflow], activities=[produce]):
            result = await env.client.execute_workflow(
                ReportWorkflow.run, ReportRequest(kind="quarterly"), id=f"report-{queue}", task_queue=queue,
                execution_timeout=timedelta(minutes=1),
            )
    assert result.startswith("R-quarterly-") and asked[0].period is None and asked[0].kind == "quarterly"


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


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (WorkflowUpdateFailedError(ApplicationError("已记录回访结果 (the call-back is already recorded)",
                                                    type="TransitionRefused")), 409, "already recorded"),
        (RPCError("workflow not found for ID: complaint:X", RPCStatusCode.NOT_FOUND, b""), 404, "not running"),
        (RPCError("workflow execution already completed", RPCStatusCode.NOT_FOUND, b""), 409, "finished"),
        (RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b""), 503, "connection refused"),
        (WorkflowUpdateRPCTimeoutOrCancelledError(), 503, "did not answer"),
    ],
)
async def test_temporal_answers_become_problems(error: BaseException, status: int, words: str) -> None:
    gateway = ProcessGateway(_Client(error))  # type: ignore[arg-type]

    class Arg(BaseModel):
        x: int = 1

    with pytest.raises(Problem) as caught:
        await gateway.update("complaint:X", "record_callback", Arg(), ComplaintStatus, "u1")
    assert caught.value.status == status and words in (caught.value.detail or "")
