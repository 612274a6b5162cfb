"""Small workflows for the order of Updates and other jobs in one workflow task (tests/integration/test_update_order.py).

`StepsWorkflow`'s main loop schedules the next activity when one completes and its Update only sets a flag;
`EndsOnCompletionWorkflow` ends as soon as its one activity completes. Both record the runner's patch first,
as the project's workflows do; `UnmarkedStepsWorkflow` does not (a history recorded before the patch).
`SplitDeliveryRunner` answers a task the way a worker that takes it cold can: the completion's commands first,
the Update's acceptance after — the shape that made histories unreplayable before the runner.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowInstance, WorkflowInstanceDetails

from services.common.workflow_runner import COLD_TASK_DETERMINISM, _UpdatesAfterOtherJobsInstance

ACTIVITY_QUEUE_PREFIX = "update-order-activities"
STEPS = 3

# One gate per (workflow id, step): the activity runs until the test opens it, so a workflow worker can be
# stopped while it runs and the completion then waits, with the Update, for the next worker.
_gates: dict[str, asyncio.Event] = {}


def gate(key: str) -> asyncio.Event:
    return _gates.setdefault(key, asyncio.Event())


@activity.defn
async def gated_step(key: str) -> int:
    await gate(key).wait()
    return len(key)


class _Steps:
    def __init__(self) -> None:
        self.marked = False

    async def steps(self, activity_queue: str) -> int:
        total = 0
        for step in range(STEPS):
            total += await workflow.execute_activity(
                gated_step,
                f"{workflow.info().workflow_id}/{step}",
                task_queue=activity_queue,
                start_to_close_timeout=timedelta(minutes=2),
            )
        await workflow.wait_condition(lambda: self.marked)
        return total


@workflow.defn(name="UpdateOrderSteps")
class StepsWorkflow(_Steps):
    @workflow.run
    async def run(self, activity_queue: str) -> int:
        workflow.patched(COLD_TASK_DETERMINISM)
        return await self.steps(activity_queue)

    @workflow.update
    async def mark(self) -> None:
        self.marked = True


@workflow.defn(name="UpdateOrderUnmarkedSteps")
class UnmarkedStepsWorkflow(_Steps):
    @workflow.run
    async def run(self, activity_queue: str) -> int:
        return await self.steps(activity_queue)

    @workflow.update
    async def mark(self) -> None:
        self.marked = True


@workflow.defn(name="UpdateOrderEndsOnCompletion")
class EndsOnCompletionWorkflow:
    def __init__(self) -> None:
        self.marked = False

    @workflow.run
    async def run(self, activity_queue: str) -> bool:
        workflow.patched(COLD_TASK_DETERMINISM)
        await workflow.execute_activity(
            gated_step,
            f"{workflow.info().workflow_id}/0",
            task_queue=activity_queue,
            start_to_close_timeout=timedelta(minutes=2),
        )
        return self.marked

    @workflow.update
    async def mark(self) -> None:
        self.marked = True


WORKFLOWS = [StepsWorkflow, UnmarkedStepsWorkflow, EndsOnCompletionWorkflow]


class _SplitDeliveryInstance(_UpdatesAfterOtherJobsInstance):  # type: ignore[misc]
    def _updates_after_other_jobs(self) -> bool:
        return True


class SplitDeliveryRunner(UnsandboxedWorkflowRunner):
    """Answers every task with both an Update and other jobs as a cold worker can: the others first."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _SplitDeliveryInstance(det)  # type: ignore[abstract]
