"""Joint interviews' pure rules: which employers are proposed (repeated cases or a large amount, in the
window, not interviewed in it), when a commitment is overdue, and the invitation letter in Chinese."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader

from services.sanctions import documents
from services.sanctions.interviews import (
    CaseFact,
    ProposalGround,
    ProposalRule,
    commitment_overdue,
    proposal,
)

TODAY = date(2026, 11, 30)
RULE = ProposalRule(min_cases=3, amount_threshold=Decimal("500000"), window_months=12)


def case(n: int, opened_on: date, amount: str = "60000", county: str = "130402") -> CaseFact:
    return CaseFact(case_id=f"C-{n}", county=county, opened_on=opened_on, amount_owed=Decimal(amount))


def test_three_cases_in_twelve_months_propose_the_employer() -> None:
    cases = [case(1, date(2026, 1, 5)), case(2, date(2026, 6, 1), county="130403"), case(3, TODAY)]
    found = proposal(RULE, cases, TODAY)
    assert found is not None
    assert found.grounds == [ProposalGround.REPEATED_CASES]
    assert [c.case_id for c in found.cases] == ["C-1", "C-2", "C-3"]
    assert found.amount_owed == Decimal("180000")
    assert found.counties == ["130402", "130403"]
    assert found.last_opened_on == TODAY


def test_two_cases_below_the_amount_are_not_proposed() -> None:
    assert proposal(RULE, [case(1, date(2026, 3, 1)), case(2, date(2026, 4, 1))], TODAY) is None


def test_the_window_is_twelve_months_back_from_today() -> None:
    # A case opened exactly a year ago, or earlier, is outside; a case opened after today is not counted either.
    old = [case(1, date(2025, 11, 30)), case(2, date(2025, 6, 1))]
    assert proposal(RULE, [*old, case(3, date(2026, 2, 1))], TODAY) is None
    assert proposal(RULE, [case(4, date(2025, 12, 1)), case(5, date(2026, 2, 1)), case(6, TODAY)], TODAY) is not None
    assert (
        proposal(RULE, [case(7, date(2026, 2, 1)), case(8, date(2026, 3, 1)), case(9, TODAY + timedelta(1))], TODAY)
        is None
    )


def test_one_case_over_the_amount_is_proposed_for_the_amount() -> None:
    found = proposal(RULE, [case(1, date(2026, 8, 1), amount="500000.00")], TODAY)
    assert found is not None and found.grounds == [ProposalGround.LARGE_AMOUNT]
    assert proposal(RULE, [case(1, date(2026, 8, 1), amount="499999.99")], TODAY) is None


def test_both_grounds_are_named_when_both_hold() -> None:
    cases = [case(n, date(2026, n, 1), amount="200000") for n in (1, 2, 3)]
    found = proposal(RULE, cases, TODAY)
    assert found is not None and found.grounds == [ProposalGround.REPEATED_CASES, ProposalGround.LARGE_AMOUNT]


def test_an_employer_interviewed_in_the_window_is_not_proposed_again() -> None:
    cases = [case(n, date(2026, n, 1)) for n in (1, 2, 3)]
    assert proposal(RULE, cases, TODAY, last_interview_on=date(2026, 10, 1)) is None
    assert proposal(RULE, cases, TODAY, last_interview_on=date(2025, 11, 30)) is not None


def test_the_rule_is_configurable() -> None:
    cases = [case(1, date(2026, 1, 1)), case(2, date(2026, 2, 1))]
    assert proposal(ProposalRule(min_cases=2), cases, TODAY) is not None
    assert proposal(ProposalRule(min_cases=2, window_months=6), cases, TODAY) is None
    assert proposal(ProposalRule(min_cases=5, amount_threshold=Decimal("100000")), cases, TODAY) is not None


def test_a_commitment_is_overdue_the_day_after_its_due_date_until_its_outcome() -> None:
    due = date(2026, 11, 29)
    assert not commitment_overdue(due, None, due)
    assert commitment_overdue(due, None, TODAY)
    assert not commitment_overdue(due, "kept", TODAY)
    assert not commitment_overdue(due, "broken", TODAY)
    assert not commitment_overdue(None, None, TODAY)


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "").replace("\n", "")


def test_the_invitation_is_a_chinese_letter_to_the_employer_or_a_department() -> None:
    common = dict(
        authority="邯郸市人力资源和社会保障局",
        number="邯人社约谈〔2026〕1号",
        employer_name="邯郸市某建筑劳务有限公司",
        credit_code="91130400MA0000000X",
        when="2026年12月8日 09:30",
        place="市人社局三楼会议室",
        departments=["公安局", "税务局"],
        case_count=3,
        amount_owed="180000.00",
        issued_on=TODAY,
    )
    to_employer = _text(
        documents.render_pdf(
            documents.interview_invitation(addressee="邯郸市某建筑劳务有限公司", to_employer=True, **common)
        )
    )  # type: ignore[arg-type]
    to_police = _text(
        documents.render_pdf(documents.interview_invitation(addressee="公安局", to_employer=False, **common))
    )  # type: ignore[arg-type]
    for text in (to_employer, to_police):
        assert "约谈通知书" in text and "邯人社约谈〔2026〕1号" in text and "市人社局三楼会议室" in text
        assert "180000.00" in text and "公安局、税务局" in text
    assert "法定代表人或者主要负责人" in to_employer
    assert "请贵单位派员" in to_police and "法定代表人" not in to_police
