"""The workflow runner every worker and replayer uses: an activation's jobs run in a fixed order of passes.

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

The same holds for the other jobs among themselves. A worker whose attempt at a task was lost (Temporal
restarted under it, the task timed out) can have applied the task's first events in one activation and be
handed the rest in a second: the completions of two activities, then a timer that fired later. A replay
gets all three in one. Each coroutine the jobs wake (the main flow, the reporter, a deadline's watcher)
issues its commands in the order the event loop runs them, and that order is not the same when the timer
wakes its watcher beside the main flow as when the main flow has already run its course: `make faults`
found a case whose history recorded `notify_agency, signal, report, upsert, notify_agency` and whose
replay issued `notify_agency, upsert, notify_agency, signal, report` ("UpsertWorkflowSearchAttributesMachine
does not handle SignalExternalWorkflowExecutionInitiated"; docs/reliability.md). Workflows that also record
`ONE_JOB_A_PASS` run every job in a pass of its own, in the order the SDK hands them over (the events'
order), signals after the other jobs and Updates last, each pass running until nothing is ready: however
the jobs were split between activations, they run one after another in the same order, and the commands
come out the same. (The patch and random-seed jobs go with the first pass; a first activation, a query or
an eviction stays whole.)

If a pass ends the workflow (completes, fails or continues as new), the Updates are refused without
running and the jobs not yet run are dropped: the SDK would otherwise accept the Updates after the end,
and neither they nor the rest would change anything anyone reads. A refusal leaves no event in the
history, so replay is unaffected.

Relies on the SDK's internal `_WorkflowInstanceImpl` (`activate`, `_patches_memoized`, `_add_command`):
the SDK's version is pinned, and tests/integration/test_update_order.py fails if an upgrade changes them.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.bridge.proto.workflow_activation import WorkflowActivation, WorkflowActivationJob
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._workflow_instance import _WorkflowInstanceImpl
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# Workflows recording this patch first run under the rules that make a cold worker write the history its
# replay expects: Updates after the other jobs (here), a passed deadline's expiry by a timer (deadlines.py).
COLD_TASK_DETERMINISM = "2026-12-cold-task-determinism"
# Workflows recording this patch too run each job of an activation in a pass of its own, the Updates' last: the
# commands then come in one order however the worker was handed the task's jobs (see the module's text).
ONE_JOB_A_PASS = "2026-12-one-job-a-pass"


def record_runner_patches() -> None:
    """Record the runner's patches; the first line of the run method of every workflow with Updates or with
    coroutines beside its main flow (a history records them in its first task, or its replay never sees them).
    Histories recorded before `ONE_JOB_A_PASS` existed hold only the first, and replay with its rules alone."""
    workflow.patched(COLD_TASK_DETERMINISM)
    workflow.patched(ONE_JOB_A_PASS)


# With `ONE_JOB_A_PASS`: jobs that go with the first pass (they set what the others run under), and jobs that
# keep their activation whole (a workflow's first activation, a query, an eviction).
_SETUP_JOBS = ("notify_has_patch", "update_random_seed")
_WHOLE_ACTIVATION_JOBS = ("initialize_workflow", "query_workflow", "remove_from_cache")

_ENDING_COMMANDS = (
    "complete_workflow_execution",
    "fail_workflow_execution",
    "continue_as_new_workflow_execution",
    "cancel_workflow_execution",
)


Jobs = list[WorkflowActivationJob]


def _activation_with(act: WorkflowActivation, jobs: list[WorkflowActivationJob]) -> WorkflowActivation:
    part = WorkflowActivation()
    part.CopyFrom(act)
    del part.jobs[:]
    part.jobs.extend(jobs)
    return part


class _UpdatesAfterOtherJobsInstance(_WorkflowInstanceImpl):  # type: ignore[misc]
    """Runs an activation in passes once the patches are on: Updates after the other jobs, and with
    `ONE_JOB_A_PASS` each job in a pass of its own (see the module's text)."""

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        passes, update_passes = self._passes(act)
        if len(passes) + len(update_passes) <= 1:
            return super().activate(act)
        done: WorkflowActivationCompletion | None = None
        for index, jobs in enumerate([*passes, *update_passes]):
            part = super().activate(_activation_with(act, jobs))
            if part.HasField("failed"):
                return part
            done = _merged(done, part)
            if index < len(passes) and _ends(part):
                # The jobs not yet applied would change nothing anyone reads; the Updates are refused.
                self._refuse([job for jobs in update_passes for job in jobs], done)
                return done
        assert done is not None
        return done

    def _passes(self, act: WorkflowActivation) -> tuple[list[Jobs], list[Jobs]]:
        """The activation's jobs in the passes they run in: the other jobs', then the Updates'."""
        if not self._updates_after_other_jobs():
            return [list(act.jobs)], []
        updates = [job for job in act.jobs if job.HasField("do_update")]
        others = [job for job in act.jobs if not job.HasField("do_update")]
        if not self._one_job_a_pass() or any(job.WhichOneof("variant") in _WHOLE_ACTIVATION_JOBS for job in others):
            return ([others] if others else []), ([updates] if updates else [])
        setup = [job for job in others if job.WhichOneof("variant") in _SETUP_JOBS]
        signals = [job for job in others if job.HasField("signal_workflow")]
        rest = [job for job in others if job.WhichOneof("variant") not in (*_SETUP_JOBS, "signal_workflow")]
        passes = [[job] for job in rest + signals]
        if setup:
            passes = [setup + passes[0], *passes[1:]] if passes else [setup]
        return passes, [[job] for job in updates]

    def _updates_after_other_jobs(self) -> bool:
        return bool(self._patches_memoized.get(COLD_TASK_DETERMINISM, False))

    def _one_job_a_pass(self) -> bool:
        return bool(self._patches_memoized.get(ONE_JOB_A_PASS, False))

    def _refuse(self, updates: list[WorkflowActivationJob], done: WorkflowActivationCompletion) -> None:
        for job in updates:
            command = done.successful.commands.add()
            command.update_response.protocol_instance_id = job.do_update.protocol_instance_id
            self._workflow_context_failure_converter.to_failure(
                ApplicationError("the process has already ended", type="ProcessEnded", non_retryable=True),
                self._workflow_context_payload_converter,
                command.update_response.rejected,
            )


def _merged(
    done: WorkflowActivationCompletion | None, part: WorkflowActivationCompletion
) -> WorkflowActivationCompletion:
    """`part`'s commands (and internal flags) after those of the passes before it."""
    if done is None:
        done = WorkflowActivationCompletion()
        done.CopyFrom(part)
        return done
    done.successful.commands.extend(part.successful.commands)
    for flag in part.successful.used_internal_flags:
        if flag not in done.successful.used_internal_flags:
            done.successful.used_internal_flags.append(flag)
    return done


def _ends(part: WorkflowActivationCompletion) -> bool:
    return any(command.WhichOneof("variant") in _ENDING_COMMANDS for command in part.successful.commands)


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
