"""The project monitoring workflow under time skipping, its activities on an in-memory register and feeds
(tests/unit/monitoring/fake_checks.py, the service's own rules): a project's life of months with a missed
payroll (escalating), a partial payroll, a deposit below the required amount and short pay, each warning resolved when a later
month passes, completion after the guarantee period; a late payroll resolving its warning on import; the
planned end moved; continue-as-new."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.contracts.legal_time import end_of_day
from services.contracts.lifecycle import CalendarConfig
from services.contracts.monitoring_events import DepositForm, DepositStatus, WageDeposit, WarningCheck
from services.monitoring.checks import check_day
from services.monitoring.monitoring_workflow import (
    CHECK_NOW_SIGNAL,
    FEEDS_IMPORTED_SIGNAL,
    PROJECT_UPDATED_SIGNAL,
    MonitoringInput,
    MonitoringResult,
    ProjectMonitoringWorkflow,
    monitoring_workflow_id,
    next_month,
)
from tests.support.time_skipping import start_time_skipping
from tests.unit.monitoring.fake_checks import FakeMonitoring
from tests.unit.monitoring.test_check_rules import PAID, ROSTER, project, worker

NOV, DEC, JAN, FEB, MAR, APR = (
    date(2026, 11, 1),
    date(2026, 12, 1),
    date(2027, 1, 1),
    date(2027, 2, 1),
    date(2027, 3, 1),
    date(2027, 4, 1),
)


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await start_time_skipping()
    async with environment:
        yield environment


async def _start(
    env: WorkflowEnvironment, fake: FakeMonitoring, queue: str, **changes: object
) -> WorkflowHandle[ProjectMonitoringWorkflow, MonitoringResult]:
    workflow_input = MonitoringInput.model_validate(
        {
            "project_id": fake.project.project_id,
            "planned_end_date": fake.project.planned_end_date,
            "first_month": NOV,
            "guarantee_days": 30,
            **changes,
        }
    )
    return await env.client.start_workflow(
        ProjectMonitoringWorkflow.run,
        workflow_input,
        id=f"{monitoring_workflow_id(fake.project.project_id)}-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
    )


def _worker(env: WorkflowEnvironment, fake: FakeMonitoring, queue: str) -> Worker:
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[ProjectMonitoringWorkflow],
        activities=[fake.check_date, fake.check_month],
    )


async def _until(condition: Callable[[], bool], tries: int = 100) -> None:
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow did not get there")


async def test_a_project_s_life_raises_escalates_and_resolves_warnings_then_ends_after_the_guarantee(
    env: WorkflowEnvironment,
) -> None:
    fake = FakeMonitoring(project(planned_end_date=date(2027, 4, 30)))
    fake.rosters = {m: ROSTER for m in (NOV, DEC, JAN, FEB, MAR, APR)}
    fake.payrolls = {NOV: PAID, FEB: PAID[:2], MAR: PAID, APR: [*PAID[:2], worker("c", amount="1000")]}
    # From March the deposit is half what 2% of the contract value requires.
    half = WageDeposit(amount=Decimal("100000.00"), form=DepositForm.CASH, status=DepositStatus.LODGED)
    fake.changes = {MAR: project(planned_end_date=date(2027, 4, 30), deposit=half)}
    queue = f"monitoring-{uuid.uuid4().hex[:8]}"
    async with _worker(env, fake, queue):
        handle = await _start(env, fake, queue)
        result = await handle.result()
        ended = await env.get_current_time()
    assert fake.checks == [(m, "scheduled") for m in (NOV, DEC, JAN, FEB, MAR, APR)]
    assert fake.raised(WarningCheck.PAYROLL_RECEIVED) == [("2026-12", "yellow", False), ("2027-01", "orange", False)]
    assert fake.raised(WarningCheck.ROSTER_PAID) == [("2027-02", "yellow", False)]
    assert fake.raised(WarningCheck.DEPOSIT) == [("2027-03", "yellow", True), ("2027-04", "orange", True)]
    assert fake.raised(WarningCheck.PAY_IN_LINE) == [("2027-04", "yellow", True)]
    assert result == MonitoringResult(months_checked=6, warnings_raised=6, warnings_resolved=3)
    # It stays for the guarantee period after the planned end, then completes.
    assert ended >= end_of_day(date(2027, 5, 30))


async def test_a_deposit_drawn_for_a_payout_warns_until_the_contractor_tops_it_up(env: WorkflowEnvironment) -> None:
    # December's workers were paid from the deposit (a refused order): the register has it `drawn` from January's
    # check on, until the general contractor's top-up restores it in March (services/monitoring/payout_settlements.py
    # writes both changes to the register).
    fake = FakeMonitoring(project(planned_end_date=date(2027, 3, 31)))
    fake.rosters = {m: ROSTER for m in (NOV, DEC, JAN, FEB, MAR)}
    fake.payrolls = {m: PAID for m in (NOV, DEC, JAN, FEB, MAR)}
    drawn = WageDeposit(amount=Decimal("200000.00"), form=DepositForm.CASH, status=DepositStatus.DRAWN)
    topped_up = WageDeposit(amount=Decimal("200000.00"), form=DepositForm.CASH, status=DepositStatus.LODGED)
    fake.changes = {
        JAN: project(planned_end_date=date(2027, 3, 31), deposit=drawn),
        MAR: project(planned_end_date=date(2027, 3, 31), deposit=topped_up),
    }
    queue = f"monitoring-{uuid.uuid4().hex[:8]}"
    async with _worker(env, fake, queue):
        result = await (await _start(env, fake, queue)).result()
    assert fake.checks == [(m, "scheduled") for m in (NOV, DEC, JAN, FEB, MAR)]
    # Drawn in January and February: a warning that climbs; both resolved by March's check, the deposit back.
    assert fake.raised(WarningCheck.DEPOSIT) == [("2027-01", "yellow", False), ("2027-02", "orange", False)]
    assert fake.raised() == fake.raised(WarningCheck.DEPOSIT)
    assert result == MonitoringResult(months_checked=5, warnings_raised=2, warnings_resolved=2)


async def test_a_late_payroll_resolves_its_warning_on_import_and_check_now_checks_any_month(
    env: WorkflowEnvironment,
) -> None:
    # The months are the test server's current one and the next: its clock starts at the machine's time.
    now = await env.get_current_time()
    first = now.date().replace(day=1)
    second = next_month(first)
    first_label, second_label = f"{first:%Y-%m}", f"{second:%Y-%m}"
    fake = FakeMonitoring(project(planned_end_date=next_month(next_month(second)) - timedelta(days=1)))
    fake.rosters = {first: ROSTER, second: ROSTER}
    queue = f"monitoring-{uuid.uuid4().hex[:8]}"
    async with _worker(env, fake, queue):
        handle = await _start(env, fake, queue, first_month=first)
        # The first month's check is at the end of the fifth working day of the next; nothing is checked before.
        due = check_day(first, MonitoringInput.model_fields["check_working_day"].default, CalendarConfig()).at
        await env.sleep(due - now - timedelta(hours=1))
        assert fake.checks == []
        await env.sleep(timedelta(hours=2))
        await _until(lambda: fake.raised() == [(first_label, "yellow", True)])
        # A feed of a month not checked yet waits for its check day.
        await handle.signal(FEEDS_IMPORTED_SIGNAL, second)
        fake.payrolls[first] = PAID
        await handle.signal(FEEDS_IMPORTED_SIGNAL, first)
        await _until(lambda: fake.raised() == [(first_label, "yellow", False)])
        assert fake.checks == [(first, "scheduled"), (first, "feeds")]
        await handle.signal(CHECK_NOW_SIGNAL, second)
        await _until(lambda: len(fake.checks) == 3)
        assert fake.checks[2] == (second, "check_now")
        assert fake.raised(WarningCheck.PAYROLL_RECEIVED) == [
            (first_label, "yellow", False),
            (second_label, "yellow", True),
        ]
        # A month checked ahead of its check day is checked again when its feed comes.
        fake.payrolls[second] = PAID
        await handle.signal(FEEDS_IMPORTED_SIGNAL, second)
        await _until(lambda: len(fake.checks) == 4)
        assert fake.checks[3] == (second, "feeds")
        assert fake.raised(WarningCheck.PAYROLL_RECEIVED) == [
            (first_label, "yellow", False),
            (second_label, "yellow", False),
        ]
        await handle.terminate()


async def test_a_moved_planned_end_and_continue_as_new_keep_the_months_in_order(env: WorkflowEnvironment) -> None:
    fake = FakeMonitoring(project(planned_end_date=date(2027, 2, 28)))
    everyone = (NOV, DEC, JAN, FEB, MAR, APR)
    fake.rosters = {m: ROSTER for m in everyone}
    fake.payrolls = {m: PAID for m in everyone}
    queue = f"monitoring-{uuid.uuid4().hex[:8]}"
    async with _worker(env, fake, queue):
        handle = await _start(env, fake, queue, months_per_run=2)
        # In the guarantee period after February's check (7 March), the project is extended to April.
        await env.sleep(timedelta(days=100))
        await _until(lambda: len(fake.checks) == 4)
        fake.project = project(planned_end_date=date(2027, 4, 10))
        await env.client.get_workflow_handle(handle.id).signal(PROJECT_UPDATED_SIGNAL, date(2027, 4, 10))
        result = await handle.result()
        latest = await env.client.get_workflow_handle(handle.id).describe()
    assert fake.checks == [(m, "scheduled") for m in everyone]
    assert result == MonitoringResult(months_checked=6, warnings_raised=0, warnings_resolved=0)
    # Six months at two a run: three runs.
    assert latest.run_id != handle.result_run_id
    history = await env.client.get_workflow_handle(handle.id, run_id=handle.result_run_id).fetch_history()
    assert any(e.HasField("workflow_execution_continued_as_new_event_attributes") for e in history.events)
