"""The public figures of the transparency page (`GET /v1/public/statistics`) on the real cases API: without a
token, each county's accepted, resolved and resolved-on-time complaints of the last complete quarter, equal to
the city office's statistics for that quarter, and nothing else.

The quarter is a past one, so its complaints are written straight into the ledger's table (as the benchmark
writes its cases), in a county of their own: the figures are then known exactly."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from deploy.stack import Stack
from services.cases import domain, periods
from services.cases.report_api import PUBLIC_FIGURES
from services.contracts.legal_time import CHINA_TZ
from tests.support.agencies import agency_clients


def quarter_before(day: date, quarters: int = 1) -> periods.Period:
    period = periods.period_containing("quarterly", day)
    for _ in range(quarters):
        period = periods.period_containing("quarterly", period.start - timedelta(days=1))
    return period


def write_resolved(
    stack: Stack, county: str, period: periods.Period, on_time: int, late: int, accepted_only: int = 0
) -> None:
    """Complaints of `county` accepted and closed within `period`: `on_time` in time, `late` overdue, and
    `accepted_only` accepted and still open."""
    middle = datetime.combine(period.start + timedelta(days=20), time(10), CHINA_TZ)
    rows: list[tuple[Any, ...]] = []
    for n, (overdue, closed) in enumerate(
        [(False, True)] * on_time + [(True, True)] * late + [(False, False)] * accepted_only
    ):
        complaint_id = f"TS-PUB{uuid.uuid4().hex[:10].upper()}"
        rows.append(
            (
                complaint_id,
                f"C-PUB{uuid.uuid4().hex[:10].upper()}",
                f"P-PUB{uuid.uuid4().hex[:10].upper()}",
                county,
                middle,
                middle + timedelta(days=1),
                "closed" if closed else "open",
                "done" if closed else "in_case",
                (middle + timedelta(days=10 + n)) if closed else None,
                overdue,
            )
        )
    with psycopg.connect(stack.postgres.database_url("anxin"), autocommit=True) as conn:
        conn.cursor().executemany(
            "INSERT INTO cases.complaints (complaint_id, case_id, process_case_id, county, amount_owed, "
            "workers_affected, submitted_at, decision, decided_at, status, stage, closed_at, overdue) "
            "VALUES (%s, %s, %s, %s, 5000, 2, %s, 'accept', %s, %s, %s, %s, %s)",
            rows,
        )


def county_row(rows: list[dict[str, Any]], county: str) -> dict[str, Any]:
    return next(r for r in rows if r["level"] == "county" and r["area"] == county)


@pytest.fixture(scope="module")
def cases_api(stack: Stack, agency_token: Callable[[str], str]) -> Iterator[Callable[[str | None], httpx.Client]]:
    stack.start_processes(["cases-api"], timeout=120)
    client = agency_clients(stack, agency_token)
    yield lambda token_of: client("cases-api", token_of)


def test_the_last_quarter_per_county_without_a_token_as_the_statistics_count_it(
    stack: Stack,
    cases_api: Callable[[str | None], httpx.Client],
) -> None:
    today = domain.legal_date(datetime.now(UTC))
    last = quarter_before(today)
    county = f"19{uuid.uuid4().int % 10_000:04d}"  # a county of this test's own: nothing else counted in it
    write_resolved(stack, county, last, on_time=2, late=1, accepted_only=1)

    public = cases_api(None).get("/v1/public/statistics")
    assert public.status_code == 200, public.text
    assert public.headers["cache-control"] == "public, max-age=60"
    body = public.json()
    assert body["label"] == last.label and body["start"] == last.start.isoformat()
    row = county_row(body["rows"], county)
    assert row == {
        "level": "county",
        "area": county,
        "accepted": 4,
        "resolved": 3,
        "resolved_on_time": 2,
        "on_time_rate": "0.6667",
    }
    # Only counts per area: no other figure, no case, no person.
    assert all(set(r) == {"level", "area", *PUBLIC_FIGURES} for r in body["rows"])

    # The same figures as the city office's statistics for that quarter.
    city = cases_api("city-office").get("/v1/statistics", params={"period": "quarterly", "label": last.label})
    assert city.status_code == 200, city.text
    full = county_row(city.json()["rows"], county)
    assert {f: full[f] for f in PUBLIC_FIGURES} == {f: row[f] for f in PUBLIC_FIGURES}

    # Another quarter by its label; a quarter not yet begun, or not a quarter, is refused.
    earlier = cases_api(None).get("/v1/public/statistics", params={"quarter": quarter_before(today, 2).label})
    assert earlier.status_code == 200 and earlier.json()["label"] == quarter_before(today, 2).label
    next_quarter = periods.period_containing("quarterly", periods.period_containing("quarterly", today).end)
    assert cases_api(None).get("/v1/public/statistics", params={"quarter": next_quarter.label}).status_code == 422
    assert cases_api(None).get("/v1/public/statistics", params={"quarter": "2026-Q5"}).status_code == 422
