"""Peak periods: daily reports from 1 December to the Spring Festival (and any other period configured)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.cases.peak_periods import PeakPeriodInvalid, in_peak_period, parse_peak_periods
from services.cases.settings import CasesSettings
from services.contracts.statutory_holidays import spring_festival

DEFAULT = parse_peak_periods("12-01..spring-festival")


def test_the_spring_festival_comes_from_the_lunar_calendar() -> None:
    assert [spring_festival(y) for y in (2026, 2027, 2028)] == [date(2026, 2, 17), date(2027, 2, 6), date(2028, 1, 26)]


@pytest.mark.parametrize(
    ("day", "peak"),
    [
        (date(2026, 11, 30), False),
        (date(2026, 12, 1), True),
        (date(2026, 12, 31), True),
        (date(2027, 1, 1), True),
        (date(2027, 2, 5), True),  # 除夕
        (date(2027, 2, 6), False),  # 正月初一: the period has ended
        (date(2027, 6, 1), False),
        (date(2027, 12, 1), True),
        (date(2028, 1, 25), True),
        (date(2028, 1, 26), False),  # an early Spring Festival
        (date(2026, 2, 16), True),  # the winter of 2025-2026
        (date(2026, 2, 17), False),
    ],
)
def test_the_default_period_runs_from_1_december_to_the_day_before_the_spring_festival(day: date, peak: bool) -> None:
    assert in_peak_period(day, DEFAULT) is peak


def test_every_day_of_a_winter_is_in_exactly_when_between_its_bounds() -> None:
    start, end = date(2027, 12, 1), spring_festival(2028)
    day = date(2027, 11, 1)
    while day < date(2028, 3, 1):
        assert in_peak_period(day, DEFAULT) is (start <= day < end), day
        day += timedelta(days=1)


def test_other_periods_within_a_year_and_across_the_new_year() -> None:
    periods = parse_peak_periods("06-01..07-01, 12-20..01-10")
    assert in_peak_period(date(2027, 6, 15), periods)
    assert not in_peak_period(date(2027, 7, 1), periods)
    assert in_peak_period(date(2027, 12, 25), periods) and in_peak_period(date(2028, 1, 9), periods)
    assert not in_peak_period(date(2028, 1, 10), periods)
    assert not in_peak_period(date(2027, 12, 1), periods)
    assert parse_peak_periods("") == [] and not in_peak_period(date(2027, 12, 25), [])


@pytest.mark.parametrize(
    "setting", ["12-01", "12-01..", "13-01..spring-festival", "12-32..01-10", "12-01..new-year", "1201..0110"]
)
def test_a_period_not_written_as_the_setting_says_is_refused(setting: str) -> None:
    with pytest.raises(PeakPeriodInvalid):
        parse_peak_periods(setting)


def test_the_cases_settings_refuse_a_bad_period_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANXIN_CASES_PEAK_PERIODS", "12-01..someday")
    with pytest.raises(ValueError, match=r"12-01\.\.someday"):
        CasesSettings()
    monkeypatch.setenv("ANXIN_CASES_PEAK_PERIODS", "12-01..spring-festival,06-01..06-15")
    assert len(CasesSettings().parsed_peak_periods()) == 2
