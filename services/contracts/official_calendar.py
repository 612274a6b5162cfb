"""Is a year the bureau enters plausibly the State Council's arrangement for that year?

A year entered in the calendar configuration replaces every other source for that year and makes its
deadlines official (services/contracts/working_days.py): an empty or mistyped entry would silently count
the Spring Festival as working days. So an entered year is checked where it enters — the lifecycle
configuration file when a service starts (services/common/lifecycle_config.py) and `anxin calendar load` —
and refused with every reason at once.

The checks live here rather than on `CalendarYear` itself because that model is also decoded from the inputs
and signals recorded in workflow histories: a rule added to it would make an old history undecodable, while a
year refused here never reaches a workflow.
"""

from __future__ import annotations

from datetime import date

from services.contracts.lifecycle import CalendarConfig, CalendarYear
from services.contracts.statutory_holidays import FIRST_YEAR, statutory_holidays

# Bounds from the official arrangements of 2004–2026 as the `chinesecalendar` package holds them: 22–33
# holiday dates a year counting the weekend days inside each holiday run (24–33 since 2015; 33 in 2026),
# 16–23 of them on weekdays, and 5–12 make-up working days (12 in 2013; 5–8 since 2015). The floor is the
# 13 days the law itself gives off since 2025, which an entry with or without the weekend days reaches; the
# ceiling leaves room for a longer Spring Festival than any so far. No make-up day at all is possible in
# law, more than in any year so far is not.
MIN_HOLIDAYS = 13
MAX_HOLIDAYS = 40
MAX_MAKE_UP_WORKDAYS = 12


def implausibilities(entry: CalendarYear) -> list[str]:
    """Why `entry` cannot be the official arrangement of its year (empty: it can).

    The model itself already refuses dates outside the year and a day listed both ways."""
    if not entry.holidays:
        return [
            f"{entry.year} lists no holidays: an entry replaces the whole year's calendar, so it must "
            "list the year's holidays (and make-up working days) as announced"
        ]
    reasons = []
    holidays = set(entry.holidays)
    if not MIN_HOLIDAYS <= len(holidays) <= MAX_HOLIDAYS:
        reasons.append(
            f"{entry.year} lists {len(holidays)} holiday dates; an official arrangement has "
            f"{MIN_HOLIDAYS}–{MAX_HOLIDAYS} (the weekend days inside each holiday run included)"
        )
    make_up = set(entry.make_up_workdays)
    if len(make_up) > MAX_MAKE_UP_WORKDAYS:
        reasons.append(
            f"{entry.year} lists {len(make_up)} make-up working days; no year has had more than {MAX_MAKE_UP_WORKDAYS}"
        )
    weekdays = sorted(d for d in make_up if d.weekday() < 5)
    if weekdays:
        reasons.append(f"make-up working days must fall on a Saturday or Sunday: {_dates(weekdays)}")
    if entry.year >= FIRST_YEAR:
        # A day the law gives off is off whatever else the arrangement moves; on a weekend it may be left
        # out by an entry that lists weekdays only.
        missing = sorted(d for d in statutory_holidays(entry.year) if d.weekday() < 5 and d not in holidays)
        if missing:
            names = ", ".join(f"{d.isoformat()} ({statutory_holidays(entry.year)[d]})" for d in missing)
            reasons.append(f"{entry.year} does not list days the law gives off: {names}")
    return reasons


def check_entered_years(calendar: CalendarConfig, source: str) -> CalendarConfig:
    """`calendar`, unless one of its years is implausible: then a ValueError naming `source` and every reason."""
    reasons = [reason for entry in calendar.years for reason in implausibilities(entry)]
    if reasons:
        raise ValueError(f"{source}: calendar refused: " + "; ".join(reasons))
    return calendar


def _dates(days: list[date]) -> str:
    return ", ".join(d.isoformat() for d in days)
