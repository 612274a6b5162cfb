"""The payout workflow under time skipping, its activities on an in-memory deposit and fund
(tests/unit/monitoring/fake_payouts.py, the service's own rules): a deposit drawn, paid, its top-up demanded,
reminded and topped up; a refusal; the city office alone deciding, once; an approval the deposit does not cover
refused with the figures; a bank payout overdue; an advance of the emergency fund reminded monthly and recovered
until repaid; an advance partly recovered, then written off by the city office (the workflow ends, the reminders
stop, the fund bears the loss)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.contracts.guarantee_funds import PayoutSource, PayoutStage, WriteOffBasis, payout_workflow_id
from services.contracts.legal_time import legal_date
from services.monitoring.payout_messages import (
    DECIDE_UPDATE,
    RECORD_PAID_UPDATE,
    RECORD_RECOVERY_UPDATE,
    RECORD_TOP_UP_UPDATE,
    STATUS_QUERY,
    WRITE_OFF_UPDATE,
    Actor,
    PaidRecord,
    PayoutDecision,
    PayoutInput,
    PayoutResult,
    PayoutStatus,
    SettlementRecord,
    WriteOffRecord,
)
from services.monitoring.payout_workflow import PAYOUT_WRITE_OFF, GuaranteePayoutWorkflow
from tests.support.time_skipping import start_time_skipping
from tests.support.workers import project_worker
from tests.unit.monitoring.fake_payouts import FakePayouts, lodged, payout_input

CITY = Actor(client_id="city-office", role="city_office")
INSPECTOR = Actor(client_id="inspector-130403", role="county_inspector", county="130403")


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await start_time_skipping()
    async with environment:
        yield environment


async def start(
    env: WorkflowEnvironment, fake: FakePayouts, payout: PayoutInput, queue: str
) -> WorkflowHandle[GuaranteePayoutWorkflow, PayoutResult]:
    fake.for_payout(payout)
    return await env.client.start_workflow(
        GuaranteePayoutWorkflow.run,
        payout,
        id=f"{payout_workflow_id(payout.case_id, 1)}-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
    )


def worker(env: WorkflowEnvironment, fake: FakePayouts, queue: str) -> Worker:
    return project_worker(env.client, queue, [GuaranteePayoutWorkflow], fake.activities())


async def update(handle: WorkflowHandle[Any, Any], name: str, arg: Any) -> PayoutStatus:
    return await handle.execute_update(name, arg, result_type=PayoutStatus)  # type: ignore[no-any-return]


async def refused(handle: WorkflowHandle[Any, Any], name: str, arg: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(name, arg, result_type=PayoutStatus)
    return str(failed.value.cause)


async def until(condition: Callable[[], bool], tries: int = 600) -> None:
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow did not get there")


async def status_when(handle: WorkflowHandle[Any, Any], condition: Callable[[PayoutStatus], bool]) -> PayoutStatus:
    for _ in range(600):
        status: PayoutStatus = await handle.query(STATUS_QUERY, result_type=PayoutStatus)
        if condition(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow did not get there")


async def today(env: WorkflowEnvironment) -> date:
    return legal_date(await env.get_current_time())


async def test_a_deposit_is_drawn_paid_its_top_up_demanded_reminded_and_topped_up(env: WorkflowEnvironment) -> None:
    fake = FakePayouts(deposit=lodged("300000.00"))
    queue = f"payouts-{uuid.uuid4().hex[:8]}"
    async with worker(env, fake, queue):
        handle = await start(env, fake, payout_input(PayoutSource.DEPOSIT, "120000.00"), queue)
        approved = await update(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
        assert (approved.stage, approved.outstanding) == (PayoutStage.APPROVED, Decimal("120000.00"))
        assert approved.pay_by is not None and approved.pay_by > await today(env)
        assert fake.events[0] == (
            "payout.approved",
            {"pay_by": approved.pay_by, "available_after": Decimal("180000.00")},
        )
        assert fake.deposit is not None and fake.deposit.status.value == "drawn"

        paid_on = await today(env)
        paid = await update(handle, RECORD_PAID_UPDATE, PaidRecord(paid_on=paid_on, actor=INSPECTOR))
        assert (paid.stage, paid.paid_on) == (PayoutStage.PAID, paid_on)
        await until(lambda: "deposit.top_up_demanded" in fake.types())
        status = await handle.query(STATUS_QUERY, result_type=PayoutStatus)
        assert status.top_up_due is not None and status.top_up_due >= paid_on + timedelta(days=14)
        assert fake.events[-1] == (
            "deposit.top_up_demanded",
            {"due_date": status.top_up_due, "amount": Decimal("120000.00")},
        )

        # Overdue: a reminder on the due date's passing, then one every five working days.
        await env.sleep(timedelta(days=(status.top_up_due - paid_on).days + 1))
        await until(lambda: fake.types().count("deposit.top_up_reminded") == 1)
        await env.sleep(timedelta(days=8))
        await until(lambda: fake.types().count("deposit.top_up_reminded") == 2)
        part = await update(
            handle,
            RECORD_TOP_UP_UPDATE,
            SettlementRecord(amount=Decimal("20000.00"), on=await today(env), actor=INSPECTOR),
        )
        assert (part.stage, part.outstanding) == (PayoutStage.PAID, Decimal("100000.00"))
        too_much = SettlementRecord(amount=Decimal("100000.01"), on=await today(env), actor=INSPECTOR)
        assert "exceeds the 100000.00 yuan outstanding" in await refused(handle, RECORD_TOP_UP_UPDATE, too_much)
        rest = await update(handle, RECORD_TOP_UP_UPDATE, SettlementRecord(on=await today(env), actor=INSPECTOR))
        assert (rest.stage, rest.outstanding) == (PayoutStage.SETTLED, Decimal("0.00"))
        result = await handle.result()
    assert result == PayoutResult(stage=PayoutStage.SETTLED, reminders=2)
    assert fake.types() == [
        "payout.approved",
        "payout.paid",
        "deposit.top_up_demanded",
        "deposit.top_up_reminded",
        "deposit.top_up_reminded",
        "deposit.topped_up",
        "deposit.topped_up",
    ]
    assert fake.deposit is not None and fake.deposit.status.value == "lodged"


async def test_the_city_office_alone_decides_once_an_uncovered_approval_is_refused_and_a_refusal_ends_it(
    env: WorkflowEnvironment,
) -> None:
    fake = FakePayouts(deposit=lodged("50000.00"))
    queue = f"payouts-{uuid.uuid4().hex[:8]}"
    async with worker(env, fake, queue):
        handle = await start(env, fake, payout_input(PayoutSource.DEPOSIT, "80000.00"), queue)
        assert "city office decides" in await refused(
            handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=INSPECTOR)
        )
        assert "says why" in await refused(handle, DECIDE_UPDATE, PayoutDecision(approve=False, reason=" ", actor=CITY))
        # The deposit does not cover it: refused with the figures, nothing written, the payout still waits.
        reason = await refused(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
        assert "50000.00 yuan left to draw, less than the 80000.00 asked" in reason
        assert fake.events == [] and fake.drawn == 0
        assert (await handle.query(STATUS_QUERY, result_type=PayoutStatus)).stage is PayoutStage.REQUESTED
        assert "not approved yet" in await refused(
            handle, RECORD_PAID_UPDATE, PaidRecord(paid_on=await today(env), actor=INSPECTOR)
        )
        done = await update(
            handle, DECIDE_UPDATE, PayoutDecision(approve=False, reason="改由应急周转金垫付", actor=CITY)
        )
        assert done.stage is PayoutStage.REFUSED
        assert await handle.result() == PayoutResult(stage=PayoutStage.REFUSED)
    assert fake.types() == ["payout.refused"]


async def test_a_bank_payout_not_recorded_in_time_is_overdue_once_and_dates_are_checked(
    env: WorkflowEnvironment,
) -> None:
    fake = FakePayouts()
    queue = f"payouts-{uuid.uuid4().hex[:8]}"
    async with worker(env, fake, queue):
        handle = await start(env, fake, payout_input(PayoutSource.DEPOSIT, "1000.00"), queue)
        approved = await update(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
        assert "already decided" in await refused(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
        approved_on = await today(env)
        assert approved.pay_by is not None
        await env.sleep(timedelta(days=(approved.pay_by - approved_on).days + 1))
        await until(lambda: "payout.overdue" in fake.types())
        status = await handle.query(STATUS_QUERY, result_type=PayoutStatus)
        assert status.overdue and status.stage is PayoutStage.APPROVED
        late = await today(env)
        before = PaidRecord(paid_on=approved_on - timedelta(days=1), actor=INSPECTOR)
        assert "before the approval" in await refused(handle, RECORD_PAID_UPDATE, before)
        future = PaidRecord(paid_on=late + timedelta(days=1), actor=INSPECTOR)
        assert "in the future" in await refused(handle, RECORD_PAID_UPDATE, future)
        top_up_first = SettlementRecord(on=late, actor=INSPECTOR)
        assert "not recorded yet" in await refused(handle, RECORD_TOP_UP_UPDATE, top_up_first)
        recovery = SettlementRecord(amount=Decimal("1.00"), on=late, actor=INSPECTOR)
        assert "not a payout from the emergency_fund" in await refused(handle, RECORD_RECOVERY_UPDATE, recovery)
        deposit_write_off = WriteOffRecord(basis=WriteOffBasis.EMPLOYER_DEREGISTERED, reason="注销", actor=CITY)
        assert "only an advance of the emergency fund" in await refused(handle, WRITE_OFF_UPDATE, deposit_write_off)
        await update(handle, RECORD_PAID_UPDATE, PaidRecord(paid_on=late, actor=INSPECTOR))
        assert "already recorded" in await refused(
            handle, RECORD_PAID_UPDATE, PaidRecord(paid_on=late, actor=INSPECTOR)
        )
        await until(lambda: "deposit.top_up_demanded" in fake.types())
        await handle.terminate()
    assert fake.types() == ["payout.approved", "payout.overdue", "payout.paid", "deposit.top_up_demanded"]


async def test_an_advance_of_the_emergency_fund_is_reminded_monthly_and_recovered_until_repaid(
    env: WorkflowEnvironment,
) -> None:
    fake = FakePayouts(fund=FakePayouts().fund)
    queue = f"payouts-{uuid.uuid4().hex[:8]}"
    async with worker(env, fake, queue):
        handle = await start(env, fake, payout_input(PayoutSource.EMERGENCY_FUND, "200000.00"), queue)
        approved = await update(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
        assert fake.events[0][1]["available_after"] == Decimal("800000.00")
        paid_on = await today(env)
        await update(handle, RECORD_PAID_UPDATE, PaidRecord(paid_on=paid_on, actor=CITY))
        assert approved.stage is PayoutStage.APPROVED and fake.stage is PayoutStage.PAID
        first = (await status_when(handle, lambda s: s.next_reminder_at is not None)).next_reminder_at
        # A month after the payout, on a working day (the reminder at the end of that day).
        assert first is not None and legal_date(first) - timedelta(days=1) >= paid_on + timedelta(days=28)
        await env.sleep(timedelta(days=35))
        await until(lambda: fake.types().count("fund.recovery_reminded") == 1)
        once = await update(
            handle,
            RECORD_RECOVERY_UPDATE,
            SettlementRecord(amount=Decimal("50000.00"), on=await today(env), actor=INSPECTOR),
        )
        assert (once.stage, once.outstanding, once.reminders) == (PayoutStage.PAID, Decimal("150000.00"), 1)
        await env.sleep(timedelta(days=31))
        await until(lambda: fake.types().count("fund.recovery_reminded") == 2)
        top_up = SettlementRecord(on=await today(env), actor=INSPECTOR)
        assert "not a payout from the deposit" in await refused(handle, RECORD_TOP_UP_UPDATE, top_up)
        repaid = await update(
            handle,
            RECORD_RECOVERY_UPDATE,
            SettlementRecord(amount=Decimal("150000.00"), on=await today(env), actor=INSPECTOR),
        )
        assert (repaid.stage, repaid.outstanding) == (PayoutStage.SETTLED, Decimal("0.00"))
        assert await handle.result() == PayoutResult(stage=PayoutStage.SETTLED, reminders=2)
    assert fake.types() == [
        "payout.approved",
        "payout.paid",
        "fund.recovery_reminded",
        "fund.recovery_recorded",
        "fund.recovery_reminded",
        "fund.recovery_recorded",
    ]
    assert (fake.fund.outstanding, fake.fund.available) == (Decimal("0.00"), Decimal("1000000.00"))


async def test_an_advance_partly_recovered_is_written_off_by_the_city_office_and_its_reminders_stop(
    env: WorkflowEnvironment,
) -> None:
    fake = FakePayouts(fund=FakePayouts().fund)
    queue = f"payouts-{uuid.uuid4().hex[:8]}"
    basis = WriteOffBasis.ENFORCEMENT_TERMINATED
    async with worker(env, fake, queue):
        handle = await start(env, fake, payout_input(PayoutSource.EMERGENCY_FUND, "200000.00"), queue)
        await update(handle, DECIDE_UPDATE, PayoutDecision(approve=True, actor=CITY))
        # Not paid out yet: the employer owes nothing, there is nothing to write off.
        early = WriteOffRecord(basis=basis, reason="终结本次执行程序", actor=CITY)
        assert "has not paid the advance out" in await refused(handle, WRITE_OFF_UPDATE, early)
        await update(handle, RECORD_PAID_UPDATE, PaidRecord(paid_on=await today(env), actor=CITY))
        await env.sleep(timedelta(days=35))
        await until(lambda: fake.types().count("fund.recovery_reminded") == 1)
        await update(
            handle,
            RECORD_RECOVERY_UPDATE,
            SettlementRecord(amount=Decimal("50000.00"), on=await today(env), actor=INSPECTOR),
        )

        # The city office alone writes off, and says why.
        by_county = WriteOffRecord(basis=basis, reason="终结本次执行程序", actor=INSPECTOR)
        assert "city office writes an advance off" in await refused(handle, WRITE_OFF_UPDATE, by_county)
        blank = WriteOffRecord(basis=basis, reason="  ", actor=CITY)
        assert "says why" in await refused(handle, WRITE_OFF_UPDATE, blank)
        assert fake.types().count("fund.advance_written_off") == 0
        before = await handle.query(STATUS_QUERY, result_type=PayoutStatus)
        assert before.next_reminder_at is not None and before.outstanding == Decimal("150000.00")

        written = await update(
            handle, WRITE_OFF_UPDATE, WriteOffRecord(basis=basis, reason="法院裁定终结本次执行程序", actor=CITY)
        )
        assert (written.stage, written.outstanding, written.written_off) == (
            PayoutStage.WRITTEN_OFF,
            Decimal("0.00"),
            Decimal("150000.00"),
        )
        assert await handle.result() == PayoutResult(stage=PayoutStage.WRITTEN_OFF, reminders=1)
        # A month and more later: the workflow has ended, no reminder came.
        await env.sleep(timedelta(days=62))
        history = await handle.fetch_history()
    assert fake.types() == [
        "payout.approved",
        "payout.paid",
        "fund.recovery_reminded",
        "fund.recovery_recorded",
        "fund.advance_written_off",
    ]
    assert fake.events[-1][1] == {"amount": Decimal("150000.00"), "recovered": Decimal("50000.00"), "basis": basis}
    # The loss stays out of what the fund can advance: available is what it was before the write-off.
    assert (fake.fund.outstanding, fake.fund.written_off, fake.fund.available) == (
        Decimal("0.00"),
        Decimal("150000.00"),
        Decimal("850000.00"),
    )
    # The write-off is behind its patch: the history carries the marker (histories without it replay unchanged).
    markers = [
        e.marker_recorded_event_attributes for e in history.events if e.HasField("marker_recorded_event_attributes")
    ]
    # The runner's two patches, then this one.
    assert [m.marker_name for m in markers] == ["core_patch", "core_patch", "core_patch"]
    assert PAYOUT_WRITE_OFF.encode() in markers[2].SerializeToString()
