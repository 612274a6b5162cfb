"""The rules of paying workers from the wage deposit or the emergency fund: what is left to draw, whether it
covers a payout, what a top-up or a recovery may be, and the dates the payout's process keeps. Pure: no I/O,
no clock (dates are passed in); the service's steps (`payout_steps.py`) and the unit tests call them.

- **The deposit** (工资保证金) of a project is the register's (`ProjectFacts.deposit`): it can be drawn while it is
  `lodged`, or `drawn` with some of it left; what is left is its amount less what payouts drew and the general
  contractor has not topped up yet. A deposit `required` (not lodged), `exempt`, `returned` or not recorded
  has nothing to draw.
- **The emergency fund** (应急周转金) of a county is a reserve the city office sets; each advance is owed back
  by the employer until recovered, or until the city office writes off what is left of it (核销): see
  `FundBalance` for what a write-off does to the figures. The reserve cannot be set below what the fund paid
  out and did not get back.
- A top-up or a recovery is more than zero and not more than what is outstanding on its payout.
- A write-off takes what is outstanding on an advance the bank paid out, all of it (`write_off_refusal`).

Every refusal is one sentence "中文 (English)" naming the figures, as the agencies read it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from services.contracts.guarantee_funds import PayoutSource, PayoutStage
from services.contracts.legal_time import end_of_day
from services.contracts.lifecycle import CalendarConfig
from services.contracts.monitoring_events import DepositStatus, WageDeposit
from services.contracts.working_days import PackageCalendar, WorkingCalendar, installed_package

ZERO = Decimal("0.00")
# The deposit states in which there is money to draw.
DRAWABLE = frozenset({DepositStatus.LODGED, DepositStatus.DRAWN})
DEPOSIT_STATUS_TEXT = {
    DepositStatus.REQUIRED: "应存未存 (required, not lodged)",
    DepositStatus.EXEMPT: "免缴 (exempt)",
    DepositStatus.RETURNED: "已返还 (returned)",
}


def yuan(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


@dataclass(frozen=True)
class FundBalance:
    """A county's emergency fund: its reserve and the advances made, recovered and written off, in yuan.

    A write-off (核销) is a loss of the fund: the money went to the workers and will never come back. It leaves
    `outstanding` (no employer is asked for it any more) and is kept as `written_off`; the reserve stays what
    the city office set, and `available` = reserve − outstanding − written_off, so a write-off changes nothing
    of what the fund can advance — it only tells owed money from lost money. The alternative, lowering the
    reserve by the loss, was not taken: the reserve is the city office's decision (its `fund.reserve_set` and
    audit rows say who set it and when), and a payout's process rewriting it would hide the loss in a smaller
    reserve. To lend the lost money again the city office raises the reserve, knowingly. Every figure — `GET
    /v1/funds`, the approval's coverage, the reserve's floor — is read from this class.
    """

    reserve: Decimal = ZERO
    advanced: Decimal = ZERO
    recovered: Decimal = ZERO
    written_off: Decimal = ZERO

    @property
    def outstanding(self) -> Decimal:
        """Advances the employers still owe back."""
        return self.advanced - self.recovered - self.written_off

    @property
    def not_returned(self) -> Decimal:
        """What the fund paid out and did not get back: owed back, or lost."""
        return self.outstanding + self.written_off

    @property
    def available(self) -> Decimal:
        return self.reserve - self.not_returned


@dataclass(frozen=True)
class DepositBalance:
    """A project's deposit as the register holds it, and what payouts drew of it and were topped up."""

    deposit: WageDeposit | None
    drawn: Decimal = ZERO
    topped_up: Decimal = ZERO

    @property
    def outstanding_top_up(self) -> Decimal:
        return self.drawn - self.topped_up

    @property
    def available(self) -> Decimal:
        if self.deposit is None or self.deposit.status not in DRAWABLE:
            return ZERO
        return max(self.deposit.amount - self.outstanding_top_up, ZERO)


def deposit_refusal(project_id: str, balance: DepositBalance, amount: Decimal) -> str | None:
    """Why the project's deposit cannot pay `amount` (None: it covers it)."""
    deposit = balance.deposit
    if deposit is None:
        return f"项目 {project_id} 未登记工资保证金，无法动用 (project {project_id} has no wage deposit recorded)"
    if deposit.status not in DRAWABLE:
        state = DEPOSIT_STATUS_TEXT[deposit.status]
        return f"项目 {project_id} 的工资保证金状态为{state}，无可动用金额 (the deposit has nothing to draw)"
    if balance.available < amount:
        return (
            f"项目 {project_id} 的工资保证金可动用 {yuan(balance.available)} 元，不足支付 {yuan(amount)} 元"
            f" (the deposit has {yuan(balance.available)} yuan left to draw, less than the {yuan(amount)} asked)"
        )
    return None


def fund_refusal(county: str, balance: FundBalance, amount: Decimal) -> str | None:
    """Why the county's emergency fund cannot advance `amount` (None: it covers it)."""
    if balance.reserve <= 0:
        return f"{county} 未设定应急周转金额度，无法垫付 (no emergency-fund reserve is set for county {county})"
    if balance.available < amount:
        return (
            f"{county} 应急周转金可用余额 {yuan(balance.available)} 元，不足垫付 {yuan(amount)} 元"
            f" (the county's emergency fund has {yuan(balance.available)} yuan available, less than the"
            f" {yuan(amount)} asked)"
        )
    return None


def reserve_refusal(balance: FundBalance, reserve: Decimal) -> str | None:
    """Why the reserve cannot be set to `reserve` (None: it can): never below what the fund paid out and did not
    get back, so `available` is never negative."""
    if reserve >= balance.not_returned:
        return None
    if balance.written_off > 0:
        return (
            f"额度不能低于尚未收回的垫付资金 {yuan(balance.outstanding)} 元与已核销的 {yuan(balance.written_off)} 元之和"
            f" (the reserve cannot be below the {yuan(balance.outstanding)} yuan of advances still owed back and the"
            f" {yuan(balance.written_off)} yuan written off)"
        )
    return (
        f"额度不能低于尚未收回的垫付资金 {yuan(balance.outstanding)} 元"
        f" (the reserve cannot be below the {yuan(balance.outstanding)} yuan of advances still owed back)"
    )


def write_off_refusal(source: PayoutSource, stage: PayoutStage, outstanding: Decimal) -> str | None:
    """Why what is left of a payout cannot be written off (None: it can). Only an advance of the emergency fund
    the bank paid out with something still owed back: a deposit is the general contractor's to top up, and an
    advance not paid out yet was never the employer's debt."""
    if source is not PayoutSource.EMERGENCY_FUND:
        return f"该笔支付来源为 {source.value}，不能核销 (only an advance of the emergency fund can be written off)"
    if stage is PayoutStage.WRITTEN_OFF:
        return "该笔垫付资金已核销 (the advance was already written off)"
    if stage is PayoutStage.SETTLED or (stage is PayoutStage.PAID and outstanding <= 0):
        return "该笔垫付资金已全部收回，无可核销 (the advance was repaid: nothing to write off)"
    if stage is not PayoutStage.PAID:
        return f"银行尚未发放垫付资金（{stage.value}），不能核销 (the bank has not paid the advance out: {stage.value})"
    return None


def settlement_refusal(amount: Decimal, outstanding: Decimal, what: str) -> str | None:
    """Why a top-up or a recovery of `amount` cannot be recorded against `outstanding` (None: it can)."""
    if outstanding <= 0:
        return f"该笔{what}已全部到位 (nothing of it is outstanding)"
    if amount <= 0:
        return f"{what}金额应大于零 (the amount must be more than zero)"
    if amount > outstanding:
        return (
            f"{what}金额 {yuan(amount)} 元超过尚欠的 {yuan(outstanding)} 元"
            f" (the amount exceeds the {yuan(outstanding)} yuan outstanding)"
        )
    return None


def deposit_status_after(deposit: WageDeposit, outstanding_top_up: Decimal) -> DepositStatus:
    """The register's deposit status once the project's outstanding top-ups are `outstanding_top_up`: drawn
    while anything is owed, lodged again once the contractor has topped up everything."""
    if outstanding_top_up > 0:
        return DepositStatus.DRAWN
    return DepositStatus.LODGED if deposit.status is DepositStatus.DRAWN else deposit.status


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ProcessDate:
    day: date
    at: datetime  # the end of the day, China Standard Time
    provisional: bool  # counted without the official calendar of its year


def process_date(
    start: date,
    *,
    working_days: int = 0,
    months: int = 0,
    calendar_config: CalendarConfig,
    package: PackageCalendar | None = None,
) -> ProcessDate:
    """A date of a payout's process on the calendar every deadline uses: `working_days` working days after
    `start` (the start day not counted), or `months` months after it moved to the next working day when it is a
    rest day (a period ending on a rest day ends on the next working day)."""
    counted = WorkingCalendar(calendar_config, package or installed_package())
    if months:
        day = add_months(start, months)
        while not counted.is_working_day(day):
            day += timedelta(days=1)
    else:
        day = counted.add_working_days(start, working_days)
    return ProcessDate(day=day, at=end_of_day(day), provisional=bool(counted.fallback_years))
