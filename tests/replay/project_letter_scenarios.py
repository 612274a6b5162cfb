"""Representative runs of the ladder against a project (services/referrals/project_ladder.py) whose histories are
kept for the replay test, recorded on the time-skipping server with the unit tests' stand-ins for the referrals
service's activities (tests/unit/referrals/test_project_ladder.py).

    .venv/bin/python -m tests.replay.project_letter_scenarios [NAME...]
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.contracts.lifecycle import CalendarConfig, Signals
from services.referrals.project_ladder import WARNINGS_RESOLVED_SIGNAL, ProjectLetterLadderWorkflow
from tests.support.time_skipping import start_time_skipping
from tests.unit.referrals.test_project_ladder import FakeLetters, FakeRecount, _input

HISTORIES = Path(__file__).parent / "histories"
LadderScenario = Callable[[WorkflowEnvironment, str], Awaitable[WorkflowHandle[Any, Any]]]


async def climbed_every_rung(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, Any]:
    """A missing payroll never comes: the ladder climbs all five rungs; a calendar entered while it waits for
    the handoff letter's date is counted (its wait recounted)."""
    workflow_input = _input(await env.get_current_time() + timedelta(days=3))
    handle = await env.client.start_workflow(
        ProjectLetterLadderWorkflow.run, workflow_input, id=workflow_input.ladder_id, task_queue=queue
    )
    await env.sleep(timedelta(days=4))
    await handle.signal(Signals.CALENDAR_UPDATED, CalendarConfig())
    await handle.result()
    return handle


async def stopped_by_resolution(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, Any]:
    """The warning letter goes to the general contractor; the payroll comes, the warning is resolved and the
    ladder stops before the handoff letter."""
    workflow_input = _input(await env.get_current_time() + timedelta(days=3))
    handle = await env.client.start_workflow(
        ProjectLetterLadderWorkflow.run, workflow_input, id=workflow_input.ladder_id, task_queue=queue
    )
    await env.sleep(timedelta(days=5))
    await handle.signal(WARNINGS_RESOLVED_SIGNAL)
    await handle.result()
    return handle


SCENARIOS: dict[str, LadderScenario] = {
    "climbed_every_rung": climbed_every_rung,
    "stopped_by_resolution": stopped_by_resolution,
}


async def record(names: list[str]) -> None:
    env = await start_time_skipping()
    async with env:
        for name in names:
            queue = f"record-{uuid.uuid4().hex[:8]}"
            letters, recount = FakeLetters(env), FakeRecount(later=timedelta(days=1))
            async with Worker(
                env.client,
                task_queue=queue,
                workflows=[ProjectLetterLadderWorkflow],
                activities=[letters.issue, recount.recompute],
            ):
                handle = await SCENARIOS[name](env, queue)
                history = await handle.fetch_history()
                path = HISTORIES / f"{name}.project_ladder.json"
                path.write_text(history.to_json() + "\n", encoding="utf-8")
                print(f"{path}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(SCENARIOS)))
