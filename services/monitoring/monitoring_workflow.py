"""One monitoring workflow per registered project (`project-monitoring:<project id>` on `anxin-monitoring`,
hosted by the monitoring worker): each month, on the check day, it has the service check the month.

- The check day of a month is the Nth working day of the month after it on the official calendar
  (`ANXIN_MONITORING_CHECK_WORKING_DAY`); the `monitoring.check_date` activity counts it with the calendar
  every deadline uses (services/contracts/working_days.py), so the instant is in the history and a replay
  waits for the same one.
- The `monitoring.check_month` activity applies the checks once (services/monitoring/checks.py) to the
  register's project and the month's feeds, and writes each warning raised or resolved with its event.
- A feed imported for a month already checked (`feeds_imported`) has that month checked again at once, so a
  late payroll resolves its warning on import; `check_now` checks any month at once (the inspectors' and the
  tests' hook); `project_updated` carries a moved planned end.
- It checks every month up to the planned end's, then stays for the guarantee period (still re-checking on
  late feeds) and completes. Every `months_per_run` months checked it continues as new, so its history stays
  short.

Workflow code: no I/O, `workflow.now()` only; it imports temporalio, the standard library, pydantic for its
models and services/contracts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ConfigDict, Field

    from services.contracts.legal_time import end_of_day

MONITORING_WORKFLOW_TYPE = "ProjectMonitoring"
CHECK_DATE_ACTIVITY = "monitoring.check_date"
CHECK_MONTH_ACTIVITY = "monitoring.check_month"
PROJECT_UPDATED_SIGNAL = "project_updated"
FEEDS_IMPORTED_SIGNAL = "feeds_imported"
CHECK_NOW_SIGNAL = "check_now"
STATUS_QUERY = "status"

ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))


def monitoring_workflow_id(project_id: str) -> str:
    """The project's monitoring workflow: named by the register's id only (no person is in a project)."""
    return f"project-monitoring:{project_id}"


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MonitoringInput(_Model):
    project_id: str
    planned_end_date: date
    first_month: date = Field(description="The first month to check (its first day).")
    check_working_day: int = Field(5, ge=1, le=20, description="The Nth working day of the next month.")
    guarantee_days: int = Field(90, ge=0, description="Calendar days the workflow stays after the planned end.")
    months_per_run: int = Field(12, ge=1, description="Months checked before it continues as new.")
    # Compressed clock: a month lasts this many seconds of wall time (0: the real calendar).
    month_seconds: float = Field(0.0, ge=0)
    # Carried over a continue-as-new: the last month checked, and the figures so far.
    checked_through: date | None = None
    # Months checked ahead of their check day (`check_now`): a feed imported for one of them is checked again.
    checked_early: list[date] = Field(default_factory=list)
    months_checked: int = 0
    warnings_raised: int = 0
    warnings_resolved: int = 0


class CheckDateRequest(_Model):
    month: date
    working_day: int


class CheckDateResult(_Model):
    check_on: date
    check_at: datetime = Field(description="The end of the check day, China Standard Time.")
    provisional: bool = False


class CheckMonthRequest(_Model):
    project_id: str
    month: date
    reason: str = Field(description="`scheduled`, `feeds` (a feed imported late) or `check_now`.")


class CheckMonthResult(_Model):
    found: bool = Field(True, description="False: the project is not in the register (the workflow ends).")
    planned_end_date: date | None = None
    raised: list[str] = Field(default_factory=list, description="The checks that raised a warning.")
    resolved: list[str] = Field(default_factory=list, description="The warnings resolved, by id.")


class MonitoringStatus(_Model):
    project_id: str
    planned_end_date: date
    next_month: date
    next_check_at: datetime | None
    checked_through: date | None
    months_checked: int
    warnings_raised: int
    warnings_resolved: int


class MonitoringResult(_Model):
    months_checked: int
    warnings_raised: int
    warnings_resolved: int


@workflow.defn(name=MONITORING_WORKFLOW_TYPE)
class ProjectMonitoringWorkflow:
    def __init__(self) -> None:
        self._planned_end: date | None = None
        self._end_moved = False
        self._pending: list[tuple[date, str]] = []
        self._next_month: date | None = None
        self._next_check_at: datetime | None = None
        self._input: MonitoringInput | None = None

    @workflow.signal(name=PROJECT_UPDATED_SIGNAL)
    def project_updated(self, planned_end_date: date) -> None:
        if planned_end_date != self._planned_end:
            self._planned_end = planned_end_date
            self._end_moved = True

    @workflow.signal(name=FEEDS_IMPORTED_SIGNAL)
    def feeds_imported(self, month: date) -> None:
        # A month not checked yet waits for its check day: the feed may still be completed before it.
        state = self._input
        month = first_of_month(month)
        if state is None:
            return
        if (state.checked_through is not None and month <= state.checked_through) or month in state.checked_early:
            self._pending.append((month, "feeds"))

    @workflow.signal(name=CHECK_NOW_SIGNAL)
    def check_now(self, month: date) -> None:
        self._pending.append((first_of_month(month), "check_now"))

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> MonitoringStatus:
        state = self._input
        assert state is not None and self._planned_end is not None and self._next_month is not None
        return MonitoringStatus(
            project_id=state.project_id,
            planned_end_date=self._planned_end,
            next_month=self._next_month,
            next_check_at=self._next_check_at,
            checked_through=state.checked_through,
            months_checked=state.months_checked,
            warnings_raised=state.warnings_raised,
            warnings_resolved=state.warnings_resolved,
        )

    @workflow.run
    async def run(self, input: MonitoringInput) -> MonitoringResult:
        self._input = input
        if self._planned_end is None:  # a signal taken with the start may have set it already
            self._planned_end = input.planned_end_date
        month = first_of_month(input.first_month)
        if input.checked_through is not None:
            month = max(month, next_month(input.checked_through))
        self._next_month = month
        checked_this_run = 0
        fire_at: dict[date, datetime] = {}
        while True:
            if month <= first_of_month(self._planned_end):
                if checked_this_run >= input.months_per_run:
                    await self._drain_pending()
                    workflow.continue_as_new(
                        input.model_copy(update={"planned_end_date": self._planned_end, "first_month": month})
                    )
                if month not in fire_at:
                    fire_at[month] = await self._check_at(month)
                self._next_check_at = fire_at[month]
                if not await self._wait_until(fire_at[month]):
                    continue  # the planned end moved: look again whether this month is still the project's
                if not await self._check(month, "scheduled"):
                    break
                input.checked_through = month
                month = next_month(month)
                self._next_month = month
                checked_this_run += 1
                continue
            # Past the planned end: the guarantee period, still re-checking months whose feeds come late.
            self._next_check_at = None
            if await self._wait_until(self._guarantee_ends()):
                break
        return MonitoringResult(
            months_checked=input.months_checked,
            warnings_raised=input.warnings_raised,
            warnings_resolved=input.warnings_resolved,
        )

    def _guarantee_ends(self) -> datetime:
        state = self._input
        assert state is not None and self._planned_end is not None
        if state.month_seconds > 0:
            return workflow.now() + timedelta(seconds=state.month_seconds * state.guarantee_days / 30)
        return end_of_day(self._planned_end + timedelta(days=state.guarantee_days))

    async def _check_at(self, month: date) -> datetime:
        state = self._input
        assert state is not None
        if state.month_seconds > 0:
            return workflow.now() + timedelta(seconds=state.month_seconds)
        result = await workflow.execute_activity(
            CHECK_DATE_ACTIVITY,
            CheckDateRequest(month=month, working_day=state.check_working_day),
            result_type=CheckDateResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )
        return result.check_at

    async def _wait_until(self, at: datetime) -> bool:
        """Wait for `at`, checking the months signalled meanwhile: True when it came, False when the planned
        end moved first."""
        while True:
            if not self._pending and not self._end_moved:
                timeout = at - workflow.now()
                if timeout <= timedelta(0):
                    return True
                try:
                    await workflow.wait_condition(lambda: bool(self._pending) or self._end_moved, timeout=timeout)
                except TimeoutError:
                    return True
            await self._drain_pending()
            if self._end_moved:
                self._end_moved = False
                return False

    async def _drain_pending(self) -> None:
        while self._pending:
            month, reason = self._pending.pop(0)
            await self._check(month, reason)

    async def _check(self, month: date, reason: str) -> bool:
        """Have the service check the month; False when the project is no longer in the register."""
        state = self._input
        assert state is not None
        result = await workflow.execute_activity(
            CHECK_MONTH_ACTIVITY,
            CheckMonthRequest(project_id=state.project_id, month=month, reason=reason),
            result_type=CheckMonthResult,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=ACTIVITY_RETRY,
        )
        if not result.found:
            return False
        if reason == "scheduled":
            state.months_checked += 1
        elif (
            reason == "check_now"
            and month not in state.checked_early
            and (state.checked_through is None or month > state.checked_through)
        ):
            state.checked_early.append(month)
        state.warnings_raised += len(result.raised)
        state.warnings_resolved += len(result.resolved)
        if result.planned_end_date is not None and result.planned_end_date != self._planned_end:
            # The register is the truth: a change whose signal was missed is taken from the check's answer.
            self._planned_end = result.planned_end_date
        return True
