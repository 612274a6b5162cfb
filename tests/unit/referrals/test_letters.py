"""Letters from their templates: every kind composes from the case facts and renders to a PDF whose text
is Chinese and extractable; a missing fact is an error, never a blank; the same content gives the same bytes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.cjk_font import cjk_font
from services.contracts.referrals_events import LetterKind
from services.referrals.domain import LETTER_NAMES
from services.referrals.letters import compose, render_pdf
from tests.support.pdfs import pdf_words

FACTS = {
    "case_id": "C-0123456789ABCDEF",
    "employer_name": "邯郸市测试建筑劳务有限公司",
    "project_name": "滏东安置房项目",
    "credit_code": "91130400MA0000000X",
    "county_name": "邯山区",
    "workers": 12,
    "amount": "60,000.00",
    "complaints": 3,
    "outcome_text": "拖欠工程款纠纷",
    "due_date_text": "2026年12月14日",
    "department_name": "邯郸市住房和城乡建设局",
    "handoff_number": "邯欠薪办交〔2026〕7号",
    "handoff_date_text": "2026年11月2日",
    "handoff_due_text": "2026年11月16日",
    "previous_text": "其间我办已发出催办函（邯欠薪办催〔2026〕2号）",
    "unpaid_amount": "60,000.00",
    "basis": "12 名劳动者合计 60000 元，达到数额较大标准",
    "order_id": "ORDER-20261101-ABC",
    "order_date_text": "2026年11月1日",
    "served_text": "2026年11月2日以直接送达方式送达",
    "police_referral_number": "邯人社移〔2026〕1号",
    "police_referral_date_text": "2026年11月20日",
    "referral_date_text": "2026年11月20日",
    "referral_number": "邯人社移〔2026〕1号",
    "amount_paid": "60,000.00",
    "payment_ids": "pay-1",
}


def letter(kind: LetterKind, facts: dict[str, object] = FACTS) -> bytes:
    content = compose(
        kind,
        facts=facts,
        issuer="邯郸市根治拖欠农民工工资工作领导小组办公室",
        document_number="测〔2026〕1号",
        addressee="邯郸市住房和城乡建设局",
        issued_at=datetime(2026, 11, 28, 3, tzinfo=UTC),
        rows=[("案件编号", "C-0123456789ABCDEF")],
        evidence=[("1  投诉材料", "3件投诉")],
        copy_to=["邯郸市人民政府督查室"],
        reference="LTR-TEST",
    )
    return render_pdf(content, cjk_font())


@pytest.mark.parametrize("kind", list(LetterKind))
def test_every_kind_renders_chinese_text(kind: LetterKind) -> None:
    pdf = letter(kind)
    assert pdf.startswith(b"%PDF-")
    text = pdf_words(pdf)
    assert "测〔2026〕1号" in text and "邯郸市测试建筑劳务有限公司" in text and "2026年11月28日" in text
    assert "C-0123456789ABCDEF" in text and "抄送：邯郸市人民政府督查室" in text
    name = LETTER_NAMES[kind]
    assert name[:2] in text or kind is LetterKind.CRIMINAL_REFERRAL
    if kind is LetterKind.CRIMINAL_REFERRAL:
        assert "案件材料清单" in text and "ORDER-20261101-ABC" in text


def test_a_missing_fact_is_an_error() -> None:
    facts = {k: v for k, v in FACTS.items() if k != "employer_name"}
    with pytest.raises(ValueError, match="employer_name"):
        letter(LetterKind.HANDOFF, facts)


def test_the_same_content_gives_the_same_bytes() -> None:
    assert letter(LetterKind.WARNING_LETTER) == letter(LetterKind.WARNING_LETTER)
