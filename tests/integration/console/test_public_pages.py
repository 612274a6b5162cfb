"""The console's public pages on the real stack, without signing in: the blacklist search, the published
major-violation lists and the transparency page, read from the sanctions and cases services' public routes.

A listing reaches `listed` only after its procedure's defence period and decision, and a quarter's list is
published once per quarter (tests/integration/sanctions walks both through the API); here the listings and the
lists are written straight into the sanctions store, in the states the procedure leaves them in, and the
transparency page's quarter is a past one whose complaints are written straight into the ledger (as
tests/integration/cases/test_public_statistics.py does) in a county of their own."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb
from selenium.webdriver.common.by import By

from deploy.engines import REPO_ROOT
from deploy.stack import Stack
from services.cases import domain, periods
from services.console.pages.public import rate_text
from tests.integration.cases.conftest import Agencies
from tests.integration.cases.test_public_statistics import quarter_before, write_resolved
from tests.support.axe import serious_violations
from tests.support.browser import PHONE, chromium
from tests.support.factories import credit_code, seed

SCREENSHOTS = REPO_ROOT / ".data" / "console-screenshots"  # not committed


@dataclass(frozen=True)
class Employer:
    name: str
    credit_code: str


def _employer(label: str) -> Employer:
    n = seed()
    return Employer(f"邯郸市公开查询{label}建筑劳务有限公司{n}", credit_code(n, series="PB"))


@dataclass(frozen=True)
class Published:
    listed: Employer  # on the blacklist (stage `listed`)
    in_defence: Employer  # a listing still in its defence period: not published
    major: Employer  # on a published quarter's list
    drafted: Employer  # on a drafted list, not approved: not published
    quarter: str  # the published list's quarter
    drafted_quarter: str  # the drafted list's


PDF = b"%PDF-1.4\n% a quarter's list\n%%EOF\n"


def _quarter() -> str:
    # A quarter no other test publishes (each quarter has one list).
    return f"20{40 + uuid.uuid4().int % 50}-Q{1 + uuid.uuid4().int % 4}"


@pytest.fixture(scope="module")
def published(stack: Stack) -> Published:
    stack.start_processes(["sanctions-api"], timeout=120)
    quarter, drafted_quarter = _quarter(), _quarter()
    while drafted_quarter == quarter:
        drafted_quarter = _quarter()
    data = Published(
        _employer("在列"), _employer("申辩期"), _employer("重大违法"), _employer("草稿"), quarter, drafted_quarter
    )
    today = date.today()
    with psycopg.connect(stack.postgres.database_url("anxin"), autocommit=True) as conn:
        for employer, stage in ((data.listed, "listed"), (data.in_defence, "defence")):
            listed = stage == "listed"
            conn.execute(
                "INSERT INTO sanctions.listings (listing_id, case_id, county, employer_ref, ground, basis, amount, "
                "stage, proposed_at, decision_number, listed_on, expires_on, published_at, employer_name, "
                "credit_code, listed) VALUES (%s, %s, '130402', %s, 'criminal_threshold', %s, 60000, %s, now(), "
                "%s, %s, %s, %s, %s, %s, %s)",
                (
                    f"L-PUB{uuid.uuid4().hex[:10].upper()}",
                    f"C-PUB{uuid.uuid4().hex[:10].upper()}",
                    f"E-{employer.credit_code}",
                    "12 名劳动者，未付合计 60000.00 元，达到 10 人以上、40000 元的标准",
                    stage,
                    "邯人社失信〔2026〕3号" if listed else None,
                    today if listed else None,
                    today + timedelta(days=3 * 365) if listed else None,
                    datetime.now(UTC) if listed else None,
                    employer.name,
                    employer.credit_code,
                    listed or None,
                ),
            )
        for employer, quarter, status in (
            (data.major, data.quarter, "published"),
            (data.drafted, drafted_quarter, "draft"),
        ):
            entry = {
                "case_id": f"C-PUB{uuid.uuid4().hex[:10].upper()}",
                "employer_name": employer.name,
                "credit_code": employer.credit_code,
                "project_name": f"{employer.name}安置房项目",
                "county": "130402",
                "violation": "拖欠 12 名劳动者工资共计 150000.00 元",
                "handling": "责令限期支付，已全部支付",
            }
            # Each list with its PDF (a drafted list's too, as if rendered already: the page must not offer it).
            document_id = f"D-PUB{uuid.uuid4().hex[:10].upper()}"
            conn.execute(
                "INSERT INTO sanctions.documents (document_id, kind, document_number, list_id, media_type, content, "
                "sha256) VALUES (%s, 'quarter_list_pdf', %s, %s, 'application/pdf', %s, %s)",
                (document_id, f"公布〔{quarter}〕1号", f"PL-{quarter}", PDF, hashlib.sha256(PDF).hexdigest()),
            )
            conn.execute(
                "INSERT INTO sanctions.publication_lists (list_id, quarter, status, entries, approved_by, "
                "published_at, pdf_document_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    f"PL-{quarter}",
                    quarter,
                    status,
                    Jsonb([entry]),
                    "city-office" if status == "published" else None,
                    datetime.now(UTC) if status == "published" else None,
                    document_id,
                ),
            )
    return data


@pytest.fixture
def visitor(console: str) -> Iterator[httpx.Client]:
    """A browser without JavaScript that has not signed in."""
    with httpx.Client(base_url=console, timeout=30, follow_redirects=False) as client:
        yield client


def _results(html: str) -> str:
    """The rows the page found (its form, heading and message repeat what was asked)."""
    found = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return found.group(1) if found else ""


def test_the_sign_in_page_links_the_public_pages(visitor: httpx.Client) -> None:
    sign_in = visitor.get("/sign-in")
    assert sign_in.status_code == 200
    for href in ("/public/blacklist", "/public/major-violations", "/public/transparency"):
        assert f'href="{href}"' in sign_in.text


def test_a_published_listing_is_found_by_name_and_by_credit_code_and_an_unpublished_one_is_not(
    visitor: httpx.Client,
    published: Published,
) -> None:
    by_name = visitor.get("/public/blacklist", params={"q": published.listed.name[-12:]})
    assert by_name.status_code == 200, by_name.text
    assert by_name.headers["cache-control"] == "public, max-age=60"
    assert published.listed.name in by_name.text and published.listed.credit_code in _results(by_name.text)
    assert "邯人社失信〔2026〕3号" in by_name.text and "拒不支付劳动报酬" in by_name.text
    by_code = visitor.get("/public/blacklist", params={"q": published.listed.credit_code.lower()})
    assert by_code.status_code == 200 and published.listed.name in by_code.text

    for q in (published.in_defence.name, published.in_defence.credit_code):
        page = visitor.get("/public/blacklist", params={"q": q})
        assert page.status_code == 200 and published.in_defence.name not in _results(page.text)
        assert "未查到" in page.text
    # The whole current list, unsearched, has the listed employer and not the one in its defence period.
    everything = visitor.get("/public/blacklist")
    assert everything.status_code == 200 and published.listed.name in everything.text
    assert published.in_defence.name not in everything.text


def test_the_published_major_violations_are_found_and_a_drafted_list_is_not(
    visitor: httpx.Client,
    published: Published,
) -> None:
    for q in (published.major.name[-12:], published.major.credit_code):
        page = visitor.get("/public/major-violations", params={"q": q})
        assert page.status_code == 200, page.text
        assert page.headers["cache-control"] == "public, max-age=60"
        assert published.major.name in _results(page.text) and "拖欠 12 名劳动者工资共计 150000.00 元" in page.text
        assert published.quarter in page.text
    by_quarter = visitor.get("/public/major-violations", params={"quarter": published.quarter})
    assert published.major.name in by_quarter.text
    assert f'href="/public/major-violations?quarter={published.quarter}"' in by_quarter.text
    # The published list's PDF, through the console; a drafted list's is not found.
    pdf = visitor.get(f"/public/major-violations/PL-{published.quarter}.pdf")
    assert pdf.status_code == 200 and pdf.content == PDF and pdf.headers["content-type"] == "application/pdf"
    assert f'href="/public/major-violations/PL-{published.quarter}.pdf"' in by_quarter.text
    assert visitor.get(f"/public/major-violations/PL-{published.drafted_quarter}.pdf").status_code == 404
    assert visitor.get("/public/major-violations/PL-none.pdf").status_code == 404
    for q in (published.drafted.name, published.drafted.credit_code):
        page = visitor.get("/public/major-violations", params={"q": q})
        assert page.status_code == 200 and published.drafted.name not in _results(page.text)
        assert "未查到" in page.text


def _rate_cell(html: str, area: str) -> list[str]:
    row = re.search(rf'<tr[^>]*id="area-{area}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {area}"
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def test_the_transparency_page_shows_each_countys_rates_as_the_statistics_count_them(
    stack: Stack,
    visitor: httpx.Client,
    agencies: Agencies,
) -> None:
    today = domain.legal_date(datetime.now(UTC))
    # Two quarters back: the cases test counts the last one, and the API keeps its answer a minute.
    quarter = quarter_before(today, 2)
    county = f"18{uuid.uuid4().int % 100:02d}{1 + uuid.uuid4().int % 99:02d}"  # never its city's code (…00)
    write_resolved(stack, county, quarter, on_time=2, late=1)

    page = visitor.get("/public/transparency", params={"quarter": quarter.label})
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "public, max-age=60"
    statistics = agencies.city.get("/v1/statistics", params={"period": "quarterly", "label": quarter.label}).json()
    row = next(r for r in statistics["rows"] if r["level"] == "county" and r["area"] == county)
    cells = _rate_cell(page.text, county)
    assert cells == [
        str(row["accepted"]),
        str(row["resolved"]),
        str(row["resolved_on_time"]),
        rate_text(row["on_time_rate"]),
    ]
    assert cells == ["3", "3", "2", "66.67%"]
    assert f"{quarter.start} 至 {quarter.end - timedelta(days=1)}" in page.text

    # Without a quarter, the last complete one.
    default = visitor.get("/public/transparency")
    assert default.status_code == 200 and quarter_before(today).label in default.text
    # A quarter not begun yet says so.
    ahead = periods.period_containing("quarterly", periods.period_containing("quarterly", today).end)
    assert visitor.get("/public/transparency", params={"quarter": ahead.label}).status_code == 422


def test_the_public_pages_have_no_serious_accessibility_violation(
    console: str,
    published: Published,
) -> None:
    with chromium(PHONE) as browser:
        browser.set_page_load_timeout(60)
        for path in (
            f"/public/blacklist?q={published.listed.credit_code}",
            f"/public/major-violations?quarter={published.quarter}",
            "/public/transparency",
            "/sign-in",
        ):
            browser.get(f"{console}{path}")
            assert browser.find_element(By.TAG_NAME, "h1").text, path
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(
                str(SCREENSHOTS / f"{path.split('?')[0].strip('/').replace('/', '-')}-{PHONE[0]}.png")
            )
            assert serious_violations(browser) == [], path
