"""The chart, the events' payload contract, the report workflow under time skipping, and an inspector's action
refused by its contract's own rules (Temporal's answers: `tests/unit/test_command_kernel_process_gateway.py`)."""

from __future__ import annotations

import io
import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
from PIL import Image
from temporalio import activity
from temporalio.worker import Worker

from services.cases import periods, report_figures
from services.cases.actions import contract_model
from services.cases.report_workflow import (
    PRODUCE_REPORT_ACTIVITY,
    ProduceReport,
    ReportRequest,
    ReportWorkflow,
)
from services.cases.reports import CHART_COLOURS, render_chart
from services.common.errors import Invalid
from services.common.problems import PROBLEM_BASE, problem_of
from services.contracts.lifecycle import AcceptanceDecision
from tests.support.time_skipping import start_time_skipping


def test_the_chart_draws_one_group_per_area_with_cjk_labels() -> None:
    rows = report_figures.report_rows(
        report_figures.compute_figures(
            report_figures.ReportFacts(
                received=Counter({"130402": 4, "130403": 2}),
                accepted=Counter({"130402": 3}),
                resolved=Counter({("130403", True): 1}),
            )
        )
    )
    png = render_chart("欠薪线索办理情况 2026-Q4", rows)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (max(640, 140 + 3 * 150), 460)
    counts = Counter(c for _, c in image.getcolors(maxcolors=1_000_000) or [])
    colours = {tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) for h in CHART_COLOURS}
    assert colours <= set(counts)
    # An empty period still renders (an axis and the legend, no bars to speak of).
    assert Image.open(io.BytesIO(render_chart("空", []))).format == "PNG"


def test_a_contract_rule_becomes_a_422_problem() -> None:
    with pytest.raises(Invalid) as caught:
        contract_model(AcceptanceDecision, decided_by="i", decision="reject")
    problem = problem_of(caught.value)
    assert (problem.status, problem.type, problem.title) == (
        422,
        f"{PROBLEM_BASE}validation",
        "The request is not valid",
    )
    assert "reason" in (problem.detail or "") and problem.errors and problem.errors[0]["field"] == "body"


async def test_the_report_workflow_asks_for_the_period_on_its_own_clock() -> None:
    asked: list[ProduceReport] = []

    @activity.defn(name=PRODUCE_REPORT_ACTIVITY)
    async def produce(request: ProduceReport) -> str:
        asked.append(request)
        period = periods.previous_period(request.kind, date.fromisoformat(request.asked_on))  # type: ignore[arg-type]
        return f"R-{period.kind}-{period.label}"

    async with await start_time_skipping() as env:
        queue = f"test-{uuid.uuid4().hex[:8]}"
        async with Worker(env.client, task_queue=queue, workflows=[ReportWorkflow], activities=[produce]):
            result = await env.client.execute_workflow(
                ReportWorkflow.run,
                ReportRequest(kind="quarterly"),
                id=f"report-{queue}",
                task_queue=queue,
                execution_timeout=timedelta(minutes=1),
            )
    assert result.startswith("R-quarterly-") and asked[0].period is None and asked[0].kind == "quarterly"
