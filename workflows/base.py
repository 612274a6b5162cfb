"""What the complaint and case workflows share: stored deadlines, waiting, the timeline, search attributes
and continue-as-new.

Both workflows keep all their progress in one pydantic state model, and each stage of their main loop can
resume from that state alone. That is what makes continue-as-new safe at any wait: the new run receives the
state in its input (`resume`) and picks up where the old one stopped. One-off side effects are recorded in
`state.done` under a step key, which is also the suffix of the idempotency key the activity sends, so a
step repeated after a crash or a continue-as-new changes nothing twice in the owning service.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Mapping
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
        DayUnit,
        Deadline,
        DeadlineRequest,
        LifecycleConfig,
        Office,
        TimelineEntry,
    )
    from services.contracts.lifecycle.activities import (
        activity_name,
        compute_deadline,
        notify_agency,
        report_process,
    )
    from services.contracts.process_reports import ProcessReport, ProcessSnapshot, describe_changes

A = TypeVar("A")  # an activity's argument
R = TypeVar("R")  # an activity's result

# The error type the deadline activity raises when `fallback="fail"` and a year is not covered.
CALENDAR_NOT_COVERED = "CalendarNotCovered"
# Error type of a service's refusal (4xx other than 409): retrying cannot help.
SERVICE_REFUSED = "ServiceRefused"

# The calendar is read by a local activity: a pure computation on the workflow's own worker, whose result is
# still recorded in the history (the official calendar can change under a running workflow). As a normal
# activity each deadline cost the server a task to dispatch, three history events and another workflow task;
# a new complaint's first steps took three workflow tasks and three activities instead of two and one
# (`docs/performance.md`). Histories from before the change keep their normal activity.
DEADLINES_AS_LOCAL_ACTIVITIES = "2026-11-deadlines-as-local-activities"

# Every change of a workflow's state is reported to the ledger (services/contracts/process_reports.py).
# Histories from before the change report nothing; such a workflow starts reporting when an operator asks
# for its state (`anxin audit ledger --fix`), behind a patch of its own.
PROCESS_REPORTS = "2026-11-process-reports"
PROCESS_REPORTS_ON_REQUEST = "2026-11-process-reports-on-request"

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
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
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


class LifecycleWorkflow:
    """Base of both lifecycle workflows (not a workflow itself)."""

    _state: LifecycleState
    _config: LifecycleConfig
    _failure: BaseException | None = None
    _calendar_lock: asyncio.Lock | None = None
    _input: Any
    _reporter: asyncio.Task[None] | None = None
    _report_in_flight: bool = False
    _ending: bool = False

    # --- identity and clocks --------------------------------------------------------------------------

    def _workflow_id(self) -> str:
        return workflow.info().workflow_id

    def _county(self) -> str:
        raise NotImplementedError

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
                if (
                    not (isinstance(cause, ApplicationError) and cause.type == SERVICE_REFUSED)
                    or not hold_on_refusal
                ):
                    raise
                retries = self._state.retry_requests
                self._state.stuck = f"{name}: {cause.message}"
                self._record("step.refused", f"{name} 被服务拒绝：{cause.message}；待运维处理后重试")
                self._publish_search_attributes()
                await workflow.wait_condition(lambda: self._state.retry_requests != retries)  # noqa: B023
                self._state.stuck = None
                self._record("step.retried", f"运维要求重试 {name}")
                self._publish_search_attributes()

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

    # --- deadlines ---------------------------------------------------------------------------------------

    async def _deadline(self, name: str, legal_start: datetime, amount: int, unit: DayUnit) -> Deadline:
        """The stored deadline `name`, computed by the calendar activity the first time it is needed."""
        existing = self._state.deadlines.get(name)
        if existing is not None:
            return existing
        deadline = await self._compute(name, legal_start, amount, unit)
        self._state.deadlines[name] = deadline
        if deadline.provisional:
            self._record(
                "deadline.provisional",
                f"期限「{name}」暂定为 {deadline.due_date}：{deadline.calendar_note}",
            )
        return deadline

    async def _compute(self, name: str, legal_start: datetime, amount: int, unit: DayUnit) -> Deadline:
        while True:
            request = DeadlineRequest(
                name=name,
                legal_start=legal_start,
                wall_start=workflow.now(),
                amount=amount,
                unit=unit,
                calendar=self._state.calendar,
                working_day_seconds=self._config.working_day_seconds,
            )
            try:
                if workflow.patched(DEADLINES_AS_LOCAL_ACTIVITIES):
                    return await workflow.execute_local_activity(
                        compute_deadline,
                        request,
                        start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=ACTIVITY_RETRY,
                    )
                return await self._activity(compute_deadline, request, timeout=timedelta(seconds=30))
            except (ActivityError, ApplicationError) as err:
                # A normal activity's failure arrives as an ActivityError with the activity's error as its
                # cause; a local activity's arrives as the activity's error itself.
                cause = err.cause if isinstance(err, ActivityError) else err
                if not (isinstance(cause, ApplicationError) and cause.type == CALENDAR_NOT_COVERED):
                    raise
                # Fail loudly but keep the complaint: say so in the timeline and on the search
                # attributes, and wait for the bureau to enter the missing year.
                version = self._state.calendar_version
                self._state.calendar_blocked = cause.message
                self._record("calendar.missing", f"无法计算期限「{name}」：{cause.message}")
                self._publish_search_attributes()
                await workflow.wait_condition(lambda: self._state.calendar_version != version)  # noqa: B023
                self._state.calendar_blocked = None
                self._publish_search_attributes()

    def _needs_attention(self) -> bool:
        return self._state.calendar_blocked is not None or self._state.stuck is not None

    def _calendar_updated(self, calendar: CalendarConfig) -> None:
        self._state.calendar = calendar
        self._state.calendar_version += 1
        self._record("calendar.updated", "官方节假日安排已更新，暂定期限将重新计算")

    async def _recompute_provisional(self) -> None:
        """Recompute every pending deadline that was computed on the fallback, once per calendar update."""
        if self._calendar_lock is None:
            self._calendar_lock = asyncio.Lock()
        async with self._calendar_lock:
            version = self._state.calendar_version
            if self._state.calendar_applied_version == version:
                return
            for name, old in list(self._state.deadlines.items()):
                if not old.provisional or old.outcome != "pending":
                    continue
                new = await self._compute(name, old.legal_start, old.amount, old.unit)
                if self._compressed():
                    # Keep the timer where it was: on a compressed clock only the legal dates change.
                    new = new.model_copy(update={"fire_at": old.fire_at})
                self._state.deadlines[name] = new
                self._record(
                    "deadline.recomputed",
                    f"期限「{name}」按官方日历重新计算：{old.due_date} → {new.due_date}"
                    + ("（仍为暂定）" if new.provisional else ""),
                )
            self._state.calendar_applied_version = version
            self._publish_search_attributes()

    async def _guard(self, coro: Any) -> None:
        # A failure in a side task must not vanish: hand it to the main loop, which raises it (the workflow
        # task fails and is retried, visible to operators) instead of the task ending silently.
        try:
            await coro
        except Exception as err:
            self._failure = err

    def _check_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def _wait(self, done: Callable[[], bool], deadline_name: str | None) -> WaitResult:
        """Wait until `done()` holds or the stored deadline passes (the escalation branch).

        Returns early for continue-as-new at this safe point, and recomputes a provisional deadline when the
        bureau enters the missing year's calendar.
        """
        if deadline_name is not None:
            self._state.active_deadlines.append(deadline_name)
            self._publish_search_attributes()
        # No `finally`: when a cached workflow is evicted its coroutines are closed outside the workflow
        # event loop, where no workflow API may be called.
        try:
            result = await self._wait_for(done, deadline_name)
        except asyncio.CancelledError:
            self._leave(deadline_name)
            raise
        self._leave(deadline_name)
        return result

    def _leave(self, deadline_name: str | None) -> None:
        if deadline_name is not None and deadline_name in self._state.active_deadlines:
            self._state.active_deadlines.remove(deadline_name)
            self._publish_search_attributes()

    async def _wait_for(self, done: Callable[[], bool], deadline_name: str | None) -> WaitResult:
        while True:
            self._check_failure()
            if done():
                self._settle(deadline_name, "met")
                return WaitResult.DONE
            if self._should_continue_as_new():
                return WaitResult.CONTINUE_AS_NEW
            version = self._state.calendar_version
            timeout: timedelta | None = None
            if deadline_name is not None:
                deadline = self._state.deadlines[deadline_name]
                timeout = deadline.fire_at - workflow.now()
                if timeout <= timedelta(0):
                    self._expire(deadline_name)
                    return WaitResult.EXPIRED
            try:
                await workflow.wait_condition(
                    lambda: (
                        done()
                        or self._state.calendar_version != version  # noqa: B023 (awaited in this iteration)
                        or self._should_continue_as_new()
                        or self._failure is not None
                    ),
                    timeout=timeout,
                )
            except TimeoutError:
                if done():
                    continue
                self._expire(deadline_name)
                return WaitResult.EXPIRED
            if self._state.calendar_version != version:
                await self._recompute_provisional()

    def _settle(self, deadline_name: str | None, outcome: str) -> None:
        if deadline_name is None:
            return
        deadline = self._state.deadlines[deadline_name]
        if deadline.outcome == "pending":
            self._state.deadlines[deadline_name] = deadline.model_copy(update={"outcome": outcome})

    def _expire(self, deadline_name: str | None) -> None:
        assert deadline_name is not None
        deadline = self._state.deadlines[deadline_name]
        self._settle(deadline_name, "expired")
        if self._compressed():
            self._state.legal_clock = max(self._state.legal_clock, deadline.due_at)

    def _supersede(self, deadline_name: str) -> None:
        if deadline_name in self._state.deadlines:
            self._settle(deadline_name, "superseded")

    def _next_deadline(self) -> datetime | None:
        dues = [
            self._state.deadlines[n].due_at
            for n in self._state.active_deadlines
            if n in self._state.deadlines
        ]
        return min(dues) if dues else None

    # --- the main loop ----------------------------------------------------------------------------------------

    async def _drive(self, stages: Mapping[Any, Callable[[], Awaitable[WaitResult | None]]], last_stage: Any) -> None:
        """Run the stage the state is in until `last_stage`, handing over to a new run (continue-as-new) at a
        safe point when the history is long; then let what is in flight finish."""
        try:
            while getattr(self._state, "stage") is not last_stage:  # noqa: B009 (the stage is the subclass's)
                if await stages[getattr(self._state, "stage")]() is WaitResult.CONTINUE_AS_NEW:  # noqa: B009
                    await self._settle_before_handover()
                    workflow.continue_as_new(self._input.model_copy(update={"resume": self._state.model_dump()}))
            await self._settle_before_handover()
        except asyncio.CancelledError:
            # An operator cancelled the workflow: a run that is ending reports nothing more.
            self._ending = True
            raise

    # --- reports to the ledger --------------------------------------------------------------------------------

    # The state fields whose change is reported (each workflow names its own). When to report is decided on
    # them, never on the snapshot: the snapshot is a contract that may grow, and a report sent at another
    # moment in a replay would be a different command. Changing this set changes the commands: patch it.
    REPORTED_FIELDS: frozenset[str] = frozenset()

    def _report_key(self) -> str:
        return self._state.model_dump_json(include=set(self.REPORTED_FIELDS))

    def _snapshot(self) -> ProcessSnapshot:
        """The state the ledger keeps of this process (`snapshot_of` its status, without the timeline)."""
        raise NotImplementedError

    def _start_reporting(self, patch: str) -> None:
        if self._reporter is None and workflow.patched(patch):
            self._reporter = asyncio.create_task(self._guard(self._report_changes()), name="reporter")

    async def _report_changes(self) -> None:
        """Report the state each time one of its `REPORTED_FIELDS` changed since the last report, whatever
        changed it.

        A waiting workflow reports nothing (the condition is only evaluated when something happens), and
        changes made while a report is on its way are sent together in the next one.
        """
        while True:
            await workflow.wait_condition(lambda: not self._ending and self._report_key() != self._state.reported_key)
            key = self._report_key()
            snapshot = self._snapshot()
            self._state.report_seq += 1
            report = ProcessReport(
                idempotency_key=self._key(f"report:{self._state.report_seq}"),
                workflow_id=self._workflow_id(),
                seq=self._state.report_seq,
                at=self._legal_now(),
                changes=describe_changes(self._state.reported, snapshot),
                snapshot=snapshot,
            )
            self._report_in_flight = True
            try:
                # A normal activity, not a local one: local activities resolved in two coroutines at once are
                # delivered in another order on replay than live (sdk-python issues 1578 and 1881), and the
                # reporter always runs beside the main loop.
                await self._activity(report_process, report, timeout=timedelta(seconds=30), hold_on_refusal=False)
            except ActivityError as err:
                # Transient failures are retried without end; a refusal must not stall the process. The
                # next change is reported in full, and `anxin audit ledger` shows the gap meanwhile.
                self._record("report.failed", f"状态报告 {report.seq} 未被台账接收：{err.cause or err}")
            self._report_in_flight = False
            self._state.reported = snapshot
            self._state.reported_key = key

    def _report_again(self) -> None:
        """An operator asked for the state again: the next report carries everything, changed or not."""
        self._start_reporting(PROCESS_REPORTS_ON_REQUEST)
        self._state.reported = None
        self._state.reported_key = None

    def _reports_settled(self) -> bool:
        return self._reporter is None or (
            not self._report_in_flight and self._report_key() == self._state.reported_key
        )

    # --- continue-as-new -------------------------------------------------------------------------------------

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._config.continue_as_new_after_events
        )

    def _outbox_empty(self) -> bool:
        raise NotImplementedError

    async def _settle_before_handover(self) -> None:
        """Let update handlers finish, queued messages go out and the last state be reported before this run
        ends."""
        await workflow.wait_condition(
            lambda: (self._outbox_empty() and self._reports_settled() and workflow.all_handlers_finished())
            or self._failure is not None
        )
        self._check_failure()

    # --- search attributes ------------------------------------------------------------------------------

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


def refuse(message: str) -> ApplicationError:
    """The error an update validator raises to refuse an impossible transition, with the reason."""
    return ApplicationError(message, type="TransitionRefused", non_retryable=True)
