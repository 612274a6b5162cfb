"""A workflow that asks for a payout the way a case workflow does: the `monitoring.request_payout` activity on the
monitoring worker's task queue (services/contracts/guarantee_funds.py). The integration test runs it on a queue of
its own; the activity itself runs on the real monitoring worker."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.contracts.guarantee_funds import REQUEST_PAYOUT_ACTIVITY, PayoutAccepted, PayoutRequest
    from services.contracts.lifecycle import TaskQueues


@workflow.defn(name="PayoutCaller")
class PayoutCaller:
    @workflow.run
    async def run(self, request: PayoutRequest) -> PayoutAccepted:
        return await workflow.execute_activity(
            REQUEST_PAYOUT_ACTIVITY,
            request,
            task_queue=TaskQueues.MONITORING,
            result_type=PayoutAccepted,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
