"""The public holidays fixed by law, for a year whose official arrangement nobody has entered yet.

《全国年节及纪念日放假办法》 art. 2, as amended by State Council Decree 795 (in force 1 January 2025),
gives everyone these days off:

| holiday | days | when |
| --- | --- | --- |
| 元旦 | 1 | 1 January |
| 春节 | 4 | 除夕 (the last day of the twelfth lunar month) and 初一 to 初三 of the first |
| 清明节 | 1 | the day of the 清明 solar term |
| 劳动节 | 2 | 1 and 2 May |
| 端午节 | 1 | the fifth day of the fifth lunar month |
| 中秋节 | 1 | the fifteenth day of the eighth lunar month |
| 国庆节 | 3 | 1 to 3 October |

The lunar dates and the solar term come from `lunar-python`, computed for Beijing. What the State Council
adds each year (the days that join a holiday to its weekend, 调休, and the weekend days worked in exchange)
cannot be derived from the law, so a calendar built on these days alone stays provisional
(services/contracts/working_days.py). Before 2025 the law gave other days (three for 春节 without 除夕, one
for 劳动节): those years are in the calendar package, so no earlier rule is kept here.

Pure; the library is imported on first use, not on import.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any

# The first year of the rules above (State Council Decree 795).
FIRST_YEAR = 2025


def _solar_date(solar: Any) -> date:
    """A `lunar_python.Solar` (a day of the Gregorian calendar) as a date."""
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def spring_festival(year: int) -> date:
    """春节: the first day of the lunar year that begins in January or February of `year` (正月初一)."""
    from lunar_python import Lunar

    return _solar_date(Lunar.fromYmd(year, 1, 1).getSolar())


@functools.cache
def statutory_holidays(year: int) -> dict[date, str]:
    """The days off fixed by law in `year` (from 2025), each with its holiday's name."""
    if year < FIRST_YEAR:
        raise ValueError(f"the statutory holidays here follow the rules in force from {FIRST_YEAR}, not {year}")
    from lunar_python import Lunar

    days: dict[date, str] = {}

    def add(day: date, name: str) -> None:
        # Two holidays can fall on one day (中秋 on 1 October in 2020 and 2028): the first named keeps it.
        days.setdefault(day, name)

    add(date(year, 1, 1), "元旦")
    # The lunar year that begins in January or February of `year`: its 除夕 falls in `year` too (the first
    # day of a lunar year is never before 21 January).
    new_year = spring_festival(year)
    for offset in range(-1, 3):
        add(new_year + timedelta(days=offset), "春节")
    add(_solar_date(Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]), "清明节")
    add(date(year, 5, 1), "劳动节")
    add(date(year, 5, 2), "劳动节")
    add(_solar_date(Lunar.fromYmd(year, 5, 5).getSolar()), "端午节")
    add(_solar_date(Lunar.fromYmd(year, 8, 15).getSolar()), "中秋节")
    for day in (1, 2, 3):
        add(date(year, 10, day), "国庆节")
    return dict(sorted(days.items()))
