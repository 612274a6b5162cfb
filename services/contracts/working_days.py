"""Working days on the official Chinese calendar (public holidays and make-up working days, 调休).

Pure functions over three sources, in order of precedence:

1. the bureau's configuration (`CalendarConfig.years`): a year entered there replaces every other source
   for that year — this is how next year's calendar is entered when the State Council announces it;
2. the `chinesecalendar` package, for the years its data covers (2004-2026 in version 1.11);
3. otherwise a fallback: Monday-Friday, less the public holidays fixed by law
   (services/contracts/statutory_holidays.py: 元旦, 春节 from 除夕 to 初三, 清明, 劳动节, 端午, 中秋, 国庆).
   The days the State Council adds to a holiday and the weekend days it makes working days (调休) are
   announced each year and cannot be predicted, so the fallback invents none. A result that used the
   fallback for any day it examined is *provisional* and says which years were missing — never silently.
   With `fallback="fail"` it raises instead.

Periods follow the procedural rule that the start day is not counted (期间开始的日不计算在期间内), and a
period counted in calendar days whose last day is not a working day ends on the next working day.
Deadlines expire at the end of their due date, China Standard Time (UTC+8, no daylight saving).

A contract: the lifecycle workflows' deadlines (the `lifecycle.compute_deadline` activity) and the services'
own (referrals' response dates, sanctions' defence periods, the cases ledger) are counted by this one
calendar, so they agree. Pure; the package's data is read on first use, not on import.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

from services.contracts.legal_time import end_of_day, legal_date
from services.contracts.lifecycle import CalendarConfig, DayUnit, Deadline, DeadlineRequest
from services.contracts.statutory_holidays import FIRST_YEAR, statutory_holidays

log = logging.getLogger(__name__)

# Safety bound: no legal period here is anywhere near this long.
_MAX_SCAN_DAYS = 3 * 366


class CalendarNotCovered(LookupError):
    """A date is covered neither by the configuration nor by the package, and fallback is 'fail'."""

    def __init__(self, years: Iterable[int]) -> None:
        self.years = sorted(set(years))
        super().__init__(
            f"no official calendar for {', '.join(map(str, self.years))}: "
            "enter the year's holidays and make-up working days in the calendar configuration"
        )


@dataclass(frozen=True)
class PackageCalendar:
    """The package's data as plain mappings, so tests can substitute their own."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    years: frozenset[int]

    @classmethod
    def installed(cls) -> PackageCalendar:
        holidays = frozenset(chinese_calendar.holidays)
        workdays = frozenset(chinese_calendar.workdays)
        # The package covers whole years, from the first to the last year it has data for.
        all_days = holidays | workdays
        first, last = min(all_days).year, max(all_days).year
        return cls(holidays=holidays, workdays=workdays, years=frozenset(range(first, last + 1)))


_INSTALLED: PackageCalendar | None = None


def installed_package() -> PackageCalendar:
    global _INSTALLED
    if _INSTALLED is None:
        _INSTALLED = PackageCalendar.installed()
    return _INSTALLED


@functools.cache
def _fallback_holidays(year: int) -> frozenset[date]:
    # Years before the rules of 2025 that the package does not cover either (before 2004) keep plain weeks:
    # no legal period here reaches back that far.
    return frozenset(statutory_holidays(year)) if year >= FIRST_YEAR else frozenset()


@dataclass
class WorkingCalendar:
    config: CalendarConfig
    package: PackageCalendar = field(default_factory=installed_package)
    # Years for which a day was decided by the fallback (weekdays less statutory holidays), since `reset()`.
    fallback_years: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._configured: Mapping[int, tuple[frozenset[date], frozenset[date]]] = {
            y.year: (frozenset(y.holidays), frozenset(y.make_up_workdays)) for y in self.config.years
        }
        # Counts already made: a page of fifty deadlines asks the same few spans over and over.
        self._between: dict[tuple[date, date], int] = {}

    def reset(self) -> None:
        self.fallback_years = set()
        self._between.clear()

    def source_of(self, day: date) -> str:
        if day.year in self._configured:
            return "config"
        if day.year in self.package.years:
            return "package"
        return "fallback"

    def is_working_day(self, day: date) -> bool:
        configured = self._configured.get(day.year)
        if configured is not None:
            holidays, workdays = configured
        elif day.year in self.package.years:
            holidays, workdays = self.package.holidays, self.package.workdays
        else:
            if self.config.fallback == "fail":
                raise CalendarNotCovered([day.year])
            self.fallback_years.add(day.year)
            holidays, workdays = _fallback_holidays(day.year), frozenset()
        if day in workdays:
            return True
        if day in holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself not counted); `start` for 0."""
        current = start
        counted = 0
        for _ in range(_MAX_SCAN_DAYS):
            if counted == days:
                return current
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        raise ValueError(f"{days} working days after {start} is beyond the supported range")

    def add_calendar_days(self, start: date, days: int) -> date:
        """`days` calendar days after `start`, moved to the next working day if it falls on a rest day."""
        due = start + timedelta(days=days)
        if days == 0:
            return due
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_working_day(due):
                return due
            due += timedelta(days=1)
        raise ValueError(f"no working day found after {start + timedelta(days=days)}")

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        known = self._between.get((start, end))
        if known is not None:
            return known
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        if len(self._between) < 10_000:
            self._between[(start, end)] = count
        return count


def compute_deadline(request: DeadlineRequest, package: PackageCalendar | None = None) -> Deadline:
    """A deadline `request.amount` working or calendar days after `request.legal_start`.

    On a compressed clock (`working_day_seconds > 0`) the timer fires after amount x working_day_seconds of
    wall time from `wall_start`, while `due_date`/`due_at` keep the legal values for the timeline.
    """
    calendar = WorkingCalendar(request.calendar, package or installed_package())
    start = legal_date(request.legal_start)
    if request.unit is DayUnit.WORKING:
        due = calendar.add_working_days(start, request.amount)
    else:
        due = calendar.add_calendar_days(start, request.amount)
    due_at = end_of_day(due) if request.amount > 0 else request.legal_start
    if request.working_day_seconds > 0:
        fire_at = request.wall_start + timedelta(seconds=request.amount * request.working_day_seconds)
    else:
        fire_at = due_at
    note = None
    if calendar.fallback_years:
        years = ", ".join(map(str, sorted(calendar.fallback_years)))
        note = f"{years} 年官方节假日安排尚未录入，按法定节假日和周一至周五临时计算（未含调休），待录入后重新计算"
    return Deadline(
        name=request.name,
        legal_start=request.legal_start,
        amount=request.amount,
        unit=request.unit,
        due_date=due,
        due_at=due_at,
        fire_at=fire_at,
        provisional=bool(calendar.fallback_years),
        calendar_note=note,
    )
