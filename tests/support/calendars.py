"""A year's calendar shaped like the State Council's arrangements — each statutory holiday joined to its
weekend, the bridging weekdays paid back on weekends — for tests that need an "official" 2027 before the
real one is announced. It is not the real arrangement and must never be loaded into a deployment."""

from __future__ import annotations

from datetime import date, timedelta

from services.contracts.lifecycle import CalendarYear


def _run(first: date, days: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(days)]


def arrangement_2027() -> CalendarYear:
    holidays = [
        *_run(date(2027, 1, 1), 3),  # 元旦, Friday to Sunday
        *_run(date(2027, 2, 5), 8),  # 春节, 除夕 (Friday) to the next Friday
        *_run(date(2027, 4, 3), 3),  # 清明, Saturday to Monday
        *_run(date(2027, 5, 1), 5),  # 劳动节, Saturday to Wednesday
        date(2027, 6, 9),  # 端午, a Wednesday
        date(2027, 9, 15),  # 中秋, a Wednesday
        *_run(date(2027, 10, 1), 7),  # 国庆, Friday to Thursday
    ]
    make_up = [
        date(2027, 1, 31),
        date(2027, 2, 20),
        date(2027, 4, 25),
        date(2027, 5, 8),
        date(2027, 9, 26),
        date(2027, 10, 9),
    ]
    return CalendarYear(year=2027, holidays=holidays, make_up_workdays=make_up)


def calendar_toml(*years: CalendarYear) -> str:
    """The years as a file for `anxin calendar load` (`[[years]]` tables, TOML dates)."""
    blocks = []
    for entry in years:
        blocks.append(
            "\n".join(
                [
                    "[[years]]",
                    f"year = {entry.year}",
                    f"holidays = [{', '.join(d.isoformat() for d in entry.holidays)}]",
                    f"make_up_workdays = [{', '.join(d.isoformat() for d in entry.make_up_workdays)}]",
                ]
            )
        )
    return "\n\n".join(blocks) + "\n"
