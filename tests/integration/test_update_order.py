"""An Update and an activity's completion in one workflow task, on the real Temporal server.

The task is made cold on purpose: the workflow worker is stopped while an activity runs, the activity then
completes and an Update is sent, and a fresh worker takes the task with both. Each history is then replayed.
What must hold (docs/reliability.md, "An Update on a cold workflow task"): with the project's runner the
acceptance follows the completion's commands however the worker received them, so every history replays —
including one answered the way a cold worker can (`SplitDeliveryRunner`), which the SDK's own order cannot
replay — and an Update that arrives with the completion that ends the process is refused, not accepted
and lost.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.common.workflow_runner import UpdatesAfterOtherJobsRunner
from tests.support.update_order import (
    STEPS,
    WORKFLOWS,
    EndsOnCompletionWorkflow,
    SplitDeliveryRunner,
    StepsWorkflow,
    UnmarkedStepsWorkflow,
    activity_started,
    gate,
    gated_step,
    project_runner,
    replay_error,
)


class _ColdTasks:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.activity_queue = f"update-order-activities-{uuid.uuid4().hex[:8]}"

    def workflow_worker(self, queue: str, runner: WorkflowRunner) -> Worker:
        return Worker(self.client, task_queue=queue, workflows=WORKFLOWS, workflow_runner=runner)

    async def run_cold(self, workflow: Any, runner: WorkflowRunner) -> tuple[WorkflowHandle[Any, Any], Any]:
        """Start `workflow`, stop its worker while the first activity runs, complete it, send the Update, and
        let a fresh worker take the task carrying both. Returns the handle and the Update's outcome."""
        queue = f"update-order-{uuid.uuid4().hex[:8]}"
        worker = self.workflow_worker(queue, runner)
        running = asyncio.create_task(worker.run())
        handle = await self.client.start_workflow(
            workflow, self.activity_queue, id=f"update-order-{uuid.uuid4().hex[:10]}", task_queue=queue
        )
        await activity_started(handle)
        await worker.shutdown()
        await running
        gate(f"{handle.id}/0").set()
        await asyncio.sleep(1.5)  # the completion's task waits for a worker …
        update = asyncio.create_task(handle.execute_update("mark"))
        await asyncio.sleep(1.5)  # … and the Update joins it (margins for a slow machine)
        worker = self.workflow_worker(queue, runner)
        running = asyncio.create_task(worker.run())
        try:
            try:
                outcome: Any = await update
            except WorkflowUpdateFailedError as refused:
                outcome = refused
            for step in range(1, STEPS):
                gate(f"{handle.id}/{step}").set()
            await handle.result()
        finally:
            await worker.shutdown()
            await running
        return handle, outcome


@pytest.fixture
async def tasks(settings: CommonSettings) -> Any:
    client = await connect(settings)
    tasks = _ColdTasks(client)
    async with Worker(client, task_queue=tasks.activity_queue, activities=[gated_step]):
        yield tasks


async def _acceptance_follows_a_scheduled_activity(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the Update's acceptance comes after an activity scheduled in the same workflow task."""
    events = (await handle.fetch_history()).events
    names = [event.WhichOneof("attributes") or "" for event in events]
    accepted = next(i for i, n in enumerate(names) if n.startswith("workflow_execution_update_accepted"))
    task_completed = max(i for i, n in enumerate(names[:accepted]) if n.startswith("workflow_task_completed"))
    return any(n.startswith("activity_task_scheduled") for n in names[task_completed:accepted])


async def test_a_cold_task_with_an_update_replays_under_the_project_runner(tasks: _ColdTasks) -> None:
    handle, _ = await tasks.run_cold(StepsWorkflow.run, project_runner())
    assert await _acceptance_follows_a_scheduled_activity(handle)
    assert await replay_error(tasks.client, handle, project_runner()) is None


async def test_a_history_answered_as_a_cold_worker_can_replays_only_with_the_runner(tasks: _ColdTasks) -> None:
    handle, _ = await tasks.run_cold(StepsWorkflow.run, SplitDeliveryRunner())
    assert await _acceptance_follows_a_scheduled_activity(handle)
    assert await replay_error(tasks.client, handle, project_runner()) is None
    # The SDK's own order cannot replay that history: the failure the runner exists to prevent.
    failure = await replay_error(tasks.client, handle, SandboxedWorkflowRunner())
    assert failure is not None and "Nondeterminism" in failure


async def test_a_history_without_the_marker_keeps_the_sdk_order(tasks: _ColdTasks) -> None:
    handle, _ = await tasks.run_cold(UnmarkedStepsWorkflow.run, project_runner())
    assert not await _acceptance_follows_a_scheduled_activity(handle)
    assert await replay_error(tasks.client, handle, project_runner()) is None
    assert await replay_error(tasks.client, handle, UpdatesAfterOtherJobsRunner()) is None


async def test_an_update_with_the_completion_that_ends_the_process_is_refused(tasks: _ColdTasks) -> None:
    handle, outcome = await tasks.run_cold(EndsOnCompletionWorkflow.run, project_runner())
    assert isinstance(outcome, WorkflowUpdateFailedError)
    assert "the process has already ended" in str(outcome.cause)
    assert await handle.result() is False  # the workflow ended without the Update's change
    assert await replay_error(tasks.client, handle, project_runner()) is None
