"""The report's per-day summary (services/cases/report_days.py, migration 0009_report_days) against the plain
queries, on rows the real ledger projection writes into a scratch schema of the test stack's PostgreSQL:
complaints received, accepted and closed on past days and today, cases verified, paid and closed, then late
rows dated in days already summarized. The figures must be the same at every step."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from services.cases import domain, periods, report_days, report_figures
from services.cases.projection import LedgerProjection
from services.common.migrations import apply_migrations
from services.common.settings import CommonSettings
from services.contracts.cases_events import AcceptanceDecided, ClosureRecorded, PaymentRecorded, VerificationRecorded
from services.contracts.events import EventEnvelope, EventPayload
from services.contracts.legal_time import CHINA_TZ
from services.contracts.process_reports import ProcessSnapshot
from tests.support.factories import complaint_submitted, seed

MIGRATIONS = Path(domain.__file__).parent / "migrations"
COUNTIES = ("130402", "130403")


def at(day: date, hour: int) -> datetime:
    """An instant of a legal day (China Standard Time), as the service dates its rows."""
    return datetime.combine(day, time(hour), CHINA_TZ)


class Ledger:
    """The projection applied to hand-made events, as the cases worker applies them from Kafka."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.project = LedgerProjection()

    def apply(self, payload: EventPayload, subject: str, when: datetime) -> None:
        with self.conn.transaction():
            self.project(self.conn, EventEnvelope.wrap(payload, subject=subject, producer="test", occurred_at=when))

    def complaint(self, county: str, when: datetime, *, employer: str, workers: int = 2) -> dict[str, Any]:
        cid = f"TS-{uuid.uuid4().hex[:12].upper()}"
        self.apply(
            complaint_submitted(
                cid, employer=employer, project=f"{employer}项目", submitted_at=when, county=county, workers=workers
            ),
            cid,
            when,
        )
        row = self.conn.execute(
            "SELECT complaint_id, case_id, process_case_id, county FROM complaints WHERE complaint_id = %s", (cid,)
        ).fetchone()
        assert row is not None
        return dict(row)

    def _common(self, c: dict[str, Any]) -> dict[str, Any]:
        return {
            "action_id": f"A-{uuid.uuid4().hex[:16].upper()}",
            "case_id": c["case_id"],
            "county": c["county"],
            "actor": f"inspector-{c['county']}",
        }

    def accept(self, c: dict[str, Any], when: datetime) -> None:
        self.apply(
            AcceptanceDecided(**self._common(c), complaint_id=c["complaint_id"], decision="accept"), c["case_id"], when
        )

    def verify(self, c: dict[str, Any], when: datetime, amount: str, workers: int | None) -> None:
        self.apply(
            VerificationRecorded(
                **self._common(c),
                process_case_id=c["process_case_id"],
                outcome="wage_arrears",
                classification="wage_arrears",
                confirmed_amount=Decimal(amount),
                confirmed_workers=workers,
            ),
            c["case_id"],
            when,
        )

    def pay(self, c: dict[str, Any], when: datetime, amount: str) -> None:
        self.apply(
            PaymentRecorded(
                **self._common(c),
                process_case_id=c["process_case_id"],
                payment_id=f"P-{uuid.uuid4().hex[:8]}",
                amount=Decimal(amount),
            ),
            c["case_id"],
            when,
        )

    def close(self, c: dict[str, Any], when: datetime, reason: str = "paid_in_full") -> None:
        snapshot = ProcessSnapshot(
            workflow_id=f"case-{c['process_case_id']}", stage="closed", status="closed", closure_reason=reason
        )
        self.apply(
            ClosureRecorded(**self._common(c), process_case_id=c["process_case_id"], process=snapshot, reason=reason),
            c["case_id"],
            when,
        )


@pytest.fixture
def schema(settings: CommonSettings) -> Iterator[str]:
    name = f"t_report_{uuid.uuid4().hex[:10]}"
    apply_migrations(settings.database_url, name, MIGRATIONS)
    yield name
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def _rows(facts: report_figures.ReportFacts, county: str | None) -> list[dict[str, Any]]:
    by_county = report_figures.compute_figures(facts)
    if county is not None:
        by_county.setdefault(county, report_figures.Figures())
    return report_figures.report_rows(by_county)


async def _both(url: str, schema: str, period: periods.Period) -> list[tuple[Any, Any]]:
    """(summary, plain) figures for the city and each county."""
    pairs = []
    async with await psycopg.AsyncConnection.connect(url, row_factory=dict_row, autocommit=True) as conn:
        await conn.execute(f'SET search_path TO "{schema}"')
        for county in (None, *COUNTIES):
            fast = await report_days.report_facts(conn, period, county)
            plain = await report_days.scanned_facts(conn, period, county)
            pairs.append((_rows(fast, county), _rows(plain, county)))
    return pairs


def _summarized(conn: psycopg.Connection[Any]) -> set[date]:
    return {r["day"] for r in conn.execute("SELECT day FROM report_days").fetchall()}


async def test_the_summary_gives_the_plain_queries_figures_with_late_rows_and_today(
    settings: CommonSettings, schema: str
) -> None:
    url = settings.database_url
    today = datetime.now(UTC).astimezone(CHINA_TZ).date()
    week = periods.period_containing("weekly", today - timedelta(days=7))  # over: every day summarized
    days = [week.start + timedelta(days=i) for i in range(7)]
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        ledger = Ledger(conn)
        n = seed()
        # A case paid in full over the week: two complaints, accepted, verified, paid, closed.
        first = ledger.complaint(COUNTIES[0], at(days[0], 9), employer=f"甲建筑{n}", workers=2)
        second = ledger.complaint(COUNTIES[0], at(days[1], 23), employer=f"甲建筑{n}", workers=1)
        assert first["process_case_id"] == second["process_case_id"]
        ledger.accept(first, at(days[1], 10))
        ledger.accept(second, at(days[2], 0))
        ledger.verify(first, at(days[3], 11), "18000.00", 3)
        ledger.pay(first, at(days[4], 15), "18000.00")
        ledger.close(first, at(days[4], 16))
        # A case whose workers are those of its accepted complaints (no confirmed figure), in the other county.
        other = ledger.complaint(COUNTIES[1], at(days[2], 8), employer=f"乙劳务{n}", workers=4)
        ledger.accept(other, at(days[2], 9))
        ledger.verify(other, at(days[3], 9), "9000.50", None)
        ledger.pay(other, at(days[5], 10), "9000.50")
        ledger.close(other, at(days[6], 23))
        # One received only, late in the last day of the week.
        ledger.complaint(COUNTIES[1], at(days[6], 23), employer=f"丙公司{n}")

        before = await _both(url, schema, week)
        for fast, plain in before:
            assert fast == plain
        assert set(days) <= _summarized(conn)
        city = next(r for r in before[0][0] if r["level"] == "city")
        assert (city["clues_received"], city["accepted"], city["confirmed_arrears"], city["resolved"]) == (4, 3, 2, 3)
        assert (city["amount_recovered"], city["workers_helped"]) == ("27000.50", 7)

        # Late rows dated in summarized days: a complaint received and accepted, another case verified and
        # closed with no payment, and a complaint of the paid case becoming overdue (resolved, not on time).
        late = ledger.complaint(COUNTIES[0], at(days[3], 12), employer=f"丁建筑{n}", workers=5)
        assert days[3] not in _summarized(conn)  # the write forgot the day it is dated in
        ledger.accept(late, at(days[5], 8))
        ledger.verify(late, at(days[5], 9), "5000.00", 5)
        ledger.close(late, at(days[6], 1), reason="already_paid")
        conn.execute(
            "UPDATE processes SET investigation_overdue = true WHERE process_case_id = %s", (first["process_case_id"],)
        )
        assert days[4] not in _summarized(conn)  # where the paid case's complaints were resolved

        after = await _both(url, schema, week)
        for fast, plain in after:
            assert fast == plain
        assert after != before
        city = next(r for r in after[0][0] if r["level"] == "city")
        assert (city["clues_received"], city["accepted"], city["resolved"], city["resolved_on_time"]) == (5, 4, 4, 2)
        assert city["workers_helped"] == 12

        # Today is read live, beside the summarized days of the same week.
        this_week = periods.period_containing("weekly", today)
        ledger.complaint(COUNTIES[0], datetime.now(UTC), employer=f"戊公司{n}")
        current = await _both(url, schema, this_week)
        for fast, plain in current:
            assert fast == plain
        assert today not in _summarized(conn)
        assert next(r for r in current[0][0] if r["level"] == "city")["clues_received"] >= 1


async def test_a_report_summarizing_a_day_waits_for_a_write_to_it_in_flight_and_counts_it(
    settings: CommonSettings, schema: str
) -> None:
    url = settings.database_url
    today = datetime.now(UTC).astimezone(CHINA_TZ).date()
    week = periods.period_containing("weekly", today - timedelta(days=14))
    day = week.start + timedelta(days=2)
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        ledger = Ledger(conn)
        n = seed()
        ledger.complaint(COUNTIES[0], at(day, 10), employer=f"己建筑{n}")
        assert day not in _summarized(conn)
        with conn.transaction():
            # A late row of a day no report has summarized yet, its transaction still open: a report must
            # not summarize the day without it (and keep that summary once the write commits).
            ledger.complaint(COUNTIES[0], at(day, 11), employer=f"庚建筑{n}")
            report = asyncio.create_task(_both(url, schema, week))
            await asyncio.sleep(2)
            assert not report.done()
        during = await report
        assert day in _summarized(conn)
    for fast, plain in during:
        assert fast == plain
    assert next(r for r in during[0][0] if r["level"] == "city")["clues_received"] == 2
    for fast, plain in await _both(url, schema, week):
        assert fast == plain
