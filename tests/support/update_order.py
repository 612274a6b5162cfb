"""Small workflows for the order of Updates and other jobs in one workflow task (tests/integration/test_update_order.py).

`StepsWorkflow`'s main loop schedules the next activity when one completes and its Update only sets a flag;
`EndsOnCompletionWorkflow` ends as soon as its one activity completes. Both record the runner's patch first,
as the project's workflows do; `UnmarkedStepsWorkflow` does not (a history recorded before the patch).
`SplitDeliveryRunner` answers a task the way a worker that takes it cold can: the completion's commands first,
the Update's acceptance after — the shape that made histories unreplayable before the runner.

`JobOrderWorkflow` has a watcher beside its main flow: the watcher's timer fires while the main flow's activity
completes, and the commands each issues next (the watcher's memo, the main flow's two steps) interleave
differently when the two jobs come in one activation than in two. `JobOrderBeforeWorkflow` is the same workflow
recording only the first of the runner's patches (a history recorded before `ONE_JOB_A_PASS`). `SplitJobsRunner` hands the instance a task's jobs in two activations, the
first job alone, as a worker whose earlier attempt at the task was lost can be handed them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.worker import (
    Replayer,
    UnsandboxedWorkflowRunner,
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from services.common.workflow_runner import (
    COLD_TASK_DETERMINISM,
    _activation_with,
    _merged,
    _UpdatesAfterOtherJobsInstance,
    record_runner_patches,
    sandboxed_workflow_runner,
)

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


@activity.defn
async def quick_step(name: str) -> str:
    return name


class _JobOrder:
    activity_queue = ""

    async def _step(self, name: str) -> str:
        return await workflow.execute_activity(
            quick_step, name, task_queue=self.activity_queue, start_to_close_timeout=timedelta(minutes=1)
        )

    async def _watch(self, seconds: float) -> None:
        await workflow.sleep(seconds)
        # A command of another kind than the steps' (a replay checks each command's kind against the history).
        workflow.upsert_memo({"watcher": "woke"})

    async def flow(self, activity_queue: str, seconds: float) -> None:
        self.activity_queue = activity_queue
        watcher = asyncio.create_task(self._watch(seconds))
        await workflow.execute_activity(
            gated_step,
            f"{workflow.info().workflow_id}/0",
            task_queue=activity_queue,
            start_to_close_timeout=timedelta(minutes=2),
        )
        # Each step is scheduled by a task its own task starts, turns of the event loop after the watcher, woken
        # by its timer in the same pass, has written its memo.
        await asyncio.gather(self._step_in_a_task("a"), self._step_in_a_task("b"))
        await watcher

    async def _step_in_a_task(self, name: str) -> str:
        return await asyncio.create_task(self._step(name))


@workflow.defn(name="JobOrder")
class JobOrderWorkflow(_JobOrder):
    @workflow.run
    async def run(self, activity_queue: str, seconds: float) -> None:
        record_runner_patches()
        await self.flow(activity_queue, seconds)


@workflow.defn(name="JobOrderBefore")
class JobOrderBeforeWorkflow(_JobOrder):
    @workflow.run
    async def run(self, activity_queue: str, seconds: float) -> None:
        workflow.patched(COLD_TASK_DETERMINISM)
        await self.flow(activity_queue, seconds)


WORKFLOWS = [StepsWorkflow, UnmarkedStepsWorkflow, EndsOnCompletionWorkflow, JobOrderWorkflow, JobOrderBeforeWorkflow]


class _SplitDeliveryInstance(_UpdatesAfterOtherJobsInstance):  # type: ignore[misc]
    def _updates_after_other_jobs(self) -> bool:
        return True


class SplitDeliveryRunner(UnsandboxedWorkflowRunner):
    """Answers every task with both an Update and other jobs as a cold worker can: the others first."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _SplitDeliveryInstance(det)  # type: ignore[abstract]


class _SplitJobsInstance(_UpdatesAfterOtherJobsInstance):  # type: ignore[misc]
    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        kinds = {job.WhichOneof("variant") for job in act.jobs}
        if len(act.jobs) < 2 or not kinds <= {"resolve_activity", "fire_timer"}:
            return super().activate(act)
        first = super().activate(_activation_with(act, list(act.jobs[:1])))
        if first.HasField("failed"):
            return first
        return _merged(_merged(None, first), super().activate(_activation_with(act, list(act.jobs[1:]))))


class SplitJobsRunner(UnsandboxedWorkflowRunner):
    """Hands a task's completions and timers to the instance in two activations: the first job, then the rest."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _SplitJobsInstance(det)  # type: ignore[abstract]


def project_runner() -> SandboxedWorkflowRunner:
    """The project's runner, as the workers build it, with this module's workflows passed through."""
    return sandboxed_workflow_runner(__name__)


async def activity_started(handle: WorkflowHandle[Any, Any]) -> None:
    for _ in range(200):
        pending = (await handle.describe()).raw_description.pending_activities
        if pending and pending[0].state == 2:  # PENDING_ACTIVITY_STATE_STARTED
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the activity did not start")


async def replay_error(client: Client, handle: WorkflowHandle[Any, Any], runner: WorkflowRunner) -> str | None:
    """Why the workflow's history does not replay under `runner`, or None when it does."""
    history: WorkflowHistory = await handle.fetch_history()
    replayer = Replayer(workflows=WORKFLOWS, data_converter=client.data_converter, workflow_runner=runner)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return None if result.replay_failure is None else str(result.replay_failure)
