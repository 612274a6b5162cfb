"""Temporal Server built from its Go module (`make temporal-server`), on the test stack's PostgreSQL.

The server runs beside the test stack's dev server, on its own block of ports (the stack's Temporal port
+100 onwards), with its databases in the stack's PostgreSQL: the `temporal_server` fixture of
tests/support/temporal_server_fixtures.py, shared with the Web UI's tests.
"""

from __future__ import annotations

import asyncio
import uuid

import psycopg
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

from deploy.stack import Stack
from deploy.temporal_server import NUM_HISTORY_SHARDS, TemporalServerEngine, ensure_built
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.lifecycle import SA_COMPLAINT_ID, SA_STAGE
from tests.support.roundtrip import RoundTripWorkflow, greet


def test_schema_and_shards_in_the_stacks_postgresql(stack: Stack, temporal_server: TemporalServerEngine) -> None:
    base = stack.postgres.admin_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/temporal") as conn:
        row = conn.execute("SELECT count(*) FROM shards").fetchone()
        assert row is not None and row[0] == NUM_HISTORY_SHARDS
    with psycopg.connect(f"{base}/temporal_visibility") as conn:
        assert conn.execute("SELECT to_regclass('public.executions_visibility')").fetchone() == (
            "executions_visibility",
        )
    # A second preparation (a restart) finds everything in place and changes nothing.
    temporal_server.prepare_databases(ensure_built())


async def test_workflow_round_trip_and_visibility_query(temporal_server: TemporalServerEngine) -> None:
    client = await connect(CommonSettings(temporal_address=temporal_server.address, temporal_namespace="default"))
    queue = f"test-{uuid.uuid4().hex[:8]}"
    complaint_id = f"c-{uuid.uuid4().hex[:10]}"
    async with Worker(client, task_queue=queue, workflows=[RoundTripWorkflow], activities=[greet]):
        handle = await client.start_workflow(
            RoundTripWorkflow.run,
            args=["worker", 30],
            id=f"test:{queue}",
            task_queue=queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SA_COMPLAINT_ID, complaint_id),
                    SearchAttributePair(SA_STAGE, "intake"),
                ]
            ),
        )
        await handle.signal(RoundTripWorkflow.approve)
        assert await handle.result() == "你好, worker: approved"

    # Advanced visibility on PostgreSQL: the project's search attributes answer list queries. Visibility is
    # written after the workflow closes, so poll briefly.
    query = (
        f'{SA_COMPLAINT_ID.name} = "{complaint_id}" AND {SA_STAGE.name} = "intake" AND ExecutionStatus = "Completed"'
    )
    found: list[str] = []
    for _ in range(40):
        found = [wf.id async for wf in client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.25)
    assert found == [handle.id]
