"""The fallback for a year nobody has entered: Monday-Friday less the public holidays fixed by law, computed
with the lunar calendar, never a make-up working day, and always provisional."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from services.contracts.legal_time import CHINA_TZ
from services.contracts.lifecycle import CalendarConfig, DayUnit, DeadlineRequest
from services.contracts.statutory_holidays import statutory_holidays
from services.contracts.working_days import WorkingCalendar, compute_deadline, installed_package

PACKAGE = installed_package()


def test_the_statutory_holidays_of_2027() -> None:
    # 除夕 of the year of the goat falls on Friday 5 February 2027; 清明 on 5 April, 端午 on 9 June and
    # 中秋 on 15 September.
    assert statutory_holidays(2027) == {
        date(2027, 1, 1): "元旦",
        date(2027, 2, 5): "春节",
        date(2027, 2, 6): "春节",
        date(2027, 2, 7): "春节",
        date(2027, 2, 8): "春节",
        date(2027, 4, 5): "清明节",
        date(2027, 5, 1): "劳动节",
        date(2027, 5, 2): "劳动节",
        date(2027, 6, 9): "端午节",
        date(2027, 9, 15): "中秋节",
        date(2027, 10, 1): "国庆节",
        date(2027, 10, 2): "国庆节",
        date(2027, 10, 3): "国庆节",
    }


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_rules_agree_with_the_official_arrangements_the_package_holds(year: int) -> None:
    # Every day the law gives off is a holiday in the State Council's arrangement of that year.
    days = statutory_holidays(year)
    assert len(days) == 13
    assert set(days) <= PACKAGE.holidays


def test_earlier_rules_are_not_guessed() -> None:
    with pytest.raises(ValueError, match="2025"):
        statutory_holidays(2024)


def test_a_seven_day_order_served_before_the_spring_festival_ends_after_it() -> None:
    # Served on Friday 29 January 2027: the seventh day is 除夕 (5 February), then a weekend and 初三 on
    # Monday, so the period ends on Tuesday 9 February — provisionally, as no arrangement for 2027 is known.
    served = datetime(2027, 1, 29, 10, 0, tzinfo=CHINA_TZ)
    deadline = compute_deadline(
        DeadlineRequest(
            name="order.payment",
            legal_start=served,
            wall_start=served,
            amount=7,
            unit=DayUnit.CALENDAR,
            calendar=CalendarConfig(),
        )
    )
    assert deadline.due_date != date(2027, 2, 5)
    assert deadline.due_date == date(2027, 2, 9)
    assert deadline.provisional
    assert deadline.calendar_note is not None and "2027" in deadline.calendar_note


def test_may_day_and_national_day_are_not_working_days() -> None:
    cal = WorkingCalendar(CalendarConfig())
    for day in [date(2027, 5, 1), date(2027, 5, 2), date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)]:
        assert not cal.is_working_day(day), day
    assert not cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_working_day(date(2027, 6, 9))  # 端午, a Wednesday
    assert cal.is_working_day(date(2027, 10, 4))  # a Monday: the days joined to the holiday are not invented
    assert cal.fallback_years == {2027}


def test_no_make_up_working_day_is_invented() -> None:
    cal = WorkingCalendar(CalendarConfig())
    day = date(2027, 1, 1)
    while day.year == 2027:
        if day.weekday() >= 5:
            assert not cal.is_working_day(day), day
        day += timedelta(days=1)


def test_2026_still_comes_from_the_package_unchanged() -> None:
    cal = WorkingCalendar(CalendarConfig())
    day = date(2026, 1, 1)
    while day.year == 2026:
        expected = day in PACKAGE.workdays or (day not in PACKAGE.holidays and day.weekday() < 5)
        assert cal.is_working_day(day) == expected, day
        assert cal.source_of(day) == "package"
        day += timedelta(days=1)
    assert not cal.fallback_years


def test_a_period_crossing_into_2027_counts_new_years_day_off_and_stays_provisional() -> None:
    start = datetime(2026, 12, 30, 10, 0, tzinfo=CHINA_TZ)  # a Wednesday
    deadline = compute_deadline(
        DeadlineRequest(
            name="acceptance",
            legal_start=start,
            wall_start=start,
            amount=5,
            unit=DayUnit.WORKING,
            calendar=CalendarConfig(),
        )
    )
    # 31 December, then 4-7 January 2027 (1 January is 元旦 and 2-3 January a weekend).
    assert deadline.due_date == date(2027, 1, 7)
    assert deadline.provisional
