"""Rules on the period whose wages are owed: how old a violation may be, and how many months were owed.

Intake marks a complaint with the first, the complaint workflow judges a rejection by it and suggests it to
the inspector, and the ledger shows the mark; the second goes into the workflow input, where the criminal
threshold's per-worker test reads it. Each is defined here once, on China Standard Time dates.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from services.contracts.legal_time import legal_date

# 劳动保障监察条例 art. 20: a violation not discovered, reported or complained of within 2 years is not
# pursued; a continuing violation (wages owed month after month) is counted from its end.
VIOLATION_LIMIT_YEARS = 2


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter (31 Aug + 6 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def violation_limit_date(owed_until: date, years: int = VIOLATION_LIMIT_YEARS) -> date:
    """The last day a complaint still brings the violation within the limit: the same date `years` later
    (28 February for a period that ended on 29 February)."""
    return add_months(owed_until, 12 * years)


def past_violation_limit(owed_until: date, received: date | datetime, years: int = VIOLATION_LIMIT_YEARS) -> bool:
    """Whether a complaint received at `received` (an instant, or a date already in China Standard Time)
    comes too late for a violation whose owed period ended on `owed_until`.

    An instant is judged on its China date: 2026-06-30T17:00Z is 1 July in China.
    """
    received_on = legal_date(received) if isinstance(received, datetime) else received
    return received_on > violation_limit_date(owed_until, years)


def violation_limit_basis(owed_until: date | None, years: int = VIOLATION_LIMIT_YEARS) -> str:
    """Why a complaint is past the limit, in Chinese with the dates: what the inspector is shown."""
    if owed_until is None:
        return f"欠薪结束已超过 {years} 年（劳动保障监察条例第二十条），可以超过时效为由书面不予受理"
    return (
        f"工资拖欠至 {owed_until}，{years} 年查处时效已于 {violation_limit_date(owed_until, years)} 届满"
        "（劳动保障监察条例第二十条），可以超过时效为由书面不予受理"
    )


def whole_months_owed(start: date, end: date) -> int:
    """Whole months from the first day owed to the last, both included (domain.md §4).

    Months are counted as the Civil Code counts them (民法典 art. 202): a month that begins on `start` ends
    the day before the same day of the next month, or on that month's last day when it has no such day. So
    1 Jan–31 Mar is 3 months, 15 Jan–14 Apr is 3, 31 May–30 Jun is 1, 31 May–1 Jul is 1, and a period under
    a month is 0.
    """
    if end < start:
        raise ValueError(f"the owed period ends ({end}) before it starts ({start})")
    after = end + timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month
    if _day_after_months(start, months) > after:
        months -= 1
    return months


def _day_after_months(start: date, months: int) -> date:
    """The first day after `months` whole months counted from `start` (included)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day <= last:
        return date(year, month, start.day)
    return date(year, month, last) + timedelta(days=1)
