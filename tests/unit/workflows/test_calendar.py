"""Working days on the official calendar: package data, configured years, and the visible fallback."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.contracts.legal_time import CHINA_TZ, end_of_day, legal_date
from services.contracts.lifecycle import CalendarConfig, CalendarYear, DayUnit, DeadlineRequest
from services.contracts.statutory_holidays import statutory_holidays
from services.contracts.working_days import (
    CalendarNotCovered,
    WorkingCalendar,
    compute_deadline,
    installed_package,
)
from workflows.activities import CalendarActivities

PACKAGE = installed_package()
covered_days = st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 6, 30))
any_days = st.dates(min_value=date(2005, 1, 1), max_value=date(2035, 12, 31))
periods = st.integers(min_value=0, max_value=95)


def calendar(**config: object) -> WorkingCalendar:
    return WorkingCalendar(CalendarConfig.model_validate(config))


def test_national_day_golden_week_and_its_make_up_days() -> None:
    cal = calendar()
    assert not any(cal.is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert cal.is_working_day(date(2025, 9, 28))  # Sunday, make-up working day
    assert cal.is_working_day(date(2025, 10, 11))  # Saturday, make-up working day
    # Received on Monday 29 September: 30 Sep, 9, 10, 11 (Saturday, make-up) and 13 October.
    assert cal.add_working_days(date(2025, 9, 29), 5) == date(2025, 10, 13)
    assert not cal.fallback_years


def test_spring_festival_2026_is_skipped() -> None:
    cal = calendar()
    assert not cal.is_working_day(date(2026, 2, 17))  # 春节
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, make-up working day
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)


def test_calendar_day_period_ending_on_a_holiday_moves_to_the_next_working_day() -> None:
    cal = calendar()
    # Order served on 24 September 2025, 7 days: 1 October is a holiday, so the period ends 9 October.
    assert cal.add_calendar_days(date(2025, 9, 24), 7) == date(2025, 10, 9)
    assert cal.add_calendar_days(date(2025, 9, 10), 7) == date(2025, 9, 17)


def test_configured_year_extends_the_package() -> None:
    year_2027 = CalendarYear(
        year=2027,
        holidays=[date(2027, 1, 1), date(2027, 2, 8), date(2027, 2, 9)],
        make_up_workdays=[date(2027, 2, 6)],
    )
    cal = calendar(years=[year_2027.model_dump()])
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2027, 2, 6))  # Saturday, make-up
    assert not cal.is_working_day(date(2027, 2, 9))  # Tuesday, holiday
    assert cal.source_of(date(2027, 3, 1)) == "config"
    assert not cal.fallback_years


def test_configured_year_overrides_the_package() -> None:
    # The bureau's entry for a covered year wins: here it declares 2 January 2026 an ordinary working day.
    cal = calendar(years=[{"year": 2026, "holidays": [date(2026, 1, 1)], "make_up_workdays": []}])
    assert PACKAGE.holidays and date(2026, 1, 2) in PACKAGE.holidays
    assert cal.is_working_day(date(2026, 1, 2))
    assert not cal.is_working_day(date(2026, 1, 1))


def test_uncovered_year_falls_back_to_weekdays_visibly() -> None:
    cal = calendar()
    assert cal.source_of(date(2027, 1, 4)) == "fallback"
    assert cal.add_working_days(date(2027, 1, 1), 5) == date(2027, 1, 8)
    assert cal.fallback_years == {2027}


def test_uncovered_year_fails_when_configured_to() -> None:
    cal = calendar(fallback="fail")
    with pytest.raises(CalendarNotCovered, match="2027"):
        cal.add_working_days(date(2026, 12, 28), 10)


def test_calendar_year_rejects_dates_of_another_year_and_contradictions() -> None:
    with pytest.raises(ValueError, match="not in 2027"):
        CalendarYear(year=2027, holidays=[date(2026, 12, 31)])
    with pytest.raises(ValueError, match="both"):
        CalendarYear(year=2027, holidays=[date(2027, 2, 6)], make_up_workdays=[date(2027, 2, 6)])
    with pytest.raises(ValueError, match="once"):
        CalendarConfig(years=[CalendarYear(year=2027), CalendarYear(year=2027)])


def test_deadline_expires_at_the_end_of_the_due_date_china_time() -> None:
    request = DeadlineRequest(
        name="acceptance",
        legal_start=datetime(2025, 9, 29, 2, 0, tzinfo=UTC),  # 10:00 in Beijing
        wall_start=datetime(2025, 9, 29, 2, 0, tzinfo=UTC),
        amount=5,
        unit=DayUnit.WORKING,
        calendar=CalendarConfig(),
    )
    deadline = compute_deadline(request)
    assert deadline.due_date == date(2025, 10, 13)
    assert deadline.due_at == datetime(2025, 10, 14, tzinfo=CHINA_TZ)
    assert deadline.fire_at == deadline.due_at
    assert not deadline.provisional and deadline.calendar_note is None


def test_legal_date_is_the_beijing_date() -> None:
    assert legal_date(datetime(2025, 9, 30, 17, 0, tzinfo=UTC)) == date(2025, 10, 1)
    with pytest.raises(ValueError):
        legal_date(datetime(2025, 9, 30, 17, 0))


def test_compressed_clock_fires_early_but_keeps_the_legal_date() -> None:
    start = datetime(2025, 9, 29, 2, 0, tzinfo=UTC)
    request = DeadlineRequest(
        name="acceptance",
        legal_start=start,
        wall_start=start,
        amount=5,
        unit=DayUnit.WORKING,
        calendar=CalendarConfig(),
        working_day_seconds=2,
    )
    deadline = compute_deadline(request)
    assert deadline.due_date == date(2025, 10, 13)
    assert deadline.fire_at == start + timedelta(seconds=10)


async def test_activity_logs_a_warning_and_marks_the_deadline_provisional(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from temporalio.testing import ActivityEnvironment

    request = DeadlineRequest(
        name="investigation.limit.60",
        legal_start=datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
        wall_start=datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
        amount=60,
        unit=DayUnit.WORKING,
        calendar=CalendarConfig(),
    )
    with caplog.at_level(logging.WARNING, logger="workflows.activities"):
        deadline = await ActivityEnvironment().run(CalendarActivities().compute_deadline, request)
    assert deadline.provisional
    assert deadline.calendar_note and "2027" in deadline.calendar_note
    assert any("fallback" in r.getMessage() for r in caplog.records)


async def test_activity_refuses_for_good_when_fallback_is_fail() -> None:
    from temporalio.exceptions import ApplicationError
    from temporalio.testing import ActivityEnvironment

    request = DeadlineRequest(
        name="x",
        legal_start=datetime(2026, 12, 20, tzinfo=UTC),
        wall_start=datetime(2026, 12, 20, tzinfo=UTC),
        amount=30,
        unit=DayUnit.WORKING,
        calendar=CalendarConfig(fallback="fail"),
    )
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(CalendarActivities().compute_deadline, request)
    assert raised.value.type == "CalendarNotCovered" and raised.value.non_retryable


# --- properties ------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(start=any_days, days=periods)
def test_exactly_n_working_days_elapse(start: date, days: int) -> None:
    cal = calendar()
    due = cal.add_working_days(start, days)
    assert cal.working_days_between(start, due) == days
    if days:
        assert cal.is_working_day(due)


@settings(max_examples=200, deadline=None)
@given(start=any_days, days=st.integers(min_value=0, max_value=94))
def test_more_working_days_end_later(start: date, days: int) -> None:
    cal = calendar()
    assert cal.add_working_days(start, days) < cal.add_working_days(start, days + 1)


@settings(max_examples=200, deadline=None)
@given(start=covered_days, days=periods)
def test_covered_dates_are_never_provisional(start: date, days: int) -> None:
    cal = calendar()
    cal.add_working_days(start, days)
    assert not cal.fallback_years


@settings(max_examples=200, deadline=None)
@given(day=any_days)
def test_fallback_rule_outside_the_package_and_config(day: date) -> None:
    cal = calendar()
    if day.year in PACKAGE.years:
        return
    assert cal.is_working_day(day) == (day.weekday() < 5 and day not in statutory_holidays(day.year))
    assert day.year in cal.fallback_years


@settings(max_examples=100, deadline=None)
@given(start=any_days, days=st.integers(min_value=1, max_value=60))
def test_working_days_take_at_least_as_long_as_calendar_days(start: date, days: int) -> None:
    cal = calendar()
    assert cal.add_working_days(start, days) >= start + timedelta(days=days)
    calendar_due = cal.add_calendar_days(start, days)
    assert calendar_due >= start + timedelta(days=days) and cal.is_working_day(calendar_due)


@settings(max_examples=100, deadline=None)
@given(
    holidays=st.sets(st.dates(min_value=date(2027, 1, 1), max_value=date(2027, 12, 31)), max_size=20),
    start=st.dates(min_value=date(2027, 1, 1), max_value=date(2027, 9, 30)),
    days=st.integers(min_value=1, max_value=40),
)
def test_configured_holidays_are_never_counted(holidays: set[date], start: date, days: int) -> None:
    cal = calendar(years=[{"year": 2027, "holidays": sorted(holidays), "make_up_workdays": []}])
    due = cal.add_working_days(start, days)
    assert due not in holidays
    counted = [
        start + timedelta(days=i)
        for i in range(1, (due - start).days + 1)
        if cal.is_working_day(start + timedelta(days=i))
    ]
    assert len(counted) == days and not set(counted) & holidays
    if due.year == 2027:
        assert 2027 not in cal.fallback_years


def test_end_of_day_is_midnight_after_in_beijing() -> None:
    assert end_of_day(date(2025, 10, 13)).astimezone(UTC) == datetime(2025, 10, 13, 16, 0, tzinfo=UTC)
