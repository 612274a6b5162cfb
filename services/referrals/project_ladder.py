"""The ladder against a project (四函两单): while an early warning of a project's check stays open, a letter per
rung — 警示函 to the general contractor, 交办函 and 督办函 to the industry department, 问责建议函, 问题移交单 to the
discipline commission (as `[project_ladder]` in departments.toml says) — each after the working days the one
before gave, until every warning of that check is resolved or the last rung is issued.

A Temporal workflow (`ProjectLetterLadder`, id `project-letters:<project id>:<check>:<first month>` on
`anxin-referrals`, hosted by the referrals worker) owns the timers; the referrals worker's inbox consumer
starts it from the monitoring service's `project.warning_raised` and signals `warnings_resolved` when the last
open warning of its check is resolved. Each rung is the activity `referrals.issue_project_letter`: the
referrals service writing the numbered letter and its event in one transaction, once per rung (idempotency key
`<workflow id>:<kind>`), or answering "closed" when the warnings were resolved meanwhile, which ends the
ladder too. `calendar_updated` (`anxin calendar load`) has the service count the pending wait again
(`referrals.recompute_project_ladder`): later if the entered calendar says so, never earlier than the date the
last letter stated. Workflow code: no I/O, `workflow.now()` only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict, Field

    from services.contracts.lifecycle import CalendarConfig, Signals

PROJECT_LADDER_WORKFLOW_TYPE = "ProjectLetterLadder"
ISSUE_PROJECT_LETTER_ACTIVITY = "referrals.issue_project_letter"
RECOMPUTE_PROJECT_LADDER_ACTIVITY = "referrals.recompute_project_ladder"
WARNINGS_RESOLVED_SIGNAL = "warnings_resolved"

_ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectRung(_Model):
    kind: str
    to: str = Field(description="general_contractor, department or a [bureau.escalation] key.")
    wait_working_days: int = Field(ge=1)


class ProjectLadderInput(_Model):
    ladder_id: str
    project_id: str
    check: str
    first_due_at: datetime = Field(description="When the first letter is due (the warning's first wait passed).")
    first_wait_working_days: int = Field(ge=0)
    rungs: list[ProjectRung] = Field(min_length=1)
    # Compressed clock: one working day lasts this many seconds (0: the real calendar).
    working_day_seconds: float = Field(0.0, ge=0)


class IssueProjectLetterRequest(_Model):
    ladder_id: str
    kind: str
    to: str
    wait_working_days: int
    idempotency_key: str
    last: bool = Field(description="The ladder's last rung: its letter ends the ladder.")


class ProjectLetterResult(_Model):
    closed: bool
    letter_id: str | None = None
    next_due_at: datetime | None = None


class RecomputeProjectLadderRequest(_Model):
    ladder_id: str
    # The last letter issued (None: the first is pending), the working days waited from it (or from the
    # warning), and the instant waited for now.
    after_kind: str | None = None
    wait_working_days: int = Field(ge=0)
    due_at: datetime


class RecomputeProjectLadderResult(_Model):
    due_at: datetime


@workflow.defn(name=PROJECT_LADDER_WORKFLOW_TYPE)
class ProjectLetterLadderWorkflow:
    def __init__(self) -> None:
        self._resolved = False
        self._calendar_version = 0

    @workflow.signal(name=WARNINGS_RESOLVED_SIGNAL)
    def warnings_resolved(self) -> None:
        """Every open warning of the ladder's check was resolved: no further letter."""
        self._resolved = True

    @workflow.signal(name=Signals.CALENDAR_UPDATED)
    def calendar_updated(self, _calendar: CalendarConfig) -> None:
        # The service reads the entered calendar itself (it is written before the signal is sent).
        self._calendar_version += 1

    @workflow.run
    async def run(self, input: ProjectLadderInput) -> list[str]:
        issued: list[str] = []
        due_at = input.first_due_at
        wait_days = input.first_wait_working_days
        after_kind: str | None = None
        counted_version = 0  # the calendar updates the pending date was last counted after
        for index, rung in enumerate(input.rungs):
            compressed_fire_at = workflow.now() + timedelta(seconds=wait_days * input.working_day_seconds)
            while True:
                fire_at = compressed_fire_at if input.working_day_seconds > 0 else due_at
                seen = counted_version
                try:
                    await workflow.wait_condition(
                        lambda: self._resolved or self._calendar_version != seen,  # noqa: B023
                        timeout=max(fire_at - workflow.now(), timedelta(0)),
                    )
                except TimeoutError:
                    break
                if self._resolved:
                    return issued
                version = self._calendar_version
                recomputed = await workflow.execute_activity(
                    RECOMPUTE_PROJECT_LADDER_ACTIVITY,
                    RecomputeProjectLadderRequest(
                        ladder_id=input.ladder_id, after_kind=after_kind, wait_working_days=wait_days, due_at=due_at
                    ),
                    result_type=RecomputeProjectLadderResult,
                    start_to_close_timeout=timedelta(minutes=1),
                    retry_policy=_ACTIVITY_RETRY,
                )
                # Never earlier than the date the last letter stated.
                due_at = max(due_at, recomputed.due_at)
                counted_version = version
            result = await workflow.execute_activity(
                ISSUE_PROJECT_LETTER_ACTIVITY,
                IssueProjectLetterRequest(
                    ladder_id=input.ladder_id,
                    kind=rung.kind,
                    to=rung.to,
                    wait_working_days=rung.wait_working_days,
                    idempotency_key=f"{workflow.info().workflow_id}:{rung.kind}",
                    last=index == len(input.rungs) - 1,
                ),
                result_type=ProjectLetterResult,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=_ACTIVITY_RETRY,
            )
            if result.closed:
                return issued
            assert result.letter_id is not None and result.next_due_at is not None
            issued.append(result.letter_id)
            due_at = result.next_due_at
            after_kind = rung.kind
            wait_days = rung.wait_working_days
        return issued
