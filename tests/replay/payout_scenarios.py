"""Representative runs of the payout workflow (services/monitoring/payout_workflow.py) whose histories are kept for
the replay test, recorded on the time-skipping server with the unit tests' in-memory deposit and fund
(tests/unit/monitoring/fake_payouts.py).

    .venv/bin/python -m tests.replay.payout_scenarios [NAME...]
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from services.contracts.guarantee_funds import PayoutSource, WriteOffBasis, payout_workflow_id
from services.contracts.legal_time import legal_date
from services.monitoring.guarantee_rules import FundBalance
from services.monitoring.payout_messages import (
    DECIDE_UPDATE,
    RECORD_PAID_UPDATE,
    RECORD_RECOVERY_UPDATE,
    RECORD_TOP_UP_UPDATE,
    WRITE_OFF_UPDATE,
    Actor,
    PaidRecord,
    PayoutDecision,
    PayoutInput,
    PayoutStatus,
    SettlementRecord,
    WriteOffRecord,
)
from services.monitoring.payout_workflow import GuaranteePayoutWorkflow
from tests.support.time_skipping import start_time_skipping
from tests.support.workers import project_worker
from tests.unit.monitoring.fake_payouts import FakePayouts, payout_input

HISTORIES = Path(__file__).parent / "histories"
CITY = Actor(client_id="city-office", role="city_office")
INSPECTOR = Actor(client_id="inspector-130403", role="county_inspector", county="130403")
PayoutScenario = Callable[[WorkflowEnvironment, WorkflowHandle[Any, Any]], Awaitable[None]]


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(600):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow did not get there")


async def _today(env: WorkflowEnvironment) -> Any:
    return legal_date(await env.get_current_time())


async def _update(handle: WorkflowHandle[Any, Any], name: str, arg: Any) -> PayoutStatus:
    return await handle.execute_update(name, arg, result_type=PayoutStatus)  # type: ignore[no-any-return]


def deposit_topped_up_after_reminders() -> tuple[FakePayouts, PayoutInput, PayoutScenario]:
    """The deposit drawn and paid out; the top-up demanded, overdue and reminded once; topped up in two parts."""
    fake = FakePayouts()
    payout = payout_input(PayoutSource.DEPOSIT, "120000.00")

    async def scenario(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> None:
        await _update(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
        await _update(handle, RECORD_PAID_UPDATE, PaidRecord(paid_on=await _today(env), actor=INSPECTOR))
        await _until(lambda: "deposit.top_up_demanded" in fake.types())
        await env.sleep(timedelta(days=16))
        await _until(lambda: "deposit.top_up_reminded" in fake.types())
        part = SettlementRecord(amount=Decimal("20000.00"), on=await _today(env), actor=INSPECTOR)
        await _update(handle, RECORD_TOP_UP_UPDATE, part)
        await _update(handle, RECORD_TOP_UP_UPDATE, SettlementRecord(on=await _today(env), actor=INSPECTOR))
        await handle.result()

    return fake, payout, scenario


def advance_recovered_after_an_uncovered_approval() -> tuple[FakePayouts, PayoutInput, PayoutScenario]:
    """An advance the fund could not cover at first (the approval refused), approved once the reserve was raised;
    paid late (overdue), reminded monthly, recovered in two parts."""
    fake = FakePayouts(fund=FundBalance(reserve=Decimal("100000.00")))
    payout = payout_input(PayoutSource.EMERGENCY_FUND, "200000.00")

    async def scenario(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> None:
        try:
            await _update(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
            raise AssertionError("the fund did not cover it")
        except WorkflowUpdateFailedError:
            pass
        fake.fund = FundBalance(reserve=Decimal("1000000.00"))
        await _update(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
        await env.sleep(timedelta(days=12))
        await _until(lambda: "payout.overdue" in fake.types())
        await _update(handle, RECORD_PAID_UPDATE, PaidRecord(paid_on=await _today(env), actor=CITY))
        await env.sleep(timedelta(days=33))
        await _until(lambda: "fund.recovery_reminded" in fake.types())
        once = SettlementRecord(amount=Decimal("50000.00"), on=await _today(env), actor=INSPECTOR)
        await _update(handle, RECORD_RECOVERY_UPDATE, once)
        rest = SettlementRecord(amount=Decimal("150000.00"), on=await _today(env), actor=INSPECTOR)
        await _update(handle, RECORD_RECOVERY_UPDATE, rest)
        await handle.result()

    return fake, payout, scenario


def advance_written_off_after_a_recovery() -> tuple[FakePayouts, PayoutInput, PayoutScenario]:
    """An advance paid out, reminded once, recovered in part; the rest written off by the city office (the court
    ended enforcement): the workflow ends `written_off`."""
    fake = FakePayouts()
    payout = payout_input(PayoutSource.EMERGENCY_FUND, "200000.00")

    async def scenario(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> None:
        await _update(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
        await _update(handle, RECORD_PAID_UPDATE, PaidRecord(paid_on=await _today(env), actor=CITY))
        await env.sleep(timedelta(days=36))
        await _until(lambda: "fund.recovery_reminded" in fake.types())
        part = SettlementRecord(amount=Decimal("50000.00"), on=await _today(env), actor=INSPECTOR)
        await _update(handle, RECORD_RECOVERY_UPDATE, part)
        basis = WriteOffBasis.ENFORCEMENT_TERMINATED
        await _update(handle, WRITE_OFF_UPDATE, WriteOffRecord(basis=basis, reason="终结本次执行程序", actor=CITY))
        await handle.result()

    return fake, payout, scenario


def refused() -> tuple[FakePayouts, PayoutInput, PayoutScenario]:
    """The city office refuses the payout, with its reason."""
    fake = FakePayouts()
    payout = payout_input(PayoutSource.DEPOSIT, "80000.00")

    async def scenario(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> None:
        await _update(handle, DECIDE_UPDATE, PayoutDecision(approve=False, reason="改由应急周转金垫付", actor=CITY))
        await handle.result()

    return fake, payout, scenario


PAYOUT_SCENARIOS: dict[str, Callable[[], tuple[FakePayouts, PayoutInput, PayoutScenario]]] = {
    "deposit_topped_up_after_reminders": deposit_topped_up_after_reminders,
    "advance_recovered_after_an_uncovered_approval": advance_recovered_after_an_uncovered_approval,
    "refused": refused,
    "advance_written_off_after_a_recovery": advance_written_off_after_a_recovery,
}


async def record(names: list[str]) -> None:
    env = await start_time_skipping()
    async with env:
        for name in names:
            queue = f"record-{uuid.uuid4().hex[:8]}"
            fake, payout, scenario = PAYOUT_SCENARIOS[name]()
            fake.for_payout(payout)
            async with project_worker(env.client, queue, [GuaranteePayoutWorkflow], fake.activities()):
                handle = await env.client.start_workflow(
                    GuaranteePayoutWorkflow.run,
                    payout,
                    id=f"{payout_workflow_id(payout.case_id, 1)}-{uuid.uuid4().hex[:6]}",
                    task_queue=queue,
                )
                await scenario(env, handle)
                history = await handle.fetch_history()
                path = HISTORIES / f"{name}.payout.json"
                path.write_text(history.to_json() + "\n", encoding="utf-8")
                print(f"{path}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:] or list(PAYOUT_SCENARIOS)))
