"""The quarterly major-violation list, drafted by a Temporal Schedule on task queue `anxin-sanctions`.

The workflow asks the sanctions worker's activity to draft the last complete quarter's list (large arrears
and cases referred to the judiciary); the city office then approves it through the API, which publishes it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.contracts.legal_time import legal_date
    from services.contracts.sanctions_workflows import (
        QUARTERLY_LIST_WORKFLOW_TYPE,
        QuarterListCommand,
        SanctionsActivities,
    )


@workflow.defn(name=QUARTERLY_LIST_WORKFLOW_TYPE)
class QuarterlyListWorkflow:
    @workflow.run
    async def run(self, quarter: str | None = None) -> str:
        # The day asked, from workflow time (China Standard Time), so a retried activity drafts the same quarter.
        asked_on = legal_date(workflow.now())
        list_id: str = await workflow.execute_activity(
            SanctionsActivities.BUILD_QUARTER_LIST,
            QuarterListCommand(quarter=quarter, asked_on=asked_on),
            result_type=str,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=50),
        )
        return list_id
