"""The core both lifecycle workflows stand on: their state, identity and clocks, the timeline, activities and
search attributes.

Both workflows keep all their progress in one pydantic state model, and each stage of their main loop can
resume from that state alone. That is what makes continue-as-new safe at any wait: the new run receives the
state in its input (`resume`) and picks up where the old one stopped. One-off side effects are recorded in
`state.done` under a step key, which is also the suffix of the idempotency key the activity sends, so a
step repeated after a crash or a continue-as-new changes nothing twice in the owning service.

The layers of the shared base: this module, then the stored deadlines and waiting (`workflows/deadlines.py`),
then the main loop and the reports to the ledger (`workflows/base.py`), which the workflows extend.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict, Field

    from services.contracts.lifecycle import (
        AgencyNotice,
        CalendarConfig,
        Deadline,
        LifecycleConfig,
        Office,
        ParkedStep,
        TimelineEntry,
        parked_step,
    )
    from services.contracts.lifecycle.activities import activity_name, notify_agency
    from services.contracts.process_reports import ProcessSnapshot
    from services.contracts.state_reporting import SideTasks

A = TypeVar("A")  # an activity's argument
R = TypeVar("R")  # an activity's result

# The error type the deadline activity raises when `fallback="fail"` and a year is not covered.
CALENDAR_NOT_COVERED = "CalendarNotCovered"
# Error type of a service's refusal (4xx other than 409): retrying cannot help.
SERVICE_REFUSED = "ServiceRefused"
# A parked step is reported to the ledger when it parks and when it is retried. Reporting then is a new
# command at a new moment, so histories parked before this change replay without it (they show the parked
# step in their `status` query and in their next report, or at once after `anxin audit ledger --fix`).
PARKED_STEP_REPORTS = "2026-11-parked-step-reports"

ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=[CALENDAR_NOT_COVERED, SERVICE_REFUSED],
)


class WaitResult(enum.Enum):
    DONE = "done"  # the awaited condition holds
    EXPIRED = "expired"  # the deadline passed first: the escalation branch
    CONTINUE_AS_NEW = "continue_as_new"  # history is long: hand over to a new run at this safe point


class LifecycleState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The legal instant of the latest event. On the real clock this is workflow time; on a compressed clock
    # it advances to a deadline's legal instant when its timer fires, so the timeline shows legal dates.
    legal_clock: datetime
    calendar: CalendarConfig
    calendar_version: int = 0
    calendar_applied_version: int = 0
    calendar_blocked: str | None = None
    # A step a service refused for good, waiting for an operator's `retry_refused_step` signal.
    stuck: str | None = None
    retry_requests: int = 0
    # Whether this workflow reports a parked step when it parks (behind PARKED_STEP_REPORTS).
    report_parked: bool = False
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    # Provisional deadlines that passed but whose expiry waits for the official calendar or a confirmation.
    held_deadlines: list[str] = Field(default_factory=list)
    # Deadlines some part of the workflow is waiting on now (their earliest is the "next deadline").
    active_deadlines: list[str] = Field(default_factory=list)
    done: list[str] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    overdue: bool = False
    notice_seq: int = 0
    published: dict[str, str] = Field(default_factory=dict)
    # The last state reported to the ledger, and how many reports were sent (their idempotency keys).
    report_seq: int = 0
    reported: ProcessSnapshot | None = None
    reported_key: str | None = None


class LifecycleCore(SideTasks):
    """Identity, clocks, the timeline, activities and search attributes of both lifecycle workflows; the
    failures of their side tasks are handed to the main loop (`SideTasks`)."""

    _state: LifecycleState
    _config: LifecycleConfig
    _input: Any

    # --- identity and clocks --------------------------------------------------------------------------

    def _workflow_id(self) -> str:
        return workflow.info().workflow_id

    def _county(self) -> str:
        return self._input.county

    def _compressed(self) -> bool:
        return self._config.working_day_seconds > 0

    def _legal_now(self) -> datetime:
        if self._compressed():
            return self._state.legal_clock
        return max(workflow.now(), self._state.legal_clock)

    def _key(self, step: str) -> str:
        """Idempotency key of a step: stable across retries, replays and continue-as-new."""
        return f"{self._workflow_id()}:{step}"

    def _is_done(self, step: str) -> bool:
        return step in self._state.done

    def _mark_done(self, step: str) -> None:
        if step not in self._state.done:
            self._state.done.append(step)

    def _record(self, kind: str, text: str, at: datetime | None = None) -> None:
        self._state.timeline.append(TimelineEntry(at=at or self._legal_now(), kind=kind, text=text))

    # --- activities ------------------------------------------------------------------------------------

    async def _activity(
        self,
        activity: Callable[[A], Awaitable[R]],
        arg: A,
        timeout: timedelta = timedelta(minutes=1),
        *,
        hold_on_refusal: bool = True,
    ) -> R:
        """Run an activity, called by its declaration (`services/contracts/lifecycle/activities.py`, which
        types the argument and the result); transient failures are retried by the retry policy.

        A service's definitive refusal (`ServiceRefused`) is not a reason to lose the complaint: the step is
        recorded as refused, the workflow is flagged for operators (overdue search attribute) and waits for
        the `retry_refused_step` signal to try again. With `hold_on_refusal=False` the error is raised.
        """
        name = activity_name(activity)
        while True:
            try:
                return await workflow.execute_activity(
                    activity,
                    arg,
                    task_queue=self._config.activity_queues.for_activity(name),
                    start_to_close_timeout=timeout,
                    retry_policy=ACTIVITY_RETRY,
                    # If an operator cancels the workflow, wait for a command already sent to a service to
                    # finish: its outcome is then in the history, never left unknown.
                    cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                )
            except ActivityError as err:
                cause = err.cause
                if not (isinstance(cause, ApplicationError) and cause.type == SERVICE_REFUSED) or not hold_on_refusal:
                    raise
                retries = self._state.retry_requests
                if not self._state.report_parked and workflow.patched(PARKED_STEP_REPORTS):
                    self._state.report_parked = True
                self._state.stuck = f"{name}: {cause.message}"
                self._record("step.refused", f"{name} 被服务拒绝：{cause.message}；待运维处理后重试")
                self._publish_search_attributes()
                await workflow.wait_condition(lambda: self._state.retry_requests != retries)  # noqa: B023
                self._state.stuck = None
                self._record("step.retried", f"运维要求重试 {name}")
                self._publish_search_attributes()

    def _parked(self) -> ParkedStep | None:
        """The step a service refused, waiting for an operator (the `status` query's `parked`)."""
        return parked_step(self._state.stuck, self._state.timeline)

    def _parked_report_key(self) -> str:
        """What the reports add to their reported fields: the parked step, once this workflow reports it (empty
        otherwise, so the reports of a workflow that never parks are the commands they always were)."""
        return f"|parked:{self._state.stuck}" if self._state.report_parked and self._state.stuck else ""

    def _retry_refused_step(self) -> None:
        self._state.retry_requests += 1

    async def _notice(
        self, office: Office, kind: str, text: str, step: str, due_at: datetime | None = None, **extra: Any
    ) -> None:
        """An internal notice (reminder, warning, escalation) to an inspector, office or department."""
        await self._activity(
            notify_agency,
            AgencyNotice(
                idempotency_key=self._key(step),
                subject=self._workflow_id(),
                county=self._county(),
                office=office,
                kind=kind,
                text=text,
                due_at=due_at,
                **extra,
            ),
        )

    # --- when to hand over to a new run ------------------------------------------------------------------

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._config.continue_as_new_after_events
        )

    # --- search attributes ------------------------------------------------------------------------------

    def _needs_attention(self) -> bool:
        """A calendar is missing or a step waits for an operator: shown as overdue."""
        return self._state.calendar_blocked is not None or self._state.stuck is not None

    def _search_attribute_values(self) -> list[tuple[SearchAttributeKey[Any], Any]]:
        raise NotImplementedError

    def _publish_search_attributes(self) -> None:
        """Upsert the search attributes whose value changed since the last upsert (one event per change)."""
        if not self._config.search_attributes:
            return
        updates = []
        for key, value in self._search_attribute_values():
            text = "" if value is None else (value.isoformat() if isinstance(value, datetime) else str(value))
            if self._state.published.get(key.name) == text:
                continue
            self._state.published[key.name] = text
            updates.append(key.value_unset() if value is None else key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)
