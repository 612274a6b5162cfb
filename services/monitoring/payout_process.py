"""What the payout workflow (`payout_workflow.py`) does between its steps: its state, the date it counts on, the
activity calls and the waits, and the errors an Update is refused with. Workflow code: no I/O, `workflow.now()`
only; imported by the workflow sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from services.contracts.guarantee_funds import PayoutStage
    from services.contracts.legal_time import legal_date
    from services.monitoring.payout_messages import (
        PAYOUT_DATE_ACTIVITY,
        PayoutDate,
        PayoutDateRequest,
        PayoutInput,
        Step,
        StepOutcome,
    )

# The service's steps are retried until its database answers: a step is never given up.
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))
ACTIVITY_TIMEOUT = timedelta(minutes=1)
CITY_OFFICE = "city_office"
# Nothing is owed back on a payout in these stages (none yet, or none any more).
NOTHING_OWED = frozenset({PayoutStage.REQUESTED, PayoutStage.REFUSED, PayoutStage.WRITTEN_OFF})


def refuse(message: str) -> ApplicationError:
    """The error a validator (or an Update that cannot be carried out) refuses with, its reason for the caller."""
    return ApplicationError(message, type="TransitionRefused", non_retryable=True)


class PayoutProcess:
    """The payout workflow's state and helpers (the workflow class sets the state in its constructor)."""

    _input: PayoutInput | None
    _stage: PayoutStage
    _busy: bool
    _approved_on: date | None
    _settled: Decimal

    @property
    def _payout(self) -> PayoutInput:
        assert self._input is not None, "the workflow has not started"
        return self._input

    def _outstanding(self) -> Decimal:
        if self._stage in NOTHING_OWED:
            return Decimal("0.00")
        return self._payout.amount - self._settled

    def _today(self) -> date:
        return legal_date(workflow.now())

    def _step(self, name: str) -> str:
        return f"{workflow.info().workflow_id}:{name}"

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """While an Update writes through an activity: another one is refused, to be sent again."""
        # Validators run before any handler of their batch: two Updates may pass them together.
        self._not_busy()
        self._busy = True
        try:
            yield
        finally:
            self._busy = False

    def _not_busy(self) -> None:
        if self._busy:
            raise refuse(
                "该笔支付正在记录另一项操作，请稍后重试 (another action on the payout is being recorded; try again)"
            )

    def _check_date(self, day: date, what: str) -> None:
        if day > self._today():
            raise refuse(f"{what} {day} 晚于今日 ({what} is in the future)")
        if self._approved_on is not None and day < self._approved_on:
            raise refuse(f"{what} {day} 早于批准日期 {self._approved_on} ({what} is before the approval)")

    async def _date(self, start: date, *, working_days: int = 0, months: int = 0) -> PayoutDate:
        return await workflow.execute_activity(
            PAYOUT_DATE_ACTIVITY,
            PayoutDateRequest(start=start, working_days=working_days, months=months),
            result_type=PayoutDate,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )

    async def _write(self, activity_name: str, step: object, result_type: type[Any] | None = None) -> Any:
        """One of an Update's writes: the service's activity, keyed by its step."""
        return await workflow.execute_activity(
            activity_name,
            step,
            result_type=result_type,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _step_activity(self, activity_name: str, step: Step) -> StepOutcome:
        return await workflow.execute_activity(
            activity_name,
            step,
            result_type=StepOutcome,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _wait_until(self, done: Callable[[], bool], at: datetime) -> bool:
        """True when `done()` held before `at`, False when `at` came first."""
        timeout = at - workflow.now()
        if done():
            return True
        if timeout <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(done, timeout=timeout)
        except TimeoutError:
            return bool(done())
        return True
