"""A task's jobs handed over in one activation or in two, on the real Temporal server.

The workflow's activity completes and, later, its watcher's timer fires while no worker runs, so a fresh
worker takes one task carrying both. A worker whose earlier attempt at such a task was lost can be handed
the two jobs in two activations, which `SplitJobsRunner` does on purpose; a replay hands them over in one.
What must hold (docs/reliability.md, "a workflow that no longer replays after a worker's task was lost"):
under the runner's one-job-a-pass rule the commands come out in one order either way and every history
replays; a history recorded under the rules before it, answered in two activations, does not — the failure
`make faults` found.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker, WorkflowRunner

from services.common.settings import CommonSettings
from services.common.temporal import connect
from tests.support.update_order import (
    WORKFLOWS,
    JobOrderBeforeWorkflow,
    JobOrderWorkflow,
    SplitJobsRunner,
    activity_started,
    gate,
    gated_step,
    project_runner,
    quick_step,
    replay_error,
)

TIMER_SECONDS = 4.0


@pytest.fixture
async def client(settings: CommonSettings) -> Any:
    return await connect(settings)


async def _run_with_both_jobs_in_one_task(
    client: Client, workflow: Any, runner: WorkflowRunner
) -> WorkflowHandle[Any, Any]:
    """Start `workflow`, stop its worker while the gated activity runs, complete the activity, let the watcher's
    timer fire, then let a fresh worker (with `runner`) take the task carrying both and run the workflow out."""
    activity_queue = f"job-order-activities-{uuid.uuid4().hex[:8]}"
    queue = f"job-order-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=activity_queue, activities=[gated_step, quick_step]):
        worker = Worker(client, task_queue=queue, workflows=WORKFLOWS, workflow_runner=runner)
        running = asyncio.create_task(worker.run())
        started = time.monotonic()
        handle = await client.start_workflow(
            workflow, args=[activity_queue, TIMER_SECONDS], id=f"job-order-{uuid.uuid4().hex[:10]}", task_queue=queue
        )
        await activity_started(handle)
        await worker.shutdown()
        await running
        gate(f"{handle.id}/0").set()  # the completion first …
        await asyncio.sleep(max(0.0, started + TIMER_SECONDS + 1.5 - time.monotonic()))  # … then the timer fires
        worker = Worker(client, task_queue=queue, workflows=WORKFLOWS, workflow_runner=runner)
        running = asyncio.create_task(worker.run())
        try:
            await handle.result()
        finally:
            await worker.shutdown()
            await running
    assert await _completion_and_timer_in_one_task(handle)
    return handle


async def _completion_and_timer_in_one_task(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the gated activity's completion and the timer's firing came to the workflow in one task."""
    names = [event.WhichOneof("attributes") or "" for event in (await handle.fetch_history()).events]
    completed = names.index("activity_task_completed_event_attributes")
    fired = names.index("timer_fired_event_attributes")
    between = names[min(completed, fired) : max(completed, fired)]
    return completed < fired and "workflow_task_completed_event_attributes" not in between


async def _commands_after_the_completion(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """What the task that took the completion and the timer recorded: the steps (by name) and the memo."""
    events = (await handle.fetch_history()).events
    fired = next(i for i, event in enumerate(events) if event.HasField("timer_fired_event_attributes"))
    recorded = []
    for event in events[fired:]:
        if event.HasField("activity_task_scheduled_event_attributes"):
            recorded.append(event.activity_task_scheduled_event_attributes.input.payloads[0].data.decode().strip('"'))
        elif event.HasField("workflow_properties_modified_event_attributes"):
            recorded.append("memo")
    return recorded


async def test_jobs_in_two_activations_give_the_history_their_replay_expects(client: Client) -> None:
    handle = await _run_with_both_jobs_in_one_task(client, JobOrderWorkflow.run, SplitJobsRunner())
    assert await _commands_after_the_completion(handle) == ["a", "b", "memo"]
    assert await replay_error(client, handle, project_runner()) is None


async def test_jobs_in_one_activation_run_one_pass_each(client: Client) -> None:
    handle = await _run_with_both_jobs_in_one_task(client, JobOrderWorkflow.run, project_runner())
    # The completion's pass runs out (both steps scheduled) before the timer's wakes the watcher.
    assert await _commands_after_the_completion(handle) == ["a", "b", "memo"]
    assert await replay_error(client, handle, project_runner()) is None


async def test_a_history_from_before_the_rule_answered_in_two_activations_does_not_replay(client: Client) -> None:
    handle = await _run_with_both_jobs_in_one_task(client, JobOrderBeforeWorkflow.run, SplitJobsRunner())
    assert await _commands_after_the_completion(handle) == ["a", "b", "memo"]
    # Replayed in one activation, the watcher writes its memo before the steps' tasks run: the failure the
    # rule prevents.
    failure = await replay_error(client, handle, project_runner())
    assert failure is not None and "Nondeterminism" in failure
