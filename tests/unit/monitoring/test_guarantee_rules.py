"""The rules of paying workers from the deposit or the emergency fund (services/monitoring/guarantee_rules.py):
what a deposit or a county's fund has left, whether it covers a payout, the reserve's floor, top-ups and
recoveries against what is outstanding, a write-off of an advance (a loss of the fund: out of what is owed back,
not back into what it can advance), the register's deposit status, and the process's dates on the official
calendar. Plus the contract's request: a deposit's payout names its project; the workflow id names the case."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.contracts.guarantee_funds import PayoutRequest, PayoutSource, PayoutStage, payout_workflow_id
from services.contracts.legal_time import end_of_day
from services.contracts.lifecycle import CalendarConfig, CalendarYear
from services.contracts.monitoring_events import DepositForm, DepositStatus, WageDeposit
from services.contracts.working_days import PackageCalendar
from services.monitoring.guarantee_rules import (
    DepositBalance,
    FundBalance,
    add_months,
    deposit_refusal,
    deposit_status_after,
    fund_refusal,
    process_date,
    reserve_refusal,
    settlement_refusal,
    write_off_refusal,
)


def deposit(amount: str = "300000.00", status: DepositStatus = DepositStatus.LODGED) -> WageDeposit:
    return WageDeposit(amount=Decimal(amount), form=DepositForm.BANK_GUARANTEE, status=status)


def test_a_deposit_s_balance_is_its_amount_less_what_was_drawn_and_not_topped_up() -> None:
    balance = DepositBalance(deposit(), drawn=Decimal("120000"), topped_up=Decimal("20000"))
    assert (balance.outstanding_top_up, balance.available) == (Decimal("100000"), Decimal("200000.00"))
    # Nothing to draw from a deposit not lodged, exempt, returned or not recorded.
    for status in (DepositStatus.REQUIRED, DepositStatus.EXEMPT, DepositStatus.RETURNED):
        assert DepositBalance(deposit(status=status)).available == 0
    assert DepositBalance(None).available == 0


def test_a_deposit_covers_a_payout_up_to_what_it_has_left() -> None:
    balance = DepositBalance(deposit(status=DepositStatus.DRAWN), drawn=Decimal("100000"))
    assert deposit_refusal("PRJ-1", balance, Decimal("200000.00")) is None
    refusal = deposit_refusal("PRJ-1", balance, Decimal("200000.01"))
    assert refusal is not None and "200000.00" in refusal and "200000.01" in refusal
    assert "not lodged" in (
        deposit_refusal("PRJ-1", DepositBalance(deposit(status=DepositStatus.REQUIRED)), Decimal(1)) or ""
    )
    assert "exempt" in (
        deposit_refusal("PRJ-1", DepositBalance(deposit(status=DepositStatus.EXEMPT)), Decimal(1)) or ""
    )
    assert "no wage deposit" in (deposit_refusal("PRJ-1", DepositBalance(None), Decimal(1)) or "")


def test_a_county_fund_advances_what_its_reserve_has_not_lent_out() -> None:
    fund = FundBalance(reserve=Decimal("1000000"), advanced=Decimal("700000"), recovered=Decimal("200000"))
    assert (fund.outstanding, fund.available) == (Decimal("500000"), Decimal("500000"))
    assert fund_refusal("130403", fund, Decimal("500000")) is None
    assert "500000.00 yuan available" in (fund_refusal("130403", fund, Decimal("500000.01")) or "")
    assert "no emergency-fund reserve" in (fund_refusal("130403", FundBalance(), Decimal("1")) or "")


def test_the_reserve_cannot_be_set_below_the_advances_owed_back() -> None:
    fund = FundBalance(reserve=Decimal("1000000"), advanced=Decimal("700000"), recovered=Decimal("200000"))
    assert reserve_refusal(fund, Decimal("500000")) is None
    assert reserve_refusal(fund, Decimal("0")) is not None
    assert reserve_refusal(FundBalance(), Decimal("0")) is None


def test_a_write_off_leaves_what_is_owed_back_and_gives_the_fund_nothing_back() -> None:
    before = FundBalance(reserve=Decimal("1000000"), advanced=Decimal("700000"), recovered=Decimal("200000"))
    # 150,000 of the 500,000 owed back is written off: no longer owed, and no more available than before.
    after = FundBalance(before.reserve, before.advanced, before.recovered, written_off=Decimal("150000"))
    assert (after.outstanding, after.written_off, after.not_returned) == (
        Decimal("350000"),
        Decimal("150000"),
        Decimal("500000"),
    )
    assert after.available == before.available == Decimal("500000")
    assert "500000.00 yuan available" in (fund_refusal("130403", after, Decimal("500000.01")) or "")
    assert fund_refusal("130403", after, Decimal("500000")) is None
    # The reserve's floor counts the loss too: below it, `available` would be negative.
    assert reserve_refusal(after, Decimal("500000")) is None
    lowered = reserve_refusal(after, Decimal("499999.99")) or ""
    assert "350000.00 yuan of advances still owed back and the 150000.00 yuan written off" in lowered


def test_only_an_advance_paid_out_with_something_owed_back_can_be_written_off() -> None:
    fund, owed = PayoutSource.EMERGENCY_FUND, Decimal("150000")
    assert write_off_refusal(fund, PayoutStage.PAID, owed) is None
    refusals = {
        "only an advance of the emergency fund": (PayoutSource.DEPOSIT, PayoutStage.PAID, owed),
        "has not paid the advance out: approved": (fund, PayoutStage.APPROVED, owed),
        "has not paid the advance out: requested": (fund, PayoutStage.REQUESTED, Decimal(0)),
        "has not paid the advance out: refused": (fund, PayoutStage.REFUSED, Decimal(0)),
        "repaid: nothing to write off": (fund, PayoutStage.SETTLED, Decimal(0)),
        "already written off": (fund, PayoutStage.WRITTEN_OFF, Decimal(0)),
    }
    for reason, (source, stage, outstanding) in refusals.items():
        assert reason in (write_off_refusal(source, stage, outstanding) or ""), (source, stage)
    assert "nothing to write off" in (write_off_refusal(fund, PayoutStage.PAID, Decimal(0)) or "")


def test_a_top_up_or_recovery_is_more_than_zero_and_not_more_than_is_outstanding() -> None:
    assert settlement_refusal(Decimal("100"), Decimal("100"), "补足保证金") is None
    assert "exceeds the 100.00 yuan" in (settlement_refusal(Decimal("100.01"), Decimal("100"), "补足保证金") or "")
    assert "more than zero" in (settlement_refusal(Decimal("0"), Decimal("100"), "补足保证金") or "")
    assert "nothing of it is outstanding" in (settlement_refusal(Decimal("1"), Decimal("0"), "收回垫付资金") or "")


def test_the_register_s_deposit_is_drawn_while_a_top_up_is_owed_and_lodged_again_after() -> None:
    assert deposit_status_after(deposit(), Decimal("1")) is DepositStatus.DRAWN
    assert deposit_status_after(deposit(status=DepositStatus.DRAWN), Decimal("0")) is DepositStatus.LODGED
    assert deposit_status_after(deposit(), Decimal("0")) is DepositStatus.LODGED


def test_months_later_is_the_same_day_or_the_month_s_last() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


# A made-up package year (2026) and none for 2027: the fallback counts weekdays less the statutory holidays.
PACKAGE = PackageCalendar(
    holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 5)}),
    workdays=frozenset({date(2026, 10, 10)}),
    years=frozenset({2026}),
)


def test_the_process_dates_follow_the_official_calendar() -> None:
    config = CalendarConfig()
    # Five working days after Tuesday 29 September 2026: 30 Sep, then the holiday, 6, 7, 8 and 9 October.
    paid_by = process_date(date(2026, 9, 29), working_days=5, calendar_config=config, package=PACKAGE)
    assert (paid_by.day, paid_by.at, paid_by.provisional) == (date(2026, 10, 9), end_of_day(date(2026, 10, 9)), False)
    # Ten working days after 1 October: 6–9 October, the make-up Saturday (10 Oct), then 12–16 October.
    assert process_date(date(2026, 10, 1), working_days=10, calendar_config=config, package=PACKAGE).day == date(
        2026, 10, 16
    )
    # A month after 5 September is a holiday (5 Oct): the next working day.
    assert process_date(date(2026, 9, 5), months=1, calendar_config=config, package=PACKAGE).day == date(2026, 10, 6)
    # A year the package does not hold is counted provisionally, unless it is entered.
    assert process_date(date(2026, 12, 31), working_days=1, calendar_config=config, package=PACKAGE).provisional
    entered = CalendarConfig(years=[CalendarYear(year=2027, holidays=[date(2027, 1, 1)], make_up_workdays=[])])
    first = process_date(date(2026, 12, 31), working_days=1, calendar_config=entered, package=PACKAGE)
    assert (first.day, first.provisional) == (date(2027, 1, 4), False)


def test_a_deposit_s_payout_names_its_project_and_the_workflow_id_names_the_case_only() -> None:
    fields = {
        "case_id": "C-2026-000001",
        "county": "130403",
        "amount": "120000.00",
        "workers_paid": 12,
        "requested_by": "inspector-130403",
        "idempotency_key": "case:C-2026-000001:payout:1",
    }
    with pytest.raises(ValidationError, match="names the project"):
        PayoutRequest.model_validate({**fields, "source": PayoutSource.DEPOSIT})
    assert PayoutRequest.model_validate({**fields, "source": PayoutSource.EMERGENCY_FUND}).project_id is None
    with pytest.raises(ValidationError):
        PayoutRequest.model_validate({**fields, "source": "deposit", "project_id": "PRJ-1", "amount": "1.001"})
    with pytest.raises(ValidationError):
        PayoutRequest.model_validate({**fields, "source": "deposit", "project_id": "PRJ-1", "case_id": "C:1"})
    assert payout_workflow_id("C-2026-000001", 2) == "payout:C-2026-000001:2"
