"""The ladder against projects, its pure parts: the configuration (`[project_ladder]` in departments.toml) as
shipped and refused when wrong, the ladder's id, what the letters say of the warnings and of the letters before,
whom a rung goes to, who reads a project's letters, and every rung's template composing and rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.common.auth import Principal, Role
from services.common.cjk_font import cjk_font
from services.contracts.monitoring_events import WarningCheck, WarningLevel
from services.contracts.referrals_events import LetterKind, ProjectLetterRecipient
from services.referrals.departments import DepartmentsConfigError, load_departments
from services.referrals.letters import compose, render_pdf
from services.referrals.project_letter_rules import (
    ARTICLES_TEXT,
    PROJECT_LETTER_KINDS,
    highest_level,
    may_see_project,
    months_text,
    previous_text,
    project_ladder_id,
    recipient_of,
    template_name,
)
from services.referrals.settings import DEFAULT_DEPARTMENTS
from tests.support.pdfs import pdf_words


def test_the_shipped_ladder_climbs_the_four_letters_and_the_transfer_form() -> None:
    ladder = load_departments(DEFAULT_DEPARTMENTS).project_ladder
    assert [(r.kind, r.to) for r in ladder.rungs] == [
        (LetterKind.WARNING_LETTER, "general_contractor"),
        (LetterKind.HANDOFF, "department"),
        (LetterKind.SUPERVISION, "department"),
        (LetterKind.ACCOUNTABILITY_RECOMMENDATION, "department"),
        (LetterKind.ISSUE_TRANSFER, "discipline"),
    ]
    assert set(ladder.checks) == set(WarningCheck)
    assert ladder.first_wait_working_days == 3
    assert ladder.rung(LetterKind.ACCOUNTABILITY_RECOMMENDATION).copy_to == ["superior", "discipline"]  # type: ignore[union-attr]


def _with(replace: str, by: str, tmp_path: Path) -> Path:
    text = DEFAULT_DEPARTMENTS.read_text(encoding="utf-8")
    assert replace in text
    path = tmp_path / "departments.toml"
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    return path


def test_a_rung_to_an_unknown_body_is_refused(tmp_path: Path) -> None:
    path = _with('{ kind = "issue_transfer", to = "discipline"', '{ kind = "issue_transfer", to = "mayor"', tmp_path)
    with pytest.raises(
        DepartmentsConfigError, match=r"project_ladder: unknown \[bureau.escalation\] entries \['mayor'\]"
    ):
        load_departments(path)


def test_a_letter_that_is_not_one_of_the_ladder_against_projects_is_refused(tmp_path: Path) -> None:
    path = _with(
        '{ kind = "warning_letter", to = "general_contractor"',
        '{ kind = "reminder", to = "general_contractor"',
        tmp_path,
    )
    with pytest.raises(DepartmentsConfigError, match=r"project_ladder\.rungs\.0\.kind: reminder is not a letter"):
        load_departments(path)


def test_the_same_letter_twice_and_an_unknown_check_are_refused(tmp_path: Path) -> None:
    path = _with('{ kind = "supervision", to = "department"', '{ kind = "handoff", to = "department"', tmp_path)
    with pytest.raises(DepartmentsConfigError, match="each letter kind may appear once"):
        load_departments(path)
    path = _with('checks = ["payroll_received"', 'checks = ["payroll"', tmp_path)
    with pytest.raises(DepartmentsConfigError, match=r"project_ladder\.checks\.0"):
        load_departments(path)


def test_a_departments_file_without_the_table_gets_the_default_ladder(tmp_path: Path) -> None:
    text = DEFAULT_DEPARTMENTS.read_text(encoding="utf-8")
    start = text.index("[project_ladder]")
    end = text.index("# ---- industry regulators")
    path = tmp_path / "departments.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    ladder = load_departments(path).project_ladder
    assert ladder.rungs[0].kind is LetterKind.WARNING_LETTER and len(ladder.rungs) == 5


def test_the_ladder_id_names_the_project_the_check_and_the_month_that_opened_it() -> None:
    assert (
        project_ladder_id("PRJ-1A2B", WarningCheck.PAYROLL_RECEIVED, "2026-10")
        == "project-letters:PRJ-1A2B:payroll_received:2026-10"
    )


def test_the_letters_name_the_open_months_and_the_highest_level() -> None:
    assert months_text(["2026-11", "2026-10", "2026-11"]) == "2026年10月、2026年11月"
    assert highest_level(["yellow", "red", "orange"]) is WarningLevel.RED
    assert highest_level([None, "orange"]) is WarningLevel.ORANGE
    assert highest_level([]) is WarningLevel.YELLOW


def test_a_letter_recalls_the_letters_before_it() -> None:
    assert previous_text([]) == ""
    letters = [
        {
            "kind": "warning_letter",
            "document_number": "邯欠薪办警〔2026〕1号",
            "issued_at": datetime(2026, 11, 5, 16, tzinfo=UTC),
        },
        {
            "kind": "handoff",
            "document_number": "邯欠薪办交〔2026〕9号",
            "issued_at": datetime(2026, 11, 12, 2, tzinfo=UTC),
        },
    ]
    # The dates are China's: 16:00 UTC on the 5th is already the 6th there.
    assert previous_text(letters) == (
        "我办已先后发出警示函（邯欠薪办警〔2026〕1号，2026年11月6日）、交办函（邯欠薪办交〔2026〕9号，2026年11月12日），"
    )


def test_whom_a_rung_goes_to() -> None:
    assert recipient_of("general_contractor") is ProjectLetterRecipient.GENERAL_CONTRACTOR
    assert recipient_of("department") is ProjectLetterRecipient.DEPARTMENT
    assert recipient_of("discipline") is ProjectLetterRecipient.ESCALATION


def test_a_projects_letters_are_read_by_the_city_its_county_and_its_department() -> None:
    def sees(role: Role, county: str | None = None, department: str | None = None) -> bool:
        return may_see_project(Principal("c", role, county, department), "130403", "housing")

    assert sees(Role.city_office) and sees(Role.operator)
    assert sees(Role.county_inspector, "130403") and not sees(Role.county_inspector, "130402")
    assert sees(Role.department, department="housing") and not sees(Role.department, department="transport")
    assert not sees(Role.police) and not sees(Role.credit_system)


FACTS = {
    "project_name": "滏东安置房二期",
    "project_code": "HD-2026-0042",
    "county_name": "丛台区",
    "contractor_name": "邯郸市测试建设集团有限公司",
    "credit_code": "91130400MA0000000X",
    "department_name": "邯郸市住房和城乡建设局",
    "check_text": "未按月通过农民工工资专用账户发放工资（监控平台未收到当月工资发放明细）",
    "system_text": "农民工工资专用账户和总包代发制度",
    "articles_text": "第二十六条、第三十一条",
    "months_text": "2026年10月",
    "level_text": "黄色预警",
    "previous_text": "我办已先后发出警示函（邯欠薪办警〔2026〕1号，2026年11月6日），",
    "due_date_text": "2026年11月20日",
    "addressee_name": "邯郸市住房和城乡建设局",
}


@pytest.mark.parametrize("kind", PROJECT_LETTER_KINDS, ids=lambda k: k.value)
def test_every_rung_composes_from_the_projects_facts_and_renders(kind: LetterKind) -> None:
    content = compose(
        kind,
        facts=FACTS,
        issuer="邯郸市根治拖欠农民工工资工作领导小组办公室",
        document_number="测〔2026〕1号",
        addressee="邯郸市住房和城乡建设局",
        issued_at=datetime(2026, 11, 13, 3, tzinfo=UTC),
        rows=[("项目名称", FACTS["project_name"])],
        reference="PLT-TEST",
        template_name=template_name(kind),
    )
    text = " ".join([content.title, *content.paragraphs])
    for fact in ("滏东安置房二期", "2026年10月", "2026年11月20日"):
        assert fact in text, (kind, fact, text)
    pdf = render_pdf(content, cjk_font())
    extracted = pdf_words(pdf)
    assert "测〔2026〕1号" in extracted and "滏东安置房二期" in extracted


def test_a_missing_fact_is_an_error_not_a_blank() -> None:
    facts = {k: v for k, v in FACTS.items() if k != "months_text"}
    with pytest.raises(ValueError, match="months_text"):
        compose(
            LetterKind.WARNING_LETTER,
            facts=facts,
            issuer="办",
            document_number="测〔2026〕1号",
            addressee="某公司",
            issued_at=datetime(2026, 11, 13, tzinfo=UTC),
            rows=[],
            template_name=template_name(LetterKind.WARNING_LETTER),
        )


def test_the_warning_letter_cites_the_articles_its_check_falls_short_of_and_the_handoff_the_departments_duty() -> None:
    assert set(ARTICLES_TEXT) == set(WarningCheck)

    def text_of(kind: LetterKind, **changes: str) -> str:
        content = compose(
            kind,
            facts={**FACTS, **changes},
            issuer="办",
            document_number="测〔2026〕1号",
            addressee="某单位",
            issued_at=datetime(2026, 11, 13, tzinfo=UTC),
            rows=[],
            template_name=template_name(kind),
        )
        return " ".join([content.title, *content.paragraphs])

    deposit = text_of(LetterKind.WARNING_LETTER, articles_text=ARTICLES_TEXT[WarningCheck.DEPOSIT])
    assert "《保障农民工工资支付条例》第三十二条的规定" in deposit
    # 第七条: the industry departments' supervision; 第三十九条: their checks of the guarantee system.
    assert "第七条和第三十九条" in text_of(LetterKind.HANDOFF)
