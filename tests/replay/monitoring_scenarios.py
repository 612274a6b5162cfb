"""Representative runs of the project monitoring workflow (services/monitoring/monitoring_workflow.py) whose
histories are kept for the replay test, recorded on the time-skipping server with the unit tests' in-memory
register and feeds (tests/unit/monitoring/fake_checks.py).

    .venv/bin/python -m tests.replay.monitoring_scenarios [NAME...]
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.contracts.monitoring_events import DepositForm, DepositStatus, WageDeposit
from services.monitoring.monitoring_workflow import (
    CHECK_NOW_SIGNAL,
    FEEDS_IMPORTED_SIGNAL,
    PROJECT_UPDATED_SIGNAL,
    MonitoringInput,
    ProjectMonitoringWorkflow,
    monitoring_workflow_id,
)
from tests.support.time_skipping import start_time_skipping
from tests.unit.monitoring.fake_checks import FakeMonitoring
from tests.unit.monitoring.test_check_rules import PAID, ROSTER, project

HISTORIES = Path(__file__).parent / "histories"
NOV, DEC, JAN, FEB = date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)
MonitoringScenario = Callable[[WorkflowEnvironment, str], Awaitable[tuple[FakeMonitoring, WorkflowHandle[Any, Any]]]]


def _input(fake: FakeMonitoring, **changes: Any) -> MonitoringInput:
    return MonitoringInput.model_validate(
        {
            "project_id": fake.project.project_id,
            "planned_end_date": fake.project.planned_end_date,
            "first_month": NOV,
            "guarantee_days": 30,
            **changes,
        }
    )


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow did not get there")


def missed_payroll_paid_late() -> tuple[FakeMonitoring, MonitoringScenario]:
    """November's payroll is missing on its check day (a warning), comes late (re-checked, resolved); December
    is checked ahead of its day; the deposit is drawn from January (a warning); the project ends in January
    and the workflow completes after the guarantee period."""
    fake = FakeMonitoring(project(planned_end_date=date(2027, 1, 31)))
    fake.rosters = {NOV: ROSTER, DEC: ROSTER, JAN: ROSTER}
    fake.payrolls = {DEC: PAID, JAN: PAID}
    drawn = WageDeposit(amount=Decimal("100000.00"), form=DepositForm.CASH, status=DepositStatus.DRAWN)
    fake.changes = {JAN: project(planned_end_date=date(2027, 1, 31), deposit=drawn)}

    async def scenario(env: WorkflowEnvironment, queue: str) -> tuple[FakeMonitoring, WorkflowHandle[Any, Any]]:
        handle = await env.client.start_workflow(
            ProjectMonitoringWorkflow.run,
            _input(fake),
            id=f"{monitoring_workflow_id(fake.project.project_id)}-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
        )
        await env.sleep(timedelta(days=10))
        await _until(lambda: len(fake.checks) == 1)
        fake.payrolls[NOV] = PAID
        await handle.signal(FEEDS_IMPORTED_SIGNAL, NOV)
        await _until(lambda: len(fake.checks) == 2)
        await handle.signal(CHECK_NOW_SIGNAL, DEC)
        await _until(lambda: len(fake.checks) == 3)
        await handle.result()
        return fake, handle

    return fake, scenario


def extended_and_continued() -> tuple[FakeMonitoring, MonitoringScenario]:
    """Two months a run: the first run checks November and December, is told of a later planned end, and
    continues as new (the first run's history is kept)."""
    fake = FakeMonitoring(project(planned_end_date=date(2027, 1, 31)))
    fake.rosters = {m: ROSTER for m in (NOV, DEC, JAN, FEB)}
    fake.payrolls = {m: PAID for m in (NOV, DEC, JAN, FEB)}

    async def scenario(env: WorkflowEnvironment, queue: str) -> tuple[FakeMonitoring, WorkflowHandle[Any, Any]]:
        handle = await env.client.start_workflow(
            ProjectMonitoringWorkflow.run,
            _input(fake, months_per_run=2),
            id=f"{monitoring_workflow_id(fake.project.project_id)}-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
        )
        fake.project = project(planned_end_date=date(2027, 2, 20))
        await handle.signal(PROJECT_UPDATED_SIGNAL, date(2027, 2, 20))
        await handle.result()
        return fake, env.client.get_workflow_handle(handle.id, run_id=handle.result_run_id)

    return fake, scenario


MONITORING_SCENARIOS: dict[str, Callable[[], tuple[FakeMonitoring, MonitoringScenario]]] = {
    "missed_payroll_paid_late": missed_payroll_paid_late,
    "extended_and_continued": extended_and_continued,
}


async def record(names: list[str], prefix: str = "") -> None:
    env = await start_time_skipping()
    async with env:
        for name in names:
            queue = f"record-{uuid.uuid4().hex[:8]}"
            fake, scenario = MONITORING_SCENARIOS[name]()
            async with Worker(
                env.client,
                task_queue=queue,
                workflows=[ProjectMonitoringWorkflow],
                activities=[fake.check_date, fake.check_month],
            ):
                _, handle = await scenario(env, queue)
                history = await handle.fetch_history()
                suffix = ".first_run" if name == "extended_and_continued" else ""
                path = HISTORIES / f"{prefix}{name}.monitoring{suffix}.json"
                path.write_text(history.to_json() + "\n", encoding="utf-8")
                print(f"{path}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(MONITORING_SCENARIOS)))
