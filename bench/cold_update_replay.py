"""Try to make a history that its own code cannot replay: an Update taken on a cold workflow task.

The ledger audit found histories in which a workflow task carrying both an activity's completion
and an Update was answered with the next activity scheduled *before* the Update's acceptance (the
completion and the Update reached the workflow in two activations). Replaying such a history, the
SDK hands both over in one activation and runs the Update first: a non-determinism error.

Modes: `cold` (the workflow worker stopped while the activity completes and the Update is sent,
then a fresh one), `killed` (SIGKILL, its sticky queue left behind), `stalled` (frozen with its poll
outstanding, so the task times out), `warm` (kept); `--waits` sends the Update that many seconds
after the completion (negative: before it). `split` records the failing order on purpose with
`SplitDeliveryRunner`. `ending` checks an Update in the task that ends the workflow. Each history
is replayed under the SDK's runner and under `UpdatesAfterOtherJobsRunner`, the project's runner
(services/common/workflow_runner.py; docs/reliability.md). The same shapes are tested on every run of the
suite by tests/integration/test_update_order.py.

Usage (a Temporal dev server on ``--address``):
    python -m bench.cold_update_replay --address 127.0.0.1:18233 --tries 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHistory, WorkflowUpdateStage
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker

from services.common.workflow_runner import COLD_TASK_DETERMINISM, UpdatesAfterOtherJobsRunner
from tests.support.update_order import SplitDeliveryRunner

ACTIVITY_QUEUE = "cold-update-activities"
STEPS = 3

# One gate per (workflow id, step): the activity waits until the scenario opens it, so the
# workflow worker can be stopped while an activity is running.
_gates: dict[str, asyncio.Event] = {}


def _gate(key: str) -> asyncio.Event:
    return _gates.setdefault(key, asyncio.Event())


@activity.defn
async def gated_step(key: str) -> int:
    await _gate(key).wait()
    return len(key)


class _UpdateFlagBody:
    """The shared body: the Update only sets a flag; the main loop schedules the next activity."""

    def __init__(self) -> None:
        self.marked = False

    async def steps(self) -> int:
        total = 0
        for step in range(STEPS):
            total += await workflow.execute_activity(
                gated_step,
                f"{workflow.info().workflow_id}/{step}",
                task_queue=ACTIVITY_QUEUE,
                start_to_close_timeout=timedelta(minutes=2),
            )
        await workflow.wait_condition(lambda: self.marked)
        return total


@workflow.defn(name="ColdUpdate")
class ColdUpdateWorkflow(_UpdateFlagBody):
    @workflow.run
    async def run(self) -> int:
        return await self.steps()

    @workflow.update
    async def mark(self) -> None:
        self.marked = True


@workflow.defn(name="ColdUpdateOrdered")
class ColdUpdateOrderedWorkflow(_UpdateFlagBody):
    @workflow.run
    async def run(self) -> int:
        # Recorded once at the start: from here on the runner applies Updates after the
        # activation's other jobs, in the original run and in every replay.
        workflow.patched(COLD_TASK_DETERMINISM)
        return await self.steps()

    @workflow.update
    async def mark(self) -> None:
        self.marked = True


@dataclass
class EndingInput:
    ordered: bool
    refuse_after_end: bool


@workflow.defn(name="EndsOnCompletion")
class EndsOnCompletionWorkflow:
    """Ends as soon as its one activity completes: an Update in that task comes after the end."""

    def __init__(self) -> None:
        self.marked = False
        self.finished = False
        self.refuse_after_end = False

    @workflow.run
    async def run(self, input: EndingInput) -> bool:
        if input.ordered:
            workflow.patched(COLD_TASK_DETERMINISM)
        self.refuse_after_end = input.refuse_after_end
        await workflow.execute_activity(
            gated_step,
            f"{workflow.info().workflow_id}/0",
            task_queue=ACTIVITY_QUEUE,
            start_to_close_timeout=timedelta(minutes=1),
        )
        self.finished = True
        return self.marked

    @workflow.update
    async def mark(self) -> None:
        self.marked = True

    @mark.validator
    def _refuse_after_end(self) -> None:
        if self.refuse_after_end and self.finished:
            raise ValueError("the workflow has already ended")


WORKFLOWS = [ColdUpdateWorkflow, ColdUpdateOrderedWorkflow, EndsOnCompletionWorkflow]


def _workflow_worker(client: Client, queue: str, runner: Any) -> Worker:
    return Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        workflow_runner=runner,
        max_cached_workflows=100,
    )


async def _wait_for_pending_activity(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(200):
        description = await handle.describe()
        if description.raw_description.pending_activities:
            state = description.raw_description.pending_activities[0].state
            if state == 2:  # PENDING_ACTIVITY_STATE_STARTED
                return
        await asyncio.sleep(0.05)
    raise RuntimeError("the activity did not start")


@dataclass
class Outcome:
    workflow: str
    mode: str
    accept_after_schedule: bool
    replay_error_sdk_runner: str | None
    replay_error_ordered_runner: str | None


async def _spawn_worker(address: str, queue: str, ordered: bool) -> asyncio.subprocess.Process:
    command = [sys.executable, "-m", "bench.cold_update_replay", "--address", address]
    command += ["--serve", queue] + (["--ordered"] if ordered else [])
    return await asyncio.create_subprocess_exec(*command)


async def run_killed(
    client: Client, address: str, workflow_name: str, ordered: bool, wait: float, stall: bool
) -> Outcome:
    """Step 0 completes after the workflow worker died (no graceful shutdown: its sticky queue stays)."""
    workflow_id = f"cold-update-killed-{uuid.uuid4().hex[:8]}"
    queue = f"cold-update-wf-{uuid.uuid4().hex[:8]}"
    process = await _spawn_worker(address, queue, ordered)
    handle = await client.start_workflow(workflow_name, id=workflow_id, task_queue=queue)
    await _wait_for_pending_activity(client, workflow_id)
    stalled = None
    if stall:
        # The worker freezes with its poll outstanding: it takes the completion's task and never
        # answers, so the task times out, as when a worker dies while it runs a task.
        os.kill(process.pid, signal.SIGSTOP)
        stalled = process
    else:
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()
    if wait < 0:
        # The Update comes first, then the activity's completion, both before a worker is back.
        update = asyncio.create_task(handle.start_update("mark", wait_for_stage=WorkflowUpdateStage.ACCEPTED))
        await asyncio.sleep(-wait)
        _gate(f"{workflow_id}/0").set()
    else:
        _gate(f"{workflow_id}/0").set()
        await asyncio.sleep(wait)
        update = asyncio.create_task(handle.start_update("mark", wait_for_stage=WorkflowUpdateStage.ACCEPTED))
    await asyncio.sleep(0.3)
    process = await _spawn_worker(address, queue, ordered)
    try:
        await update
        for step in range(1, STEPS):
            _gate(f"{workflow_id}/{step}").set()
        await handle.result()
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
        if stalled is not None:
            os.kill(stalled.pid, signal.SIGKILL)
            await stalled.wait()
    history = await handle.fetch_history()
    return Outcome(
        workflow=workflow_name,
        mode=f"{'stalled' if stall else 'killed'}+{wait}s",
        accept_after_schedule=_accept_after_schedule(history),
        replay_error_sdk_runner=await replay(history, UnsandboxedWorkflowRunner()),
        replay_error_ordered_runner=await replay(history, UpdatesAfterOtherJobsRunner()),
    )


async def serve(address: str, queue: str, ordered: bool) -> None:
    client = await Client.connect(address)
    runner = UpdatesAfterOtherJobsRunner() if ordered else UnsandboxedWorkflowRunner()
    worker = _workflow_worker(client, queue, runner)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        await stop.wait()


async def run_one(client: Client, workflow_name: str, mode: str, runner: Any) -> Outcome:
    """One workflow: step 0 completes while no worker has it cached (cold) or while one does (warm)."""
    workflow_id = f"cold-update-{mode}-{uuid.uuid4().hex[:8]}"
    queue = f"cold-update-wf-{uuid.uuid4().hex[:8]}"
    worker = _workflow_worker(client, queue, runner)
    worker_task = asyncio.create_task(worker.run())
    handle = await client.start_workflow(workflow_name, id=workflow_id, task_queue=queue)
    await _wait_for_pending_activity(client, workflow_id)
    if mode == "cold":
        await worker.shutdown()
        await worker_task
    _gate(f"{workflow_id}/0").set()
    if mode == "cold":
        # The completion's workflow task waits for a worker; the Update joins it.
        await asyncio.sleep(0.5)
    update = asyncio.create_task(handle.start_update("mark", wait_for_stage=WorkflowUpdateStage.ACCEPTED))
    if mode == "cold":
        await asyncio.sleep(0.5)
        worker = _workflow_worker(client, queue, runner)
        worker_task = asyncio.create_task(worker.run())
    await update
    for step in range(1, STEPS):
        _gate(f"{workflow_id}/{step}").set()
    await handle.result()
    await worker.shutdown()
    await worker_task
    history = await handle.fetch_history()
    return Outcome(
        workflow=workflow_name,
        mode=mode,
        accept_after_schedule=_accept_after_schedule(history),
        replay_error_sdk_runner=await replay(history, UnsandboxedWorkflowRunner()),
        replay_error_ordered_runner=await replay(history, UpdatesAfterOtherJobsRunner()),
    )


async def run_ending(client: Client, ordered: bool, refuse_after_end: bool) -> dict[str, Any]:
    """An Update in the same cold task as the completion that ends the workflow: who sees it?"""
    runner = UpdatesAfterOtherJobsRunner() if ordered else UnsandboxedWorkflowRunner()
    workflow_id = f"cold-update-ending-{uuid.uuid4().hex[:8]}"
    queue = f"cold-update-wf-{uuid.uuid4().hex[:8]}"
    worker = _workflow_worker(client, queue, runner)
    worker_task = asyncio.create_task(worker.run())
    handle = await client.start_workflow(
        EndsOnCompletionWorkflow.run,
        EndingInput(ordered, refuse_after_end),
        id=workflow_id,
        task_queue=queue,
    )
    await _wait_for_pending_activity(client, workflow_id)
    await worker.shutdown()
    await worker_task
    _gate(f"{workflow_id}/0").set()
    await asyncio.sleep(0.5)
    update = asyncio.create_task(handle.execute_update(EndsOnCompletionWorkflow.mark))
    await asyncio.sleep(0.5)
    worker = _workflow_worker(client, queue, runner)
    worker_task = asyncio.create_task(worker.run())
    workflow_saw_update = await handle.result()
    try:
        await update
        update_outcome = "accepted"
    except Exception as err:
        update_outcome = f"refused: {type(err).__name__}"
    await worker.shutdown()
    await worker_task
    history = await handle.fetch_history()
    return {
        "workflow": "EndsOnCompletion",
        "ordered": ordered,
        "refuse_after_end": refuse_after_end,
        "update": update_outcome,
        "workflow_saw_update": workflow_saw_update,
        "replay_error": await replay(history, runner),
    }


def _accept_after_schedule(history: WorkflowHistory) -> bool:
    """Whether the Update's acceptance follows an activity scheduled in the same workflow task."""
    names = [event.WhichOneof("attributes") or "" for event in history.events]
    accepted = next(i for i, n in enumerate(names) if n.startswith("workflow_execution_update_accepted"))
    completed = max(i for i, n in enumerate(names[:accepted]) if n.startswith("workflow_task_completed"))
    return any(n.startswith("activity_task_scheduled") for n in names[completed:accepted])


async def replay(history: WorkflowHistory, runner: Any) -> str | None:
    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=runner)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is None:
        return None
    text = str(result.replay_failure)
    start = text.find("Nondeterminism error")
    return text[start : start + 140] if start >= 0 else text[:200]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1:18233")
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--modes", default="split,ending,cold,warm,killed,stalled")
    parser.add_argument("--waits", default="0,12,-1")
    parser.add_argument("--serve", default="")
    parser.add_argument("--ordered", action="store_true")
    args = parser.parse_args()
    if args.serve:
        await serve(args.address, args.serve, args.ordered)
        return
    client = await Client.connect(args.address)
    modes = args.modes.split(",")
    activities = Worker(client, task_queue=ACTIVITY_QUEUE, activities=[gated_step])
    activity_task = asyncio.create_task(activities.run())
    sdk = UnsandboxedWorkflowRunner()
    ordered = UpdatesAfterOtherJobsRunner()
    outcomes: list[Outcome] = []
    try:
        for _ in range(args.tries):
            if "split" in modes:
                outcome = await run_one(client, "ColdUpdate", "warm", SplitDeliveryRunner())
                outcome.mode = "warm, answered as the cold worker did"
                outcomes.append(outcome)
                print(json.dumps(outcome.__dict__), flush=True)
            if "ending" in modes:
                for use_order, refuse in ((False, False), (True, False), (True, True)):
                    print(json.dumps(await run_ending(client, use_order, refuse)), flush=True)
            for name, runner in (("ColdUpdate", sdk), ("ColdUpdateOrdered", ordered)):
                for mode in ("cold", "warm"):
                    if mode in modes:
                        outcome = await run_one(client, name, mode, runner)
                        outcomes.append(outcome)
                        print(json.dumps(outcome.__dict__), flush=True)
                for mode in ("killed", "stalled"):
                    if mode not in modes:
                        continue
                    for wait in args.waits.split(","):
                        outcome = await run_killed(
                            client,
                            args.address,
                            name,
                            runner is ordered,
                            float(wait),
                            stall=mode == "stalled",
                        )
                        outcomes.append(outcome)
                        print(json.dumps(outcome.__dict__), flush=True)
    finally:
        await activities.shutdown()
        await activity_task
    failing = [o for o in outcomes if o.replay_error_sdk_runner]
    print(
        json.dumps(
            {
                "runs": len(outcomes),
                "accept_after_schedule": sum(o.accept_after_schedule for o in outcomes),
                "fail_replay_with_sdk_order": len(failing),
                "fail_replay_with_ordered_runner": sum(1 for o in outcomes if o.replay_error_ordered_runner),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
