"""A workflow runner that applies an activation's Updates after its other jobs (prototype).

Why: a workflow task that carries an activity's completion and an Update can be answered by a
worker without the workflow cached with the completion's commands first and the Update's
acceptance after (the SDK hands them to the workflow in two activations). Replaying that
history, the SDK hands both over in one activation and runs the Update first (temporalio 1.35:
patches, then signals and Updates, then the rest), so the replay meets `ActivityTaskScheduled`
where it expects the acceptance: a non-determinism error.

This runner's instance splits an activation that holds both Updates and other jobs into two
passes: the other jobs first (the main coroutine runs on the completions and issues its
commands), then the Updates. The original run, cold or warm, and every replay then order the
commands the same way: completions' commands, then the acceptance.

It does so only for workflows that recorded the patch `UPDATES_AFTER_OTHER_JOBS` at their start
(`workflow.patched(UPDATES_AFTER_OTHER_JOBS)` as the first line of the run method): a history
without the marker (every history recorded before) keeps the SDK's order. The decision is read
from the instance's memoized patches, which are set in the first activation both in the original
run and on replay, so it never changes within a run.

Relies on the SDK's internal `_WorkflowInstanceImpl` (`activate`, `_patches_memoized`): pin the
SDK version and re-check on every upgrade.
"""

from __future__ import annotations

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._workflow_instance import _WorkflowInstanceImpl

UPDATES_AFTER_OTHER_JOBS = "updates-after-other-jobs"


class _UpdatesAfterOtherJobsInstance(_WorkflowInstanceImpl):  # type: ignore[misc]
    """Runs an activation's Updates in a second pass, after its other jobs, once the patch is on."""

    always = False

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        if not self.always and not self._patches_memoized.get(UPDATES_AFTER_OTHER_JOBS, False):
            return super().activate(act)
        updates = [job for job in act.jobs if job.HasField("do_update")]
        others = [job for job in act.jobs if not job.HasField("do_update")]
        if not updates or not others:
            return super().activate(act)
        first = WorkflowActivation()
        first.CopyFrom(act)
        del first.jobs[:]
        first.jobs.extend(others)
        second = WorkflowActivation()
        second.CopyFrom(act)
        del second.jobs[:]
        second.jobs.extend(updates)
        done = WorkflowActivationCompletion()
        done.CopyFrom(super().activate(first))
        if done.HasField("failed"):
            return done
        then = super().activate(second)
        if then.HasField("failed"):
            return then
        done.successful.commands.extend(then.successful.commands)
        for flag in then.successful.used_internal_flags:
            if flag not in done.successful.used_internal_flags:
                done.successful.used_internal_flags.append(flag)
        return done


class UpdatesAfterOtherJobsRunner(UnsandboxedWorkflowRunner):
    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        # Not really abstract at run time (the SDK's own runner does the same).
        return _UpdatesAfterOtherJobsInstance(det)  # type: ignore[abstract]


class _SplitDeliveryInstance(_UpdatesAfterOtherJobsInstance):  # type: ignore[misc]
    always = True


class SplitDeliveryRunner(UnsandboxedWorkflowRunner):
    """Answers as the cold worker of the failing histories did: the completions first, the Update after.

    Used only to record that history shape on purpose, for any workflow, with or without the patch.
    """

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _SplitDeliveryInstance(det)  # type: ignore[abstract]
