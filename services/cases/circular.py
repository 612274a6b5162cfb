"""The quarterly circular (季度通报) per county: the figures the counties' annual assessment (年度考核) reads —
complaints received and resolved, resolved on time, wages recovered — with the guarantee system's coverage of
the county's projects under construction (dedicated wage account, wage deposit in place), as a JSON answer and
as an official paper.

The case figures are the quarterly report's (`reports.figures`, counted from the ledger's days); the coverage is
the project register as the monitoring service last announced it (`project_register.py`): projects under
construction at some time in the quarter, counted as the register stands when the circular is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from services.cases import reports, store
from services.cases.documents_pdf import CaseDocument, render_pdf
from services.cases.periods import Period
from services.cases.project_register import DEPOSIT_IN_PLACE
from services.cases.report_figures import FIGURE_LABELS, FIGURES


@dataclass(frozen=True)
class Coverage:
    projects: int
    with_wage_account: int
    with_deposit: int

    @staticmethod
    def share(part: int, whole: int) -> str | None:
        return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))) if whole else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "projects": self.projects,
            "with_wage_account": self.with_wage_account,
            "with_deposit": self.with_deposit,
            "wage_account_rate": self.share(self.with_wage_account, self.projects),
            "deposit_rate": self.share(self.with_deposit, self.projects),
        }


async def coverage(conn: store.Conn, quarter: Period, county: str) -> Coverage:
    """The county's projects under construction at some time in the quarter, and how many have their account
    and their deposit in place."""
    cur = await conn.execute(
        "SELECT count(*) AS projects, count(wage_account_opened_on) AS with_wage_account, "
        "count(*) FILTER (WHERE deposit_status = ANY(%s)) AS with_deposit FROM projects "
        "WHERE county = %s AND start_date < %s AND planned_end_date >= %s",
        (list(DEPOSIT_IN_PLACE), county, quarter.end, quarter.start),
    )
    row = await cur.fetchone()
    assert row is not None
    return Coverage(row["projects"], row["with_wage_account"], row["with_deposit"])


async def circular(conn: store.Conn, quarter: Period, county: str) -> dict[str, Any]:
    figures = await reports.figures(conn, quarter, county)
    [row] = [r for r in figures["rows"] if r["level"] == "county" and r["area"] == county]
    return {
        "quarter": quarter.label,
        "county": county,
        "start": quarter.start.isoformat(),
        "end": quarter.end.isoformat(),
        "cases": {k: v for k, v in row.items() if k in FIGURES},
        "projects": (await coverage(conn, quarter, county)).as_dict(),
    }


def _percent(rate: str | None) -> str:
    return "—" if rate is None else f"{Decimal(rate) * 100:.1f}%"


def paper(answer: dict[str, Any], *, issuer: str, issued_on: date) -> CaseDocument:
    """The circular as an official paper: the figures in a table, the coverage said in a sentence."""
    year, quarter = answer["quarter"].split("-Q")
    cases, projects = answer["cases"], answer["projects"]
    county = answer["county"]
    paragraphs = [
        f"现将{year}年第{quarter}季度（{answer['start']}至{answer['end']}前一日）{county}保障农民工工资支付工作情况通报如下。",
        f"本季度收到欠薪线索{cases['clues_received']}件，受理{cases['accepted']}件，办结{cases['resolved']}件，"
        f"其中按时办结{cases['resolved_on_time']}件，时限办结率{_percent(cases['on_time_rate'])}；"
        f"为{cases['workers_helped']}名农民工追回工资{cases['amount_recovered']}元。",
        f"全县（区）在建项目{projects['projects']}个，开设农民工工资专用账户{projects['with_wage_account']}个"
        f"（{_percent(projects['wage_account_rate'])}），工资保证金已存储或依规免缴{projects['with_deposit']}个"
        f"（{_percent(projects['deposit_rate'])}）。",
        "以上数据作为年度保障农民工工资支付工作考核的依据。请对照查找差距，未开设专用账户、未存储工资保证金的项目"
        "限期整改到位。",
    ]
    rows = [
        (
            FIGURE_LABELS[name],
            "—" if cases.get(name) is None else (_percent(cases[name]) if name == "on_time_rate" else str(cases[name])),
        )
        for name in FIGURES
    ]
    rows += [
        ("在建项目", str(projects["projects"])),
        ("开设工资专用账户", str(projects["with_wage_account"])),
        ("工资保证金到位", str(projects["with_deposit"])),
    ]
    return CaseDocument(
        issuer=issuer,
        title=f"关于{year}年第{quarter}季度保障农民工工资支付工作情况的通报",
        addressee=f"{county}人力资源和社会保障局",
        paragraphs=paragraphs,
        rows=rows,
        issued_on=issued_on,
        reference=f"CIRCULAR-{answer['quarter']}-{county}",
    )


def render(answer: dict[str, Any], *, issuer: str, issued_on: date) -> bytes:
    return render_pdf(paper(answer, issuer=issuer, issued_on=issued_on))
