"""The projects and the month the monitoring benches measure (bench/monitoring_feeds.py,
bench/monitoring_checks.py): a register of made-up projects under construction, registered through the
monitoring service's own import (`POST /v1/projects/import`), and each project's payroll and attendance roster
of one month, as the files the county offices import (docs/monitoring.md, "The monthly feeds").

The month is the current one (China Standard Time) and every project starts on its first day: the month is then
the first its monitoring workflow checks, on a check day still to come, so nothing checks it before the bench
does. Every project's wage deposit is still `required` (应存, not lodged), so each check of the month raises
one warning at least: what tells the checks' bench that a project has been checked.

Workers are named by ID numbers that are valid (GB 11643 check character, a real birth date) and distinct over
the whole run, as a city's real-name system would list them; each works a different number of days at one
day rate, so the month's pay is in line with its days and only the deposit fails.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
from stdnum.cn import ric, uscc

from deploy.stack import Stack
from services.contracts.legal_time import legal_date

REGISTER_COLUMNS = (
    "code",
    "county",
    "name",
    "owner_name",
    "owner_credit_code",
    "general_contractor_name",
    "general_contractor_credit_code",
    "contract_value",
    "start_date",
    "planned_end_date",
    "department",
    "wage_account_bank",
    "wage_account_opened_on",
    "deposit_amount",
    "deposit_form",
    "deposit_status",
)
# Rows per register file: a register of thousands of projects is imported in a few files, as an office would.
REGISTER_ROWS_PER_FILE = 500
COUNTIES = ("130402", "130403", "130404", "130406", "130407", "130408")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN_NAMES = ("建国", "卫东", "秀兰", "志强", "海燕", "国庆", "红梅", "立新", "春生", "桂英", "德胜", "玉芳")
DAY_RATE = 320  # yuan a day: every worker of the month is paid at it, so the pay check passes


@dataclass(frozen=True)
class FeedFile:
    """One month's feed of one project, as the file an office imports."""

    project_id: str
    kind: str  # "payroll" or "attendance", as in the import's path
    data: bytes
    workers: int


@dataclass
class MonitoredProjects:
    """Projects registered for a bench, and the month measured."""

    month: date
    project_ids: list[str]
    workers_per_project: int = 0
    seed: int = field(default_factory=lambda: uuid.uuid4().int % 10**6)

    @property
    def month_text(self) -> str:
        return f"{self.month:%Y-%m}"

    def first(self, count: int) -> MonitoredProjects:
        return MonitoredProjects(self.month, self.project_ids[:count], self.workers_per_project, self.seed)


def current_month() -> date:
    return legal_date(datetime.now(UTC)).replace(day=1)


def credit_code(seed: int) -> str:
    body = f"91130400MA{seed % 10**7:07d}"
    return body + uscc.calc_check_digit(body)


def id_number(worker: int) -> str:
    """A valid resident ID number, distinct for each worker number below 12,000,000: 1,000 to a birth date, the
    birth dates 47 days apart over 33 years (47 and 12,000 have no common factor, so none repeats)."""
    born = date(1968, 1, 1) + timedelta(days=(worker // 1000) * 47 % 12000)
    body = f"130402{born:%Y%m%d}{worker % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def register_file(month: date, seed: int, first: int, count: int) -> bytes:
    """A register file (CSV, the import's English headers) of `count` projects numbered from `first`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REGISTER_COLUMNS)
    for n in range(first, first + count):
        writer.writerow(
            (
                f"BENCH-{seed}-{n}",
                COUNTIES[n % len(COUNTIES)],
                f"邯郸市基准测试安置房项目{n}号",
                "邯郸市某城市建设投资有限公司",
                credit_code(seed * 10 + 1),
                "河北某建工集团有限公司",
                credit_code(seed * 10 + 2),
                "20000000.00",
                month.isoformat(),
                month.replace(year=month.year + 2).isoformat(),
                "housing",
                "中国建设银行邯郸分行",
                (month - timedelta(days=10)).isoformat(),
                "200000.00",
                "bank_guarantee",
                "required",
            )
        )
    return out.getvalue().encode()


async def register_projects(stack: Stack, token: str, count: int, *, month: date | None = None) -> MonitoredProjects:
    """`count` projects registered through the monitoring API's import, in files of `REGISTER_ROWS_PER_FILE`."""
    projects = MonitoredProjects(month or current_month(), [])
    url = f"{stack.processes['monitoring-api'].url}/v1/projects/import"
    async with httpx.AsyncClient(timeout=900, headers={"Authorization": f"Bearer {token}"}) as http:
        for first in range(0, count, REGISTER_ROWS_PER_FILE):
            rows = min(REGISTER_ROWS_PER_FILE, count - first)
            data = register_file(projects.month, projects.seed, first, rows)
            answer = await http.post(url, files={"file": ("在建项目台账.csv", data, "text/csv")})
            answer.raise_for_status()
            results = answer.json()["results"]
            refused = [r for r in results if r["result"] != "registered"]
            if refused:
                raise RuntimeError(f"the register import refused {len(refused)} rows, the first: {refused[0]}")
            projects.project_ids += [str(r["project_id"]) for r in results]
    return projects


def feed_files(projects: MonitoredProjects, workers: int) -> Iterator[FeedFile]:
    """Each project's payroll and attendance roster of the month, `workers` spread evenly over the projects."""
    per_project, extra = divmod(workers, len(projects.project_ids))
    worker = 0
    for n, project_id in enumerate(projects.project_ids):
        people = range(worker, worker + per_project + (1 if n < extra else 0))
        worker = people.stop
        payroll, attendance = io.StringIO(), io.StringIO()
        paid, roster = csv.writer(payroll), csv.writer(attendance)
        paid.writerow(("id_number", "name", "amount"))
        roster.writerow(("id_number", "name", "days"))
        for person in people:
            number, name = id_number(person), SURNAMES[person % 20] + GIVEN_NAMES[person % 12]
            days = 18 + person % 9
            paid.writerow((number, name, f"{days * DAY_RATE}.00"))
            roster.writerow((number, name, days))
        yield FeedFile(project_id, "payroll", payroll.getvalue().encode(), len(people))
        yield FeedFile(project_id, "attendance", attendance.getvalue().encode(), len(people))
