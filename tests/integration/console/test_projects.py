"""The project register in the console on the real stack (the monitoring API behind it): a county inspector
imports a register file with a good and a bad row, finds the project without a wage account among the gaps,
opens its page, imports a month's attendance roster (once, then again: nothing changes) and sees the month;
another county's inspector cannot open it."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime

import pytest

from deploy.stack import Stack
from services.console.texts import CHINA
from services.monitoring.import_rows import COLUMNS
from tests.support.console_agencies import csrf_of, signed_in_as
from tests.support.identities import sample_id_number
from tests.support.people import add_person

COUNTY, OTHER_COUNTY = "130403", "130402"
OWNER, CONTRACTOR = "91130400MA07ABCD12", "91130403MA0A00001N"


@pytest.fixture(scope="module")
def monitoring(stack: Stack, console: str) -> None:
    stack.start_processes(["monitoring-api"], timeout=120)


@pytest.fixture(scope="module")
def inspector(stack: Stack, monitoring: None) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", COUNTY)
    return person_id, password


@pytest.fixture(scope="module")
def other_inspector(stack: Stack, monitoring: None) -> tuple[str, str]:
    person_id, password, _ = add_person(stack, "county_inspector", "--county", OTHER_COUNTY)
    return person_id, password


def _register_file(code: str) -> bytes:
    good = {
        "code": code,
        "county": COUNTY,
        "name": f"丛台区安置房 {code}",
        "owner_name": "邯郸市某房地产开发有限公司",
        "owner_credit_code": OWNER,
        "general_contractor_name": "河北某建设集团有限公司",
        "general_contractor_credit_code": CONTRACTOR,
        "contract_value": "12000000",
        "start_date": "2026-03-01",
        "planned_end_date": "2027-12-31",
        "department": "housing",
    }
    bad = {**good, "code": f"{code}-BAD", "owner_credit_code": "NOT-A-CODE"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for row in (good, bad):
        writer.writerow({column: row.get(column, "") for column in COLUMNS})
    return out.getvalue().encode()


def test_an_inspector_imports_the_register_and_a_months_roster_and_another_county_cannot_see_it(
    console: str, inspector: tuple[str, str], other_inspector: tuple[str, str]
) -> None:
    code = f"HD-{uuid.uuid4().hex[:8].upper()}"
    with signed_in_as(console, *inspector) as browser:
        listing = browser.get("/projects")
        assert listing.status_code == 200 and "在建项目台账" in listing.text
        imported = browser.post(
            "/projects/import",
            data={"csrf": csrf_of(listing)},
            files={"file": ("台账.csv", _register_file(code), "text/csv")},
        )
        assert imported.status_code == 200, imported.text
        assert "已读取 2 行" in imported.text and "已登记 1 行" in imported.text and "有误 1 行" in imported.text
        assert "owner.credit_code：统一社会信用代码应为18位" in imported.text  # the bad row, as the service says it

        gaps = browser.get("/projects", params={"no_wage_account": "1"})
        link = re.search(r'<a href="/projects/([^"]+)">丛台区安置房 ' + re.escape(code) + "</a>", gaps.text)
        assert link, gaps.text
        project_id = link.group(1)
        assert "未开设" in gaps.text

        project = browser.get(f"/projects/{project_id}")
        assert project.status_code == 200 and code in project.text and "近 6 个月" in project.text
        month = datetime.now(CHINA).strftime("%Y-%m")
        roster = "身份证号码,姓名,出勤天数\n" + "".join(f"{sample_id_number(n)},工人{n},{10 + n}\n" for n in range(3))
        form = {"csrf": csrf_of(project), "kind": "attendance", "month": month}
        first = browser.post(
            f"/projects/{project_id}/feeds", data=form, files={"file": ("考勤.csv", roster.encode(), "text/csv")}
        )
        assert first.status_code == 200, first.text
        assert f"考勤（实名制） · {month}：已导入（第 1 版，3 人）" in first.text
        row = re.search(rf"<td>{month}</td>\s*<td>已报送</td>\s*<td>未报送</td>\s*<td>3</td>", first.text)
        assert row, first.text
        again = browser.post(
            f"/projects/{project_id}/feeds", data=form, files={"file": ("考勤.csv", roster.encode(), "text/csv")}
        )
        assert "无变化（第 1 版，3 人）" in again.text

        missing_month = browser.post(
            f"/projects/{project_id}/feeds",
            data={**form, "month": ""},
            files={"file": ("考勤.csv", roster.encode(), "text/csv")},
        )
        assert missing_month.status_code == 422 and "请选择月份" in missing_month.text

    with signed_in_as(console, *other_inspector) as browser:
        assert browser.get(f"/projects/{project_id}").status_code == 404
        assert code not in browser.get("/projects").text
