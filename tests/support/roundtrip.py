"""A minimal workflow for the engine round-trip tests: an activity, a signal and a 30-day timer."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def greet(name: str) -> str:
    return f"你好, {name}"


@workflow.defn
class RoundTripWorkflow:
    def __init__(self) -> None:
        self._approved = False

    @workflow.signal
    def approve(self) -> None:
        self._approved = True

    @workflow.run
    async def run(self, name: str, wait_days: int) -> str:
        greeting = await workflow.execute_activity(greet, name, start_to_close_timeout=timedelta(seconds=30))
        try:
            await workflow.wait_condition(lambda: self._approved, timeout=timedelta(days=wait_days))
            outcome = "approved"
        except TimeoutError:
            outcome = "timed out"
        return f"{greeting}: {outcome}"
