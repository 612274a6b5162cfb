"""The facts the reports count, per county, from the per-day summary of past days and live for the rest.

A report's period is whole legal days (`periods.Period.bounds`). Each day that is over is counted once, by
`DAILY_FACTS` (the seven questions of the figures, grouped by day as well), and kept in `report_days` /
`report_day_facts` (migration 0009_report_days); a day not over yet is always counted live. The migration's
triggers remove a day's summary whenever a row counted in it, or one those rows depend on, is written, so a
summary is exact or absent, never stale. `scanned_facts` asks the same questions of the rows directly: it is
what the summary must equal (tests/integration/cases/test_report_days.py, `make bench-scale`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from psycopg import AsyncConnection

from services.cases import periods, report_figures
from services.contracts.legal_time import CHINA_TZ

Conn = AsyncConnection[Any]

# The advisory lock that orders summarizing against writers (the triggers take it shared): 0009_report_days.
REPORT_DAYS_LOCK = 7305

# The figures' questions, one row per (day, fact, county, detail); {scope} narrows to one county.
DAILY_FACTS = """
SELECT report_day(submitted_at) AS day, 'received' AS fact, county, '' AS detail, count(*)::numeric AS value
FROM complaints WHERE submitted_at >= %(start)s AND submitted_at < %(end)s{scope} GROUP BY 1, 3
UNION ALL
SELECT report_day(decided_at), 'accepted', county, '', count(*) FROM complaints
WHERE decision = 'accept' AND decided_at >= %(start)s AND decided_at < %(end)s{scope} GROUP BY 1, 3
UNION ALL
SELECT report_day(verified_at), 'confirmed', county, '', count(*) FROM processes
WHERE outcome = 'wage_arrears' AND verified_at >= %(start)s AND verified_at < %(end)s{scope} GROUP BY 1, 3
UNION ALL
SELECT report_day(c.closed_at), 'resolved', c.county,
       (NOT (c.overdue OR coalesce(p.investigation_overdue, false)))::text, count(*)
FROM complaints c LEFT JOIN processes p ON p.process_case_id = c.process_case_id
WHERE c.closed_at >= %(start)s AND c.closed_at < %(end)s{c_scope} GROUP BY 1, 3, 4
UNION ALL
SELECT report_day(y.recorded_at), 'recovered', p.county, '', sum(y.amount)
FROM payments y JOIN processes p ON p.process_case_id = y.process_case_id
WHERE y.recorded_at >= %(start)s AND y.recorded_at < %(end)s{p_scope} GROUP BY 1, 3
UNION ALL
SELECT report_day(p.closed_at), 'helped', p.county, '',
       sum(coalesce(p.workers_verified, (SELECT sum(c.workers_affected) FROM complaints c
                                         WHERE c.process_case_id = p.process_case_id AND c.decision = 'accept'), 0))
FROM processes p
WHERE p.closure_reason IN ('paid_in_full', 'already_paid') AND p.closed_at >= %(start)s AND p.closed_at < %(end)s
      {p_scope} GROUP BY 1, 3
UNION ALL
SELECT report_day(at), 'case_fact', county, kind, count(*) FROM case_facts
WHERE at >= %(start)s AND at < %(end)s{scope} GROUP BY 1, 3, 4
"""


def _daily_facts(county: str | None) -> str:
    if county is None:
        return DAILY_FACTS.format(scope="", c_scope="", p_scope="")
    return DAILY_FACTS.format(
        scope=" AND county = %(county)s", c_scope=" AND c.county = %(county)s", p_scope=" AND p.county = %(county)s"
    )


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), CHINA_TZ)


def _add(facts: report_figures.ReportFacts, fact: str, county: str, detail: str, value: Any) -> None:
    if fact == "received":
        facts.received[county] += int(value)
    elif fact == "accepted":
        facts.accepted[county] += int(value)
    elif fact == "confirmed":
        facts.confirmed[county] += int(value)
    elif fact == "resolved":
        facts.resolved[(county, detail == "true")] += int(value)
    elif fact == "recovered":
        facts.recovered[county] = facts.recovered.get(county, 0) + value
    elif fact == "helped":
        facts.helped[county] += int(value)
    elif fact == "case_fact":
        facts.facts[(county, detail)] += int(value)


async def _summarize(conn: Conn, days: list[date]) -> None:
    """Count the given past days for every county and keep them, unless another report just did."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (REPORT_DAYS_LOCK,))
        cur = await conn.execute(
            "SELECT coalesce(array_agg(d ORDER BY d), '{}') AS days FROM unnest(%s::date[]) d "
            "WHERE NOT EXISTS (SELECT 1 FROM report_days r WHERE r.day = d)",
            (days,),
        )
        row = await cur.fetchone()
        still: list[date] = list(row["days"]) if row else []
        if not still:
            return
        await conn.execute("INSERT INTO report_days (day) SELECT unnest(%s::date[])", (still,))
        await conn.execute(
            "INSERT INTO report_day_facts (day, fact, county, detail, value) "
            f"SELECT day, fact, county, detail, value FROM ({_daily_facts(None)}) f WHERE day = ANY(%(days)s)",
            {"start": _instant(still[0]), "end": _instant(still[-1] + timedelta(days=1)), "days": still},
        )


async def report_facts(conn: Conn, period: periods.Period, county: str | None = None) -> report_figures.ReportFacts:
    """Everything dated within the period that the figures count, per county: past days from their summary
    (counted now if they have none), today and later days live."""
    cur = await conn.execute(
        "SELECT report_day(now()) AS today, coalesce(array_agg(d::date ORDER BY d) "
        "FILTER (WHERE d::date < report_day(now()) AND r.day IS NULL), '{}') AS missing "
        "FROM generate_series(%s::date::timestamp, (%s::date - 1)::timestamp, interval '1 day') d "
        "LEFT JOIN report_days r ON r.day = d::date",
        (period.start, period.end),
    )
    row = await cur.fetchone()
    assert row is not None
    today: date = row["today"]
    if row["missing"]:
        await _summarize(conn, list(row["missing"]))
    facts = report_figures.ReportFacts()
    past_end = min(period.end, today)
    if period.start < past_end:
        scope = "" if county is None else " AND county = %(county)s"
        cur = await conn.execute(
            "SELECT fact, county, detail, sum(value) AS value FROM report_day_facts "
            f"WHERE day >= %(start)s AND day < %(end)s{scope} GROUP BY 1, 2, 3",
            {"start": period.start, "end": past_end, "county": county},
        )
        for r in await cur.fetchall():
            _add(facts, r["fact"], r["county"], r["detail"], r["value"])
    live_start = max(period.start, today)
    if live_start < period.end:
        cur = await conn.execute(
            f"SELECT fact, county, detail, sum(value) AS value FROM ({_daily_facts(county)}) f GROUP BY 1, 2, 3",
            {"start": _instant(live_start), "end": _instant(period.end), "county": county},
        )
        for r in await cur.fetchall():
            _add(facts, r["fact"], r["county"], r["detail"], r["value"])
    return facts


async def scanned_facts(conn: Conn, period: periods.Period, county: str | None = None) -> report_figures.ReportFacts:
    """The same facts asked of the rows directly, one grouped question per figure: what the summary equals."""
    start, end = period.bounds()
    scope = "" if county is None else " AND county = %s"
    extra: tuple[Any, ...] = () if county is None else (county,)
    facts = report_figures.ReportFacts()

    async def grouped(query: str) -> list[Any]:
        cur = await conn.execute(query, (start, end, *extra))
        return await cur.fetchall()

    for r in await grouped(
        f"SELECT county, count(*) AS n FROM complaints WHERE submitted_at >= %s AND submitted_at < %s{scope} "
        "GROUP BY county"
    ):
        facts.received[r["county"]] = r["n"]
    for r in await grouped(
        f"SELECT county, count(*) AS n FROM complaints WHERE decision = 'accept' AND decided_at >= %s "
        f"AND decided_at < %s{scope} GROUP BY county"
    ):
        facts.accepted[r["county"]] = r["n"]
    for r in await grouped(
        "SELECT county, count(*) AS n FROM processes WHERE outcome = 'wage_arrears' AND verified_at >= %s "
        f"AND verified_at < %s{scope} GROUP BY county"
    ):
        facts.confirmed[r["county"]] = r["n"]
    for r in await grouped(
        "SELECT c.county, NOT (c.overdue OR coalesce(p.investigation_overdue, false)) AS on_time, count(*) AS n "
        "FROM complaints c LEFT JOIN processes p ON p.process_case_id = c.process_case_id "
        f"WHERE c.closed_at >= %s AND c.closed_at < %s{scope.replace('county', 'c.county')} GROUP BY 1, 2"
    ):
        facts.resolved[(r["county"], r["on_time"])] = r["n"]
    for r in await grouped(
        "SELECT p.county, sum(y.amount) AS amount FROM payments y "
        "JOIN processes p ON p.process_case_id = y.process_case_id "
        f"WHERE y.recorded_at >= %s AND y.recorded_at < %s{scope.replace('county', 'p.county')} GROUP BY 1"
    ):
        facts.recovered[r["county"]] = r["amount"]
    for r in await grouped(
        "SELECT p.county, sum(coalesce(p.workers_verified, (SELECT sum(c.workers_affected) FROM complaints c "
        "WHERE c.process_case_id = p.process_case_id AND c.decision = 'accept'), 0)) AS workers FROM processes p "
        "WHERE p.closure_reason IN ('paid_in_full', 'already_paid') AND p.closed_at >= %s AND p.closed_at < %s"
        f"{scope.replace('county', 'p.county')} GROUP BY 1"
    ):
        facts.helped[r["county"]] = int(r["workers"])
    for r in await grouped(
        f"SELECT county, kind, count(*) AS n FROM case_facts WHERE at >= %s AND at < %s{scope} GROUP BY 1, 2"
    ):
        facts.facts[(r["county"], r["kind"])] = r["n"]
    return facts
