"""The reports' periods (the cases service's rules, `domain.py`): a day, an ISO week or a quarter of the China
date, its label (2026-11-28, 2026-W48, 2026-Q4) and its bounds, the period containing a day and the one
before it. The figures counted over a period are in `report_figures.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from services.contracts.legal_time import CHINA_TZ

PeriodKind = Literal["daily", "weekly", "quarterly"]


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: date  # inclusive
    end: date  # exclusive

    @property
    def label(self) -> str:
        if self.kind == "quarterly":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "weekly":
            iso = self.start.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        return self.start.isoformat()

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as instants: whole legal days in China Standard Time."""
        return (
            datetime.combine(self.start, datetime.min.time(), CHINA_TZ),
            datetime.combine(self.end, datetime.min.time(), CHINA_TZ),
        )


def period_containing(kind: PeriodKind, day: date) -> Period:
    if kind == "daily":
        return Period(kind, day, day + timedelta(days=1))
    if kind == "weekly":
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=7))
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return Period(kind, start, end)


def previous_period(kind: PeriodKind, day: date) -> Period:
    """The last complete period before `day` (what a schedule firing on `day` reports)."""
    current = period_containing(kind, day)
    return period_containing(kind, current.start - timedelta(days=1))


def parse_period(kind: PeriodKind, label: str) -> Period:
    """'2026-11-28' (daily), '2026-W48' (weekly) or '2026-Q4' (quarterly)."""
    try:
        if kind == "quarterly":
            year, quarter = label.split("-Q")
            q = int(quarter)
            if not 1 <= q <= 4:
                raise ValueError
            return period_containing(kind, date(int(year), 3 * q - 2, 1))
        if kind == "weekly":
            year, week = label.split("-W")
            return period_containing(kind, date.fromisocalendar(int(year), int(week), 1))
        return period_containing(kind, date.fromisoformat(label))
    except ValueError:
        examples = {"daily": "2026-11-28", "weekly": "2026-W48", "quarterly": "2026-Q4"}
        raise ValueError(f"period {label!r} is not a {kind} period such as {examples[kind]}") from None
