"""Stored deadlines and waiting on them, for both lifecycle workflows.

Every deadline is computed once by the calendar activity and stored in the state under its name, so a
replay, a retry or a new run after continue-as-new waits for the same instant. Waiting is explicit: until a
condition holds or the stored deadline passes (the escalation branch), leaving at any wait for a new run when
the history is long. A deadline computed on the fallback calendar (provisional) is recomputed when the bureau
enters the missing year's calendar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.common.workflow_runner import COLD_TASK_DETERMINISM
    from services.contracts.lifecycle import CalendarConfig, DayUnit, Deadline, DeadlineRequest, Office
    from services.contracts.lifecycle.activities import compute_deadline
    from workflows.core import ACTIVITY_RETRY, CALENDAR_NOT_COVERED, LifecycleCore, WaitResult

# The calendar is read by a local activity: a pure computation on the workflow's own worker, whose result is
# still recorded in the history (the official calendar can change under a running workflow). As a normal
# activity each deadline cost the server a task to dispatch, three history events and another workflow task;
# a new complaint's first steps took three workflow tasks and three activities instead of two and one
# (`docs/performance.md`). Histories from before the change keep their normal activity.
DEADLINES_AS_LOCAL_ACTIVITIES = "2026-11-deadlines-as-local-activities"
# A provisional deadline (computed without the official calendar for its year) whose expiry has legal
# consequences waits, once passed, for the official calendar or an inspector's confirmation before acting.
PROVISIONAL_EXPIRY_HELD = "2026-11-provisional-expiry-held"
# A deadline already passed when its wait begins still waits on a timer, so whether it expires is decided
# by the timer's firing, which the history records, never by `workflow.now()` at that moment: a fault run
# showed the activation's time differing between a live run (a restarted worker, which saw the time of the
# task before) and its replay, the one starting a timer where the other expired at once (docs/reliability.md).
# Gated by the patch every complaint and case records first (`COLD_TASK_DETERMINISM`; memoized, so asking
# here records nothing more). A second, not a millisecond: with 1 ms timers the time-skipping test server
# intermittently refused workflow tasks ("invalid history builder state for action").
PASSED_DEADLINE_TIMER = timedelta(seconds=1)
# A workflow that reports to the ledger (workflows/base.py) computes its deadlines with normal activities
# again: its report activities complete while other coroutines wait on deadlines, and a local activity's
# result is then delivered in another activation on replay than live (sdk-python issues 1578 and 1881),
# which a fault run showed as a nondeterminism error in a case on the handoff ladder.


class DeadlineWaits(LifecycleCore):
    """Deadlines computed once and stored; waits that end when a condition holds or a deadline passes."""

    _calendar_lock: asyncio.Lock | None = None

    # --- deadlines ---------------------------------------------------------------------------------------

    async def _deadline(self, name: str, legal_start: datetime, amount: int, unit: DayUnit) -> Deadline:
        """The stored deadline `name`, computed by the calendar activity the first time it is needed."""
        existing = self._state.deadlines.get(name)
        if existing is not None:
            return existing
        deadline = await self._compute(name, legal_start, amount, unit)
        self._store_deadline(deadline)
        return deadline

    def _store_deadline(self, deadline: Deadline) -> None:
        """Keep a computed deadline under its name (here or by the workflow's starter), saying in the timeline
        when it is provisional."""
        self._state.deadlines[deadline.name] = deadline
        if deadline.provisional:
            self._record(
                "deadline.provisional",
                f"期限「{deadline.name}」暂定为 {deadline.due_date}：{deadline.calendar_note}",
            )

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
                if self._deadlines_may_be_local() and workflow.patched(DEADLINES_AS_LOCAL_ACTIVITIES):
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

    def _deadlines_may_be_local(self) -> bool:
        return True

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

    # --- waiting ---------------------------------------------------------------------------------------------

    async def _wait(
        self, done: Callable[[], bool], deadline_name: str | None, *, settle_when_done: bool = True
    ) -> WaitResult:
        """Wait until `done()` holds or the stored deadline passes (the escalation branch).

        Returns early for continue-as-new at this safe point, and recomputes a provisional deadline when the
        bureau enters the missing year's calendar. When `done()` also wakes for something other than what the
        deadline waits for, `settle_when_done=False` leaves the deadline pending for the caller to settle.
        """
        if deadline_name is not None:
            self._state.active_deadlines.append(deadline_name)
            self._publish_search_attributes()
        # No `finally`: when a cached workflow is evicted its coroutines are closed outside the workflow
        # event loop, where no workflow API may be called.
        try:
            result = await self._wait_for(done, deadline_name if settle_when_done else None, deadline_name)
        except asyncio.CancelledError:
            self._leave(deadline_name)
            raise
        self._leave(deadline_name)
        return result

    def _leave(self, deadline_name: str | None) -> None:
        if deadline_name is not None and deadline_name in self._state.active_deadlines:
            self._state.active_deadlines.remove(deadline_name)
            self._publish_search_attributes()

    async def _wait_for(
        self, done: Callable[[], bool], settled_name: str | None, deadline_name: str | None
    ) -> WaitResult:
        while True:
            self._check_failure()
            if done():
                self._settle(settled_name, "met")
                return WaitResult.DONE
            if self._should_continue_as_new():
                return WaitResult.CONTINUE_AS_NEW
            version = self._state.calendar_version
            timeout: timedelta | None = None
            if deadline_name is not None:
                deadline = self._state.deadlines[deadline_name]
                timeout = deadline.fire_at - workflow.now()
                if timeout <= timedelta(0) and workflow.patched(COLD_TASK_DETERMINISM):
                    timeout = PASSED_DEADLINE_TIMER
                elif timeout <= timedelta(0):
                    if await self._held_for_confirmation(deadline_name, done):
                        continue
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
                if done() or await self._held_for_confirmation(deadline_name, done):
                    continue
                self._expire(deadline_name)
                return WaitResult.EXPIRED
            if self._state.calendar_version != version:
                await self._recompute_provisional()

    def _expiry_needs_official_date(self, deadline_name: str) -> bool:
        """Whether the deadline's expiry has legal consequences (refusal to pay, closure for missing
        information): the workflows name theirs."""
        return False

    async def _held_for_confirmation(self, deadline_name: str | None, done: Callable[[], bool]) -> bool:
        """A passed deadline that is provisional and whose expiry has legal consequences is held: the
        inspector is told once, and the wait goes on until the official calendar arrives (the deadline is
        recomputed: it may lie later), an inspector confirms the date, or the condition holds. True when it
        was held (the caller looks again), False when it may expire now."""
        assert deadline_name is not None
        deadline = self._state.deadlines[deadline_name]
        if not deadline.provisional or not self._expiry_needs_official_date(deadline_name):
            return False
        if not self._config.hold_provisional_expiry or self._compressed():
            return False
        if not workflow.patched(PROVISIONAL_EXPIRY_HELD):
            return False
        if deadline_name not in self._state.held_deadlines:
            self._state.held_deadlines.append(deadline_name)
            text = (
                f"期限「{deadline_name}」（{deadline.due_date}）为暂定：{deadline.calendar_note}；"
                "其届满产生法律后果，待载入官方日历或承办人确认日期后再执行"
            )
            self._record("deadline.held", text)
            await self._notice(
                Office.INSPECTOR,
                "deadline.held",
                f"{self._workflow_id()}：{text}",
                step=f"deadline.held:{deadline_name}",
            )
            self._publish_search_attributes()
        version = self._state.calendar_version
        await workflow.wait_condition(
            lambda: (
                done()
                or self._state.calendar_version != version
                or not self._state.deadlines[deadline_name].provisional
                or self._should_continue_as_new()
                or self._failure is not None
            )
        )
        if self._state.calendar_version != version:
            await self._recompute_provisional()
        return True

    def _confirm_deadline(self, name: str, confirmed_by: str, note: str | None) -> None:
        deadline = self._state.deadlines[name]
        confirmation = f"承办人 {confirmed_by} 确认期限日期" + (f"：{note}" if note else "")
        self._state.deadlines[name] = deadline.model_copy(update={"provisional": False, "calendar_note": confirmation})
        self._record("deadline.confirmed", f"期限「{name}」（{deadline.due_date}）{confirmation}")

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
        dues = [self._state.deadlines[n].due_at for n in self._state.active_deadlines if n in self._state.deadlines]
        return min(dues) if dues else None
