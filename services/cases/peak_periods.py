"""Peak periods (欠薪高发期): the weeks before the Spring Festival, when arrears pile up as projects settle
their year and workers go home, and the bureau reports daily instead of weekly.

The report the product grew from (../shared/seed/) has the bureau report daily "from 1 December to the
Spring Festival"; other peaks (the summer harvest, a local campaign) are added in the same setting. A period
is written `MM-DD..MM-DD` or `MM-DD..spring-festival`; it starts on its first day and ends the day before its
last (the Spring Festival itself, 正月初一, is a holiday without reports). A period whose end comes before its
start in the calendar runs across the new year. The Spring Festival's date comes from the lunar calendar
(`services.contracts.statutory_holidays`), so no yearly entry is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.contracts.statutory_holidays import spring_festival

SPRING_FESTIVAL = "spring-festival"


class PeakPeriodInvalid(ValueError):
    """A peak period setting that is not `MM-DD..MM-DD` or `MM-DD..spring-festival`."""


def _month_day(text: str, setting: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in text.split("-"))
        date(2024, month, day)  # a leap year, so that 02-29 is allowed
    except ValueError:
        raise PeakPeriodInvalid(f"{setting!r}: {text!r} is not a month and day such as 12-01") from None
    return month, day


@dataclass(frozen=True)
class PeakPeriod:
    start: tuple[int, int]  # month, day
    end: tuple[int, int] | None  # month, day; None: the Spring Festival

    @classmethod
    def parse(cls, setting: str) -> PeakPeriod:
        start, separator, end = setting.strip().partition("..")
        if not separator or not start or not end:
            raise PeakPeriodInvalid(f"{setting!r} is not MM-DD..MM-DD or MM-DD..{SPRING_FESTIVAL}")
        return cls(
            _month_day(start, setting), None if end.strip() == SPRING_FESTIVAL else _month_day(end.strip(), setting)
        )

    def _end_after(self, start: date) -> date:
        """The (exclusive) end of the period that starts on `start`."""
        if self.end is None:
            festival = spring_festival(start.year)
            return festival if festival > start else spring_festival(start.year + 1)
        end = date(start.year, *self.end)
        return end if end > start else date(start.year + 1, *self.end)

    def contains(self, day: date) -> bool:
        # The period that contains `day`, if any, started this year or last year.
        for year in (day.year, day.year - 1):
            try:
                start = date(year, *self.start)
            except ValueError:  # 02-29 in a common year
                continue
            if start <= day < self._end_after(start):
                return True
        return False


def parse_peak_periods(setting: str) -> list[PeakPeriod]:
    """The comma-separated periods of ANXIN_CASES_PEAK_PERIODS (empty: none)."""
    return [PeakPeriod.parse(part) for part in setting.split(",") if part.strip()]


def in_peak_period(day: date, periods: list[PeakPeriod]) -> bool:
    return any(period.contains(day) for period in periods)
