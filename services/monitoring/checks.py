"""The monthly checks of a project (每月监控检查), applied once here: a pure function over the register's
project and the month's summary (`feeds.summarise_month`), which the monitoring workflow's activity calls
and the unit tests exercise. Each failed check is an early warning (预警) with its facts: counts, amounts
and dates, never a worker (not even by keyed reference).

The checks and the rule behind each (docs/monitoring.md, "The monthly checks", cites the statute):

- `payroll_received`: the month's payroll from the dedicated wage account is in by the check day;
- `roster_paid`: every worker on the month's attendance roster was paid (only once the payroll is in: a
  missing payroll is the first check's warning, not this one's);
- `pay_in_line`: no worker paid less than their days at the project's usual day rate, less the tolerance
  (`MonthSummary.pay_shortfalls`);
- `deposit`: the wage deposit is lodged (or exempt) and not below `deposit_ratio` × the contract value;
- `wage_account`: the dedicated wage account is recorded, opened on or before the project's start (a month
  worked, in part, before a late opening fails; the months after it pass).

A warning's level starts at the first rung (yellow) and climbs one rung each further month the same check
fails in a row (`level_of`; every `months_per_level` months when set higher), up to the last (red). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from services.contracts.legal_time import end_of_day
from services.contracts.lifecycle import CalendarConfig
from services.contracts.monitoring_events import (
    DepositStatus,
    ProjectFacts,
    WarningCheck,
    WarningLevel,
    WarningResolution,
)
from services.contracts.working_days import PackageCalendar, WorkingCalendar, installed_package
from services.monitoring.feeds import CENT, MonthSummary

# The deposit states in which it stands as security: lodged, or waived for the contractor.
DEPOSIT_IN_PLACE = frozenset({DepositStatus.LODGED, DepositStatus.EXEMPT})

Fact = str | int | bool | None


@dataclass(frozen=True)
class CheckRules:
    """The checks' settings (services/monitoring/settings.py reads them)."""

    # The deposit required, as a share of the contract value (工程建设领域农民工工资保证金规定 第十一条: 1% to 3%,
    # as the province sets; Hebei's measures, 冀人社规〔2022〕3号, set 2%) ...
    deposit_ratio: Decimal = Decimal("0.02")
    # ... and at most this many yuan per project (Hebei: 5 million; None: no cap).
    deposit_cap: Decimal | None = Decimal("5000000.00")
    # A warning climbs one level each time its check has failed this many further months in a row.
    months_per_level: int = 1
    # The levels in the order a warning climbs them.
    levels: Sequence[WarningLevel] = field(default_factory=lambda: tuple(WarningLevel))


@dataclass(frozen=True)
class Failure:
    """A failed check of a month: an early warning to raise, with its facts."""

    check: WarningCheck
    facts: dict[str, Fact]


def required_deposit(contract_value: Decimal, rules: CheckRules) -> Decimal:
    required = (contract_value * rules.deposit_ratio).quantize(CENT, ROUND_HALF_UP)
    return required if rules.deposit_cap is None else min(required, rules.deposit_cap)


def check_month(project: ProjectFacts, summary: MonthSummary, rules: CheckRules) -> dict[WarningCheck, Failure | None]:
    """Every check's outcome for the month: its failure, or None when it passed."""
    return {
        WarningCheck.PAYROLL_RECEIVED: _payroll_received(summary),
        WarningCheck.ROSTER_PAID: _roster_paid(summary),
        WarningCheck.PAY_IN_LINE: _pay_in_line(summary),
        WarningCheck.DEPOSIT: _deposit(project, rules),
        WarningCheck.WAGE_ACCOUNT: _wage_account(project, summary.month),
    }


def level_of(months_failing: int, rules: CheckRules) -> WarningLevel:
    """The level of a warning whose check has failed `months_failing` months in a row, this one included."""
    climbed = max(months_failing - 1, 0) // max(rules.months_per_level, 1)
    return rules.levels[min(climbed, len(rules.levels) - 1)]


def _payroll_received(summary: MonthSummary) -> Failure | None:
    if summary.payroll_received:
        return None
    return Failure(
        WarningCheck.PAYROLL_RECEIVED,
        {
            "roster_received": summary.roster_received,
            "workers_on_roster": summary.workers_on_roster,
            "days_worked": str(summary.days_worked),
        },
    )


def _roster_paid(summary: MonthSummary) -> Failure | None:
    if not summary.payroll_received or not summary.on_roster_not_paid:
        return None
    return Failure(
        WarningCheck.ROSTER_PAID,
        {
            "workers_on_roster": summary.workers_on_roster,
            "workers_paid": summary.workers_paid,
            "workers_on_roster_not_paid": len(summary.on_roster_not_paid),
            "days_not_paid": str(sum((w.days or Decimal(0) for w in summary.on_roster_not_paid), Decimal(0))),
        },
    )


def _pay_in_line(summary: MonthSummary) -> Failure | None:
    if not summary.pay_shortfalls:
        return None
    short = sum((s.expected_at_least - s.paid for s in summary.pay_shortfalls), Decimal("0.00"))
    return Failure(
        WarningCheck.PAY_IN_LINE,
        {
            "workers_paid_short": len(summary.pay_shortfalls),
            "shortfall": str(short),
            "day_rate": str(summary.day_rate),
            "tolerance": str(summary.tolerance),
        },
    )


def _deposit(project: ProjectFacts, rules: CheckRules) -> Failure | None:
    required = required_deposit(project.contract_value, rules)
    deposit = project.deposit
    if deposit is not None and deposit.status is DepositStatus.EXEMPT:
        return None
    if deposit is not None and deposit.status in DEPOSIT_IN_PLACE and deposit.amount >= required:
        return None
    facts: dict[str, Fact] = {
        "status": deposit.status.value if deposit else None,
        "amount": str(deposit.amount) if deposit else None,
        "required": str(required),
        "ratio": str(rules.deposit_ratio),
    }
    if rules.deposit_cap is not None and required == rules.deposit_cap:
        facts["cap"] = str(rules.deposit_cap)  # the ratio alone would ask more: say why it does not
    return Failure(WarningCheck.DEPOSIT, facts)


def _wage_account(project: ProjectFacts, month: date) -> Failure | None:
    # A month worked (in part) before the account was opened fails; from the month after its opening on,
    # the account is in place and the check passes again.
    account = project.wage_account
    if account is not None and (account.opened_on <= project.start_date or account.opened_on < month):
        return None
    return Failure(
        WarningCheck.WAGE_ACCOUNT,
        {
            "opened_on": account.opened_on.isoformat() if account else None,
            "start_date": project.start_date.isoformat(),
            "days_late": (account.opened_on - project.start_date).days if account else None,
        },
    )


@dataclass(frozen=True)
class KnownWarning:
    """A warning of the project already recorded (for the month checked, the month before, or open)."""

    warning_id: str
    month: date
    check: WarningCheck
    months_failing: int
    resolution: WarningResolution | None  # None: open


@dataclass(frozen=True)
class NewWarning:
    check: WarningCheck
    level: WarningLevel
    months_failing: int
    facts: dict[str, Fact]


@dataclass(frozen=True)
class WarningPlan:
    raised: list[NewWarning]
    resolved: list[str]  # the ids of the open warnings whose check passed


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def plan_warnings(
    month: date, outcomes: dict[WarningCheck, Failure | None], known: Sequence[KnownWarning], rules: CheckRules
) -> WarningPlan:
    """What a month's check changes: a warning for each check failed that has none for the month yet (so a
    check run again raises nothing twice), at the level of the months it has failed in a row; and every open
    warning of a check passed, for this month or an earlier one, resolved."""
    raised: list[NewWarning] = []
    resolved: list[str] = []
    before = previous_month(month)
    for check, failure in outcomes.items():
        mine = [w for w in known if w.check is check]
        if failure is None:
            resolved += [w.warning_id for w in mine if w.resolution is None and w.month <= month]
            continue
        if any(w.month == month for w in mine):
            continue
        # The month before counts unless its own check passed in the end (a late payroll resolved it).
        last = next((w for w in mine if w.month == before and w.resolution is not WarningResolution.CHECK_PASSED), None)
        months_failing = last.months_failing + 1 if last else 1
        raised.append(NewWarning(check, level_of(months_failing, rules), months_failing, failure.facts))
    return WarningPlan(raised, resolved)


@dataclass(frozen=True)
class CheckDay:
    day: date
    at: datetime  # the end of the check day, China Standard Time
    provisional: bool  # counted without the official calendar of its year (weekdays less statutory holidays)


def check_day(
    month: date, working_day: int, calendar: CalendarConfig, package: PackageCalendar | None = None
) -> CheckDay:
    """The day a month is checked: the `working_day`-th working day of the month after it, on the calendar
    every deadline uses (the payroll of a month is due by then), checked at its end."""
    counted = WorkingCalendar(calendar, package or installed_package())
    last_day = month.replace(day=28) + timedelta(days=4)
    last_day -= timedelta(days=last_day.day)
    day = counted.add_working_days(last_day, working_day)
    return CheckDay(day=day, at=end_of_day(day), provisional=bool(counted.fallback_years))
