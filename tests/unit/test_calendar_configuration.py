"""Entered calendar years are checked before anything uses them; the years loaded with `anxin calendar load`
sit beside the lifecycle configuration, and running processes read a change without a restart."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from services.common.lifecycle_config import (
    DEFAULT_PATH,
    LiveLifecycleConfig,
    calendar_file_path,
    load_lifecycle_config,
    parse_calendar_years,
)
from services.common.settings import CommonSettings
from services.contracts.lifecycle import CalendarConfig, CalendarYear
from services.contracts.official_calendar import check_entered_years, implausibilities
from tests.support.calendars import arrangement_2027, calendar_toml


def official(year: int, *, weekdays_only: bool = False) -> CalendarYear:
    holidays = sorted(
        d for d in chinese_calendar.holidays if d.year == year and not (weekdays_only and d.weekday() >= 5)
    )
    workdays = sorted(d for d in chinese_calendar.workdays if d.year == year)
    return CalendarYear(year=year, holidays=holidays, make_up_workdays=workdays)


# --- plausibility ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", range(2004, 2027))
def test_every_official_arrangement_so_far_is_accepted_with_or_without_weekends(year: int) -> None:
    assert implausibilities(official(year)) == []
    assert implausibilities(official(year, weekdays_only=True)) == []


def test_a_year_without_holidays_is_refused() -> None:
    # It would be taken as official: every weekday of 2027 a working day, the Spring Festival included.
    [reason] = implausibilities(CalendarYear(year=2027))
    assert "lists no holidays" in reason
    with pytest.raises(ValueError, match="calendar refused"):
        check_entered_years(CalendarConfig(years=[CalendarYear(year=2027)]), "test")


def test_dates_must_lie_in_their_year() -> None:
    with pytest.raises(ValueError, match="not in 2027"):
        CalendarYear(year=2027, holidays=[date(2026, 12, 31)])


def test_implausible_counts_and_weekday_make_up_days_are_refused() -> None:
    good = arrangement_2027()
    too_few = good.model_copy(update={"holidays": good.holidays[:3]})
    assert any("3 holiday dates" in r for r in implausibilities(too_few))
    every_day = [date(2027, 1, 1) + timedelta(days=i) for i in range(45)]
    too_many = CalendarYear(year=2027, holidays=[*good.holidays, *(d for d in every_day if d not in good.holidays)])
    assert any("holiday dates" in r for r in implausibilities(too_many))
    saturdays = [d for d in (date(2027, 1, 2) + timedelta(weeks=w) for w in range(52)) if d not in good.holidays][:13]
    assert any(
        "make-up working days; no year" in r
        for r in implausibilities(good.model_copy(update={"make_up_workdays": saturdays}))
    )
    monday = date(2027, 3, 1)
    reasons = implausibilities(good.model_copy(update={"make_up_workdays": [*good.make_up_workdays, monday]}))
    assert reasons == ["make-up working days must fall on a Saturday or Sunday: 2027-03-01"]


def test_a_year_missing_a_day_the_law_gives_off_is_refused() -> None:
    good = arrangement_2027()
    without_eve = good.model_copy(update={"holidays": [d for d in good.holidays if d != date(2027, 2, 5)]})
    assert implausibilities(without_eve) == ["2027 does not list days the law gives off: 2027-02-05 (春节)"]


# --- files ---------------------------------------------------------------------------------------------------


def test_years_are_read_from_toml_or_json_in_the_configurations_shape() -> None:
    entry = arrangement_2027()
    assert parse_calendar_years(calendar_toml(entry), "2027.toml") == [entry]
    as_json = '{"years": [' + entry.model_dump_json() + "]}"
    assert parse_calendar_years(as_json, "2027.json") == [entry]
    assert parse_calendar_years(entry.model_dump_json(), "2027.json") == [entry]
    with pytest.raises(ValueError, match=r"bad\.toml: expected one or more years"):
        parse_calendar_years("province = 'hebei'\n", "bad.toml")
    with pytest.raises(ValueError, match="not in 2027"):
        parse_calendar_years('{"year": 2027, "holidays": ["2026-12-31"]}', "x.json")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copy(DEFAULT_PATH, tmp_path / "lifecycle.toml")
    return tmp_path


def settings_for(config_dir: Path) -> CommonSettings:
    return CommonSettings(ANXIN_LIFECYCLE_CONFIG=config_dir / "lifecycle.toml")  # type: ignore[call-arg]


def test_the_repositorys_configurations_load() -> None:
    for path in sorted(DEFAULT_PATH.parent.glob("*.toml")):
        if path.name != "calendar.toml":
            load_lifecycle_config(CommonSettings(), path)


def test_loaded_years_join_the_configuration(config_dir: Path) -> None:
    settings = settings_for(config_dir)
    assert calendar_file_path(settings) == config_dir / "calendar.toml"
    assert load_lifecycle_config(settings).calendar.years == []
    (config_dir / "calendar.toml").write_text(calendar_toml(arrangement_2027()), encoding="utf-8")
    assert load_lifecycle_config(settings).calendar.years == [arrangement_2027()]


def test_a_year_configured_twice_or_implausible_stops_the_start(config_dir: Path) -> None:
    settings = settings_for(config_dir)
    lifecycle = config_dir / "lifecycle.toml"
    original = lifecycle.read_text(encoding="utf-8")
    lifecycle.write_text(original + "\n[calendar]\nyears = [{ year = 2027 }]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lists no holidays"):
        load_lifecycle_config(settings)
    lifecycle.write_text(
        original + "\n[calendar]\n" + calendar_toml(arrangement_2027()).replace("[[years]]", "[[calendar.years]]"),
        encoding="utf-8",
    )
    assert load_lifecycle_config(settings).calendar.years == [arrangement_2027()]
    (config_dir / "calendar.toml").write_text(calendar_toml(arrangement_2027()), encoding="utf-8")
    with pytest.raises(ValueError, match="2027 configured both"):
        load_lifecycle_config(settings)


def test_a_running_process_reads_a_loaded_year_and_keeps_the_last_good_one(config_dir: Path) -> None:
    live = LiveLifecycleConfig(settings_for(config_dir))
    assert live().calendar.years == []
    calendar_file = config_dir / "calendar.toml"
    calendar_file.write_text(calendar_toml(arrangement_2027()), encoding="utf-8")
    assert live().calendar.years == [arrangement_2027()]
    calendar_file.write_text("[[years]]\nyear = 2027\n", encoding="utf-8")
    os.utime(calendar_file, ns=(1, 1))  # a change on a coarse clock must still be seen
    assert live().calendar.years == [arrangement_2027()]
