"""The workflow runner every worker and replayer uses: an activation's Updates run after its other jobs.

Why: a workflow task that carries both new events (an activity completed, a timer fired) and an Update
can reach the workflow in two ways. A worker that has the workflow cached, and every replay, get both in
one activation, and the SDK (temporalio 1.35) runs the Update first, so its acceptance comes before the
commands the completion leads to. A worker that takes the task cold (after a restart, a kill, Temporal's
own restart) can get them in two activations, the completion first: the history then has the next
activity scheduled *before* `WorkflowExecutionUpdateAccepted`, and no worker can replay it again
("Update machine does not handle this event: ActivityTaskScheduled"; docs/reliability.md). `make faults`
met it in two runs of three.

This runner's instance splits an activation holding both Updates and other jobs into two passes: the
other jobs first (the main coroutine runs on the completions and issues its commands), then the Updates.
Cached, cold and replayed, the commands then come in one order: the completion's, then the acceptance.

Only for workflows that recorded the patch `COLD_TASK_DETERMINISM` in their first task (the first line
of their run method): a history without the marker — everything recorded before — keeps the SDK's order.
The same patch gates the other change that makes a cold worker and a replay agree: a deadline already
passed when its wait begins waits on a timer instead of expiring at once (workflows/deadlines.py).
The decision is read from the instance's memoized patches, which the first activation sets the same way in
the original run and in every replay, so it never changes within a run.

If the first pass ends the workflow (completes, fails or continues as new), the Updates are refused
without running: the SDK would otherwise accept them after the end and their handlers would change
nothing that anyone reads. A refusal leaves no event in the history, so replay is unaffected.

Relies on the SDK's internal `_WorkflowInstanceImpl` (`activate`, `_patches_memoized`, `_add_command`):
the SDK's version is pinned, and tests/integration/test_update_order.py fails if an upgrade changes them.
"""

from __future__ import annotations

from temporalio.bridge.proto.workflow_activation import WorkflowActivation, WorkflowActivationJob
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._workflow_instance import _WorkflowInstanceImpl
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# Workflows recording this patch first run under the rules that make a cold worker write the history its
# replay expects: Updates after the other jobs (here), a passed deadline's expiry by a timer (deadlines.py).
COLD_TASK_DETERMINISM = "2026-12-cold-task-determinism"

_ENDING_COMMANDS = (
    "complete_workflow_execution",
    "fail_workflow_execution",
    "continue_as_new_workflow_execution",
    "cancel_workflow_execution",
)


def _activation_with(act: WorkflowActivation, jobs: list[WorkflowActivationJob]) -> WorkflowActivation:
    part = WorkflowActivation()
    part.CopyFrom(act)
    del part.jobs[:]
    part.jobs.extend(jobs)
    return part


class _UpdatesAfterOtherJobsInstance(_WorkflowInstanceImpl):  # type: ignore[misc]
    """Runs an activation's Updates in a second pass, after its other jobs, once the patch is on."""

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        if not self._updates_after_other_jobs():
            return super().activate(act)
        updates = [job for job in act.jobs if job.HasField("do_update")]
        others = [job for job in act.jobs if not job.HasField("do_update")]
        if not updates or not others:
            return super().activate(act)
        done = WorkflowActivationCompletion()
        done.CopyFrom(super().activate(_activation_with(act, others)))
        if done.HasField("failed"):
            return done
        if any(command.WhichOneof("variant") in _ENDING_COMMANDS for command in done.successful.commands):
            self._refuse(updates, done)
            return done
        then = super().activate(_activation_with(act, updates))
        if then.HasField("failed"):
            return then
        done.successful.commands.extend(then.successful.commands)
        for flag in then.successful.used_internal_flags:
            if flag not in done.successful.used_internal_flags:
                done.successful.used_internal_flags.append(flag)
        return done

    def _updates_after_other_jobs(self) -> bool:
        return bool(self._patches_memoized.get(COLD_TASK_DETERMINISM, False))

    def _refuse(self, updates: list[WorkflowActivationJob], done: WorkflowActivationCompletion) -> None:
        for job in updates:
            command = done.successful.commands.add()
            command.update_response.protocol_instance_id = job.do_update.protocol_instance_id
            self._workflow_context_failure_converter.to_failure(
                ApplicationError("the process has already ended", type="ProcessEnded", non_retryable=True),
                self._workflow_context_payload_converter,
                command.update_response.rejected,
            )


class UpdatesAfterOtherJobsRunner(UnsandboxedWorkflowRunner):
    """Creates instances that apply Updates after an activation's other jobs (see the module's text)."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        # Not really abstract at run time (the SDK's own runner does the same).
        return _UpdatesAfterOtherJobsInstance(det)  # type: ignore[abstract]


def sandboxed_workflow_runner(*passthrough_modules: str) -> SandboxedWorkflowRunner:
    """Temporal's sandbox around instances of `UpdatesAfterOtherJobsRunner`.

    `passthrough_modules` are taken from outside the sandbox instead of being re-imported for every
    instance (the lifecycle worker passes its workflow modules; see workflows/worker.py). This module is
    always passed through: its instance class extends the SDK's, which the sandbox passes through too.
    """
    restrictions = SandboxRestrictions.default.with_passthrough_modules(__name__, *passthrough_modules)
    return SandboxedWorkflowRunner(restrictions=restrictions, runner_class=UpdatesAfterOtherJobsRunner)
