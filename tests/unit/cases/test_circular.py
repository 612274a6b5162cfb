"""The quarterly circular as an official paper: its title, addressee, figures and coverage."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from services.cases import circular
from services.cases.report_figures import Figures

ANSWER = {
    "quarter": "2026-Q4",
    "county": "130402",
    "start": "2026-10-01",
    "end": "2027-01-01",
    "cases": {**Figures(clues_received=12, accepted=10, resolved=8, resolved_on_time=6).as_dict()},
    "projects": circular.Coverage(projects=20, with_wage_account=17, with_deposit=15).as_dict(),
}


def test_the_paper_states_the_quarters_figures_and_the_coverage() -> None:
    paper = circular.paper(ANSWER, issuer="邯郸市人力资源和社会保障局", issued_on=date(2027, 1, 5))
    assert paper.title == "关于2026年第4季度保障农民工工资支付工作情况的通报"
    assert paper.addressee == "130402人力资源和社会保障局"
    text = "".join(paper.paragraphs)
    assert "收到欠薪线索12件，受理10件，办结8件，其中按时办结6件，时限办结率75.0%" in text
    assert "在建项目20个，开设农民工工资专用账户17个（85.0%），工资保证金已存储或依规免缴15个（75.0%）" in text
    assert ("时限办结率", "75.0%") in paper.rows and ("在建项目", "20") in paper.rows
    assert paper.reference == "CIRCULAR-2026-Q4-130402"


def test_a_county_without_projects_or_cases_has_no_rate_rather_than_a_division_by_zero() -> None:
    empty = {**ANSWER, "cases": Figures().as_dict(), "projects": circular.Coverage(0, 0, 0).as_dict()}
    assert empty["projects"]["wage_account_rate"] is None
    paper = circular.paper(empty, issuer="邯郸市人力资源和社会保障局", issued_on=date(2027, 1, 5))
    assert "时限办结率—" in "".join(paper.paragraphs) and "开设农民工工资专用账户0个（—）" in "".join(paper.paragraphs)


def test_the_paper_renders_as_a_pdf() -> None:
    pdf = circular.render(ANSWER, issuer="邯郸市人力资源和社会保障局", issued_on=date(2027, 1, 5))
    assert pdf.startswith(b"%PDF") and 1 <= len(PdfReader(io.BytesIO(pdf)).pages) <= 2
