"""The raw baseline of the monthly checks' bench (bench/monitoring_checks.py): the least a workflow can do for a
month's check — wait, take the month from a signal, run one activity that does nothing, and end.

Kept in a module of its own, importing only temporalio and the standard library: the worker's sandbox imports
a workflow's module again for each run, as it does the project's monitoring workflow's.
"""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import activity, workflow

RAW_CHECK_SIGNAL = "check_now"
RAW_CHECK_ACTIVITY = "bench.raw_check"


@activity.defn(name=RAW_CHECK_ACTIVITY)
async def raw_check(month: date) -> None:
    return None


@workflow.defn(name="BenchRawCheck")
class RawCheckWorkflow:
    def __init__(self) -> None:
        self._month: date | None = None

    @workflow.signal(name=RAW_CHECK_SIGNAL)
    def check_now(self, month: date) -> None:
        self._month = month

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._month is not None)
        month = self._month
        assert month is not None
        await workflow.execute_activity(raw_check, month, start_to_close_timeout=timedelta(seconds=60))
