"""The report workflow, run by the weekly, quarterly and peak-period daily Temporal Schedules on task queue
`anxin-cases`.

Workflow code: imports only temporalio, the standard library, its own models and the contracts; the
activity (hosted by the cases worker, `services/cases/worker.py`) computes, renders and stores the report.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from services.contracts.legal_time import legal_date

REPORT_WORKFLOW_TYPE = "CasesReport"
PRODUCE_REPORT_ACTIVITY = "cases.produce_report"


class ReportRequest(BaseModel):
    kind: str  # "daily" | "weekly" | "quarterly"
    period: str | None = None  # a label such as "2026-Q4"; None: the last complete period before today
    # The peak-period schedule's daily request: reported only when the day asked on is in a peak period.
    peak_only: bool = False


class ProduceReport(BaseModel):
    kind: str
    period: str | None
    # The day the report is asked for (China Standard Time), from workflow time, so a retried activity
    # reports the same period.
    asked_on: str
    peak_only: bool = False


@workflow.defn(name=REPORT_WORKFLOW_TYPE)
class ReportWorkflow:
    @workflow.run
    async def run(self, request: ReportRequest) -> str:
        """The report's id; empty when a peak-only request falls outside the peak periods."""
        asked_on = legal_date(workflow.now()).isoformat()
        produce = ProduceReport(kind=request.kind, period=request.period, asked_on=asked_on)
        if workflow.patched("report-peak-only"):
            produce.peak_only = request.peak_only
        report_id: str = await workflow.execute_activity(
            PRODUCE_REPORT_ACTIVITY,
            produce,
            result_type=str,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=20),
        )
        return report_id
