"""Legal time: China Standard Time, in which every legal date and period is counted.

China Standard Time is UTC+8 with no daylight saving (since 1991), so a fixed offset is exact for every
date this project handles, and needs no time-zone database inside the workflow sandbox. The one place the
project defines it; services, workflows and tools import it from here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")


def legal_date(instant: datetime) -> date:
    """The China Standard Time date of an instant."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(CHINA_TZ).date()


def end_of_day(day: date) -> datetime:
    """The instant a period whose last day is `day` expires: midnight after it, China Standard Time."""
    return datetime.combine(day + timedelta(days=1), time(0), CHINA_TZ)
