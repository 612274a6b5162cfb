"""Statistics and reports on the real stack, checked against a known set of cases in one county
(复兴区 130404, used by no other test): JSON, CSV, the chart, and the report workflow on `anxin-cases`
that the weekly and quarterly schedules start."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from temporalio.client import Client

from services.cases import domain, periods
from services.cases.peak_periods import in_peak_period
from services.cases.report_workflow import REPORT_WORKFLOW_TYPE, ReportRequest
from services.cases.settings import CasesSettings
from services.cases.worker import PEAK_DAILY_SCHEDULE_ID, QUARTERLY_SCHEDULE_ID, WEEKLY_SCHEDULE_ID
from services.common.exports import XLSX_MEDIA_TYPE
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.legal_time import CHINA_TZ
from services.contracts.lifecycle import TaskQueues
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.agencies import wait_for
from tests.support.factories import seed

COUNTY = "130404"
EXPECTED = {
    "clues_received": 5,
    "accepted": 3,
    "confirmed_arrears": 1,
    "resolved": 4,
    "resolved_on_time": 4,
    "on_time_rate": "1.0000",
    "amount_recovered": "18000.00",
    "workers_helped": 3,
    "handoffs_overdue": 0,
    "criminal_referrals": 0,
    "blacklist_entries": 0,
}


@pytest.fixture(scope="module")
def seeded(agencies: Agencies) -> dict[str, str]:
    """Five complaints in 130404: one arrears case paid in full (two complaints, 3 workers, ¥18,000),
    one unfounded, one rejected, one still awaiting acceptance."""
    a = agencies
    paid = seed()
    first, paid_case = a.accepted_case(complaint_body(paid, county=COUNTY, amount_owed="12000.00", workers_affected=2))
    second = a.file(complaint_body(paid, county=COUNTY, amount_owed="8000.00", workers_affected=1))
    a.in_ledger(second)
    assert a.act(a.city, f"/v1/complaints/{second}/acceptance", {"decision": "accept"}).status_code == 200
    a.case_until(paid_case, lambda c: all(x["decision"] == "accept" for x in c["complaints"]), "both accepted")
    assert (
        a.act(
            a.city,
            f"/v1/cases/{paid_case}/verification",
            {"outcome": "wage_arrears", "confirmed_amount": "18000.00", "confirmed_workers": 3},
        ).status_code
        == 200
    )
    assert (
        a.act(
            a.city,
            f"/v1/cases/{paid_case}/service",
            {"method": "in_person", "evidence": [{"kind": "receipt", "ref": "ev-r"}]},
        ).status_code
        == 200
    )
    assert (
        a.act(
            a.city,
            f"/v1/cases/{paid_case}/payments",
            {"payment_id": "P-ALL", "amount": "18000.00", "evidence": [{"kind": "bank_record", "ref": "ev-b"}]},
        ).status_code
        == 200
    )

    _, unfounded_case = a.accepted_case(complaint_body(seed(), county=COUNTY))
    assert a.act(a.city, f"/v1/cases/{unfounded_case}/verification", {"outcome": "unfounded"}).status_code == 200

    rejected = a.file(complaint_body(seed(), county=COUNTY))
    a.in_ledger(rejected)
    assert (
        a.act(
            a.city,
            f"/v1/complaints/{rejected}/acceptance",
            {"decision": "reject", "reason": "other", "explanation": "重复投诉已另案处理"},
        ).status_code
        == 200
    )
    waiting = a.file(complaint_body(seed(), county=COUNTY))
    a.in_ledger(waiting)

    for case_id in (paid_case, unfounded_case):
        a.case_until(case_id, lambda c: c["status"] == "closed", f"{case_id} closed")
    a.case_until(a.in_ledger(rejected)["case_id"], lambda c: c["status"] == "closed", "the rejected complaint closed")
    return {"paid_case": paid_case, "first": first}


def _today() -> datetime:
    return datetime.now(UTC)


def _row(rows: list[dict[str, Any]], level: str, area: str) -> dict[str, Any]:
    return next(r for r in rows if r["level"] == level and r["area"] == area)


def test_the_queue_exports_its_filtered_cases_as_a_workbook(agencies: Agencies, seeded: dict[str, str]) -> None:
    a = agencies
    exported = a.city.get("/v1/cases.xlsx", params={"county": COUNTY, "sort": "received_at"})
    assert exported.status_code == 200 and exported.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "anxin-cases.xlsx" in exported.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet is not None
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0][:3] == ["case_id", "county", "employer_name"] and table[1][0] == "案件编号"
    # The list's filter and order: the seeded county's cases, as `GET /v1/cases` pages them.
    listed = a.city.get("/v1/cases", params={"county": COUNTY, "sort": "received_at", "limit": 200}).json()
    assert listed["next_cursor"] is None and listed["items"]
    assert [r[0] for r in table[2:]] == [c["case_id"] for c in listed["items"]]
    assert {r[1] for r in table[2:]} == {COUNTY}
    # Another county's inspector asking for this county gets the headers and nothing else.
    other = a.inspector.get("/v1/cases.xlsx", params={"county": COUNTY})
    assert len(list(load_workbook(io.BytesIO(other.content)).active.iter_rows())) == 2  # type: ignore[union-attr]


def test_figures_by_county_and_city_for_each_period(agencies: Agencies, seeded: dict[str, str]) -> None:
    a = agencies
    today = domain.legal_date(_today())
    for kind in ("daily", "weekly", "quarterly"):
        label = periods.period_containing(kind, today).label
        response = a.city.get("/v1/statistics", params={"period": kind, "label": label})
        assert response.status_code == 200, response.text
        rows = response.json()["rows"]
        county = _row(rows, "county", COUNTY)
        assert {k: county[k] for k in EXPECTED} == EXPECTED, kind
        city = _row(rows, "city", "130400")
        counties = [r for r in rows if r["level"] == "county"]
        assert city["clues_received"] == sum(r["clues_received"] for r in counties)
        assert city["resolved"] == sum(r["resolved"] for r in counties)

    # A county inspector gets their county's row only.
    own = a.inspector.get("/v1/statistics", params={"period": "quarterly"}).json()["rows"]
    assert [(r["level"], r["area"]) for r in own] == [("county", "130402")]
    assert a.city.get("/v1/statistics", params={"period": "quarterly", "label": "2026-Q5"}).status_code == 422


def test_the_quarterly_report_renders_as_csv_and_as_a_chart(agencies: Agencies, seeded: dict[str, str]) -> None:
    a = agencies
    quarter = periods.period_containing("quarterly", domain.legal_date(_today())).label
    produced = a.city.post("/v1/reports", json={"kind": "quarterly", "period": quarter})
    assert produced.status_code == 201, produced.text
    report_id = produced.json()["report_id"]
    assert a.inspector.post("/v1/reports", json={"kind": "quarterly", "period": quarter}).status_code == 403

    text = a.city.get(f"/v1/reports/{report_id}.csv")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    # Excel on Chinese Windows reads the file as UTF-8 only with the byte order mark.
    assert text.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["period", "level", "area"] and rows[1][0] == "期间"
    county = next(r for r in rows if r[1] == "county" and r[2] == COUNTY)
    assert dict(zip(rows[0][3:], county[3:], strict=True)) == {k: str(v) for k, v in EXPECTED.items()}
    assert county[0] == quarter

    # The same table as a workbook: numbers as numbers under the same two header rows.
    workbook = a.city.get(f"/v1/reports/{report_id}.xlsx")
    assert workbook.status_code == 200 and workbook.headers["content-type"] == XLSX_MEDIA_TYPE
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0] == rows[0] and table[1] == rows[1]
    in_book = next(r for r in table if r[1] == "county" and r[2] == COUNTY)
    assert dict(zip(table[0][3:], in_book[3:], strict=True)) == {
        k: float(v) if isinstance(v, str) else v for k, v in EXPECTED.items()
    }
    statistics = a.city.get("/v1/statistics", params={"period": "quarterly", "label": quarter, "format": "xlsx"})
    assert statistics.status_code == 200 and statistics.content.startswith(b"PK")
    as_csv = a.city.get("/v1/statistics", params={"period": "quarterly", "label": quarter, "format": "csv"})
    assert as_csv.content.startswith(b"\xef\xbb\xbf") and "期间" in as_csv.content.decode("utf-8-sig")

    chart = a.city.get(f"/v1/reports/{report_id}/chart.png")
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(chart.content))
    assert image.format == "PNG" and image.width >= 640 and image.height == 460
    # Bars are drawn: the image is not just white and black text.
    colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=100000) or []}
    assert (0x4E, 0x79, 0xA7) in colours and (0xE1, 0x57, 0x59) in colours

    scoped = a.other_inspector.get(f"/v1/reports/{report_id}").json()["rows"]
    assert [(r["level"], r["area"]) for r in scoped] == [("county", "130403")]


async def _temporal(a: Agencies) -> Client:
    secrets = a.stack.development_secrets()
    return await connect(
        CommonSettings(
            temporal_address=a.stack.temporal.address,
            payload_keys=secrets["ANXIN_PAYLOAD_KEYS"],
            payload_key_id=secrets["ANXIN_PAYLOAD_KEY_ID"],
        )
    )


async def test_the_schedules_exist_and_their_workflow_produces_the_report(
    agencies: Agencies, seeded: dict[str, str]
) -> None:
    a = agencies
    client = await _temporal(a)
    weekly = await client.get_schedule_handle(WEEKLY_SCHEDULE_ID).describe()
    quarterly = await client.get_schedule_handle(QUARTERLY_SCHEDULE_ID).describe()
    for description in (weekly, quarterly):
        assert description.schedule.spec.time_zone_name == "Asia/Shanghai"
        assert description.schedule.action.task_queue == TaskQueues.CASES  # type: ignore[attr-defined]
    # Mondays 02:00 and the first day of each quarter 03:00, China Standard Time.
    for at in weekly.info.next_action_times:
        local = at.astimezone(CHINA_TZ)
        assert (local.weekday(), local.hour, local.minute) == (0, 2, 0)
    for at in quarterly.info.next_action_times:
        local = at.astimezone(CHINA_TZ)
        assert (local.month in (1, 4, 7, 10), local.day, local.hour) == (True, 1, 3)

    # The workflow the weekly schedule starts, asked for the current week.
    week = periods.period_containing("weekly", domain.legal_date(_today())).label
    report_id = await client.execute_workflow(
        REPORT_WORKFLOW_TYPE,
        ReportRequest(kind="weekly", period=week),
        id=f"test-report-{seed()}",
        task_queue=TaskQueues.CASES,
        result_type=str,
    )
    assert report_id == f"R-weekly-{week}"
    report = a.city.get(f"/v1/reports/{report_id}").json()
    assert {k: _row(report["rows"], "county", COUNTY)[k] for k in EXPECTED} == EXPECTED

    # Triggered now, the quarterly schedule reports the last complete quarter.
    await client.get_schedule_handle(QUARTERLY_SCHEDULE_ID).trigger()
    previous = periods.previous_period("quarterly", domain.legal_date(_today())).label
    wait_for(
        "the scheduled quarterly report",
        lambda: a.city.get(f"/v1/reports/R-quarterly-{previous}").status_code == 200,
        timeout=60,
    )


async def test_the_peak_daily_schedule_reports_yesterday_only_in_a_peak_period(
    agencies: Agencies, seeded: dict[str, str]
) -> None:
    a = agencies
    client = await _temporal(a)
    peak = await client.get_schedule_handle(PEAK_DAILY_SCHEDULE_ID).describe()
    assert peak.schedule.action.id == "cases-report-daily"  # type: ignore[attr-defined]
    for at in peak.info.next_action_times:  # every day at 01:00, China Standard Time
        local = at.astimezone(CHINA_TZ)
        assert (local.hour, local.minute) == (1, 0)

    # What the schedule starts each morning: yesterday's daily report in a peak period (1 December to the
    # Spring Festival by default), nothing otherwise — whichever today is.
    today = domain.legal_date(_today())
    report_id = await client.execute_workflow(
        REPORT_WORKFLOW_TYPE,
        ReportRequest(kind="daily", peak_only=True),
        id=f"test-report-{seed()}",
        task_queue=TaskQueues.CASES,
        result_type=str,
    )
    if in_peak_period(today, CasesSettings().parsed_peak_periods()):
        yesterday = periods.previous_period("daily", today).label
        assert report_id == f"R-daily-{yesterday}"
        assert a.city.get(f"/v1/reports/{report_id}").status_code == 200
    else:
        assert report_id == ""
