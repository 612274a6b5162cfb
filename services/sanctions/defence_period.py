"""The statement-and-defence period of a blacklist procedure: computed on the official calendar, waited on,
and recomputed when the bureau enters the calendar of a year it reached into provisionally.

A mixin of `BlacklistWorkflow` (workflow code: `temporalio` and the standard library only). The period is
counted by the sanctions worker's calendar activity (services/contracts/working_days.py). When it reaches
into a year nobody has entered yet it is *provisional*, as in the lifecycle workflows (workflows/deadlines.py),
and the `calendar_updated` signal (`anxin calendar load`) recomputes it — with one difference: the prior
notice already served on the employer states the last day of the period, so the period may become longer
than the notice says, never shorter.

Workflows started before the signal was handled keep waiting for the date they computed
(`workflow.patched(CALENDAR_UPDATES)`); they still take the signal, which only stores the calendar.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.contracts.lifecycle import CalendarConfig, DayUnit, Deadline, DeadlineRequest
    from services.contracts.sanctions_workflows import ListingSignals, SanctionsActivities

CALENDAR_UPDATES = "2026-11-calendar-updates"

DEADLINE_TIMEOUT = timedelta(minutes=2)
DEADLINE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10)
)


class DefencePeriod:
    """The defence period's deadline, and the calendar it is counted on (set by `_start_defence_period`)."""

    _calendar: CalendarConfig | None = None
    _calendar_version: int = 0
    _defence: Deadline | None = None

    # --- provided by the workflow -----------------------------------------------------------------------------

    def _legal_now(self) -> datetime:
        raise NotImplementedError

    def _wait_for(self, legal_instant: datetime) -> float:
        raise NotImplementedError

    def _record(self, kind: str, text: str) -> None:
        raise NotImplementedError

    def _defence_due_changed(self, deadline: Deadline) -> None:
        """The workflow's own record of the period's last day (reported to the sanctions service)."""
        raise NotImplementedError

    # --- the period ------------------------------------------------------------------------------------------

    async def _compute_defence(
        self, legal_start: datetime, amount: int, unit: DayUnit, working_day_seconds: float
    ) -> Deadline:
        assert self._calendar is not None
        return await workflow.execute_activity(
            SanctionsActivities.COMPUTE_DEADLINE,
            DeadlineRequest(
                name="defence",
                legal_start=legal_start,
                wall_start=workflow.now(),
                amount=amount,
                unit=unit,
                calendar=self._calendar,
                working_day_seconds=working_day_seconds,
            ),
            result_type=Deadline,
            start_to_close_timeout=DEADLINE_TIMEOUT,
            retry_policy=DEADLINE_RETRY,
        )

    async def _wait_defence_period(self, ended: Callable[[], bool], working_day_seconds: float) -> None:
        """Wait until `ended()` holds or the period is over; a provisional period is recomputed on the way
        when the bureau enters the missing year."""
        assert self._defence is not None
        if not workflow.patched(CALENDAR_UPDATES):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(ended, timeout=self._wait_for(self._defence.due_at))
            return
        while not ended():
            version = self._calendar_version
            try:
                await workflow.wait_condition(
                    lambda: ended() or self._calendar_version != version,  # noqa: B023 (awaited here)
                    timeout=self._wait_for(self._defence.due_at),
                )
            except TimeoutError:
                return
            if self._calendar_version != version and self._defence.provisional:
                await self._recompute_defence(working_day_seconds)

    async def _recompute_defence(self, working_day_seconds: float) -> None:
        old = self._defence
        assert old is not None
        new = await self._compute_defence(old.legal_start, old.amount, old.unit, working_day_seconds)
        if new.due_date < old.due_date:
            # The notice served on the employer says `old.due_date`: the period it gave is not shortened.
            new = old.model_copy(update={"provisional": False, "calendar_note": None})
            self._record(
                "deadline.recomputed",
                f"陈述申辩期限按官方日历应早于 {old.due_date}，仍以事先告知书所载 {old.due_date} 为准",
            )
        else:
            self._record(
                "deadline.recomputed",
                f"陈述申辩期限按官方日历重新计算：{old.due_date} → {new.due_date}"
                + ("（仍为暂定）" if new.provisional else ""),
            )
        self._defence = new
        self._defence_due_changed(new)

    # --- the signal ------------------------------------------------------------------------------------------

    @workflow.signal(name=ListingSignals.CALENDAR_UPDATED)
    def calendar_updated(self, calendar: CalendarConfig) -> None:
        """The bureau entered a year's official calendar (`anxin calendar load`)."""
        self._calendar = calendar
        self._calendar_version += 1
        self._record("calendar.updated", "官方节假日安排已更新，暂定的陈述申辩期限将重新计算")
