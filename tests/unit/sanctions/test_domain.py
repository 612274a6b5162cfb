"""The sanctions service's pure rules: the listing criteria, dates, quarters, what may be published, and
the documents rendered in Chinese."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from services.contracts.lifecycle import DayUnit, ListingGround, SanctionKind, SanctionRequest
from services.contracts.sanctions_workflows import ListingStage, ListingStatus
from services.sanctions import documents, domain
from services.sanctions.listing_messages import early_removal_refusals


def request(
    basis: str, amount: str = "60000", kind: SanctionKind = SanctionKind.BLACKLIST_PROCEDURE
) -> SanctionRequest:
    return SanctionRequest(
        idempotency_key="k",
        case_id="C-1",
        county="130402",
        employer_ref="E-1",
        kind=kind,
        amount=Decimal(amount),
        basis=basis,
    )


@pytest.mark.parametrize(
    ("basis", "ground"),
    [
        ("12 名劳动者，未付合计 60000 元，达到 10 人以上、40000 元的标准", ListingGround.CRIMINAL_THRESHOLD),
        ("投诉 Q1：每人未付 9000 元、拖欠 4 个月，达到 8000 元、3 个月的标准", ListingGround.CRIMINAL_THRESHOLD),
        ("拖欠工资引发群体性事件", ListingGround.MASS_INCIDENT),
        ("欠薪引发极端事件", ListingGround.MASS_INCIDENT),
    ],
)
def test_a_proposal_rests_on_the_threshold_or_a_mass_incident(basis: str, ground: ListingGround) -> None:
    assert domain.listing_ground(request(basis)) is ground


@pytest.mark.parametrize(
    ("basis", "amount", "kind", "says"),
    [
        (
            "未达到数额较大标准（3 名劳动者，未付合计 9000 元）",
            "9000",
            SanctionKind.BLACKLIST_PROCEDURE,
            "does not reach",
        ),
        ("用人单位拒不支付", "9000", SanctionKind.BLACKLIST_PROCEDURE, "does not reach"),
        ("12 名劳动者，达到 10 人以上、40000 元的标准", "0", SanctionKind.BLACKLIST_PROCEDURE, "nothing is unpaid"),
        ("拖欠工资引发群体性事件", "100", SanctionKind.PUBLICATION, "blacklist_procedure"),
    ],
)
def test_a_proposal_outside_the_criteria_is_refused_with_the_reason(
    basis: str, amount: str, kind: SanctionKind, says: str
) -> None:
    with pytest.raises(domain.ProposalRefused, match=says):
        domain.listing_ground(request(basis, amount, kind))


def test_months_and_years_clamp_to_the_end_of_the_month() -> None:
    assert domain.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert domain.add_years(date(2028, 2, 29), 3) == date(2031, 2, 28)
    assert domain.add_months(date(2026, 11, 15), 2) == date(2027, 1, 15)


def test_quarters() -> None:
    assert domain.quarter_of(date(2026, 11, 28)) == "2026-Q4"
    assert domain.previous_quarter(date(2026, 1, 1)) == "2025-Q4"
    assert domain.previous_quarter(date(2026, 7, 1)) == "2026-Q2"
    assert domain.quarter_bounds("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert domain.quarter_text("2026-Q3") == "2026年第三季度"
    with pytest.raises(ValueError):
        domain.quarter_bounds("2026-Q5")


def test_a_proposal_carrying_its_ground_is_judged_by_the_shared_rule_not_its_text() -> None:
    carried = request("用人单位拒不支付", "60000").model_copy(update={"ground": ListingGround.MASS_INCIDENT})
    assert domain.listing_ground(carried) is ListingGround.MASS_INCIDENT
    paid = request("达到 10 人以上、40000 元的标准", "0").model_copy(
        update={"ground": ListingGround.CRIMINAL_THRESHOLD}
    )
    with pytest.raises(domain.ProposalRefused, match="nothing is unpaid"):
        domain.listing_ground(paid)


def test_names_are_masked_for_the_public_and_credit_codes_come_from_code_references() -> None:
    assert [domain.mask_name(n) for n in ("王", "李四", "王建国", "欧阳娜娜")] == ["*", "李*", "王*国", "欧**娜"]
    assert domain.credit_code_of("E-91130400MA0000001X") == "91130400MA0000001X"
    assert domain.credit_code_of("E-N0123456789ABCDEF") is None


def test_early_removal_needs_listing_payment_and_six_months() -> None:
    status = ListingStatus(
        listing_id="BL-1",
        case_id="C-1",
        stage=ListingStage.LISTED,
        ground=ListingGround.MASS_INCIDENT,
        amount=Decimal("100"),
        amount_corrected=Decimal("100"),
        paid_in_full_on=date(2026, 3, 1),
        notice_document_id=None,
        defence_due_date=None,
        statements=[],
        decided_on=date(2026, 1, 1),
        decision_document_id=None,
        not_listed_reason=None,
        expires_on=date(2029, 1, 1),
        early_removal_possible_from=date(2026, 9, 1),
        pending_application=None,
        removal_reason=None,
        removed_on=None,
        timeline=[],
    )
    assert early_removal_refusals(status, date(2026, 8, 31))[0].startswith("six months have not passed")
    assert early_removal_refusals(status, date(2026, 9, 1)) == []
    unpaid = status.model_copy(
        update={"paid_in_full_on": None, "early_removal_possible_from": None, "amount_corrected": Decimal("40")}
    )
    assert "not paid in full" in early_removal_refusals(unpaid, date(2027, 1, 1))[0]
    assert (
        "not on the list"
        in early_removal_refusals(status.model_copy(update={"stage": ListingStage.DEFENCE}), date(2027, 1, 1))[0]
    )


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "").replace("\n", "")


def test_the_prior_notice_and_the_decision_are_chinese_pdf_letters() -> None:
    notice = documents.prior_notice(
        authority="邯郸市人力资源和社会保障局",
        number="邯人社失信告〔2026〕3号",
        employer_name="邯郸市某建筑劳务有限公司",
        employer_ref="E-91130400MA0000001X",
        credit_code="91130400MA0000001X",
        project_name="某安置房项目",
        ground=ListingGround.CRIMINAL_THRESHOLD,
        basis="达到标准",
        amount="60000.00",
        issued_on=date(2026, 11, 2),
        defence_days=5,
        defence_unit=DayUnit.WORKING,
        defence_due=date(2026, 11, 9),
    )
    text = _text(documents.render_pdf(notice))
    for expected in (
        "事先告知书",
        "邯人社失信告〔2026〕3号",
        "邯郸市某建筑劳务有限公司",
        "5个工作日内",
        "2026年11月9日",
        "陈述、申辩",
    ):
        assert expected in text
    decision = documents.listing_decision(
        authority="邯郸市人力资源和社会保障局",
        number="邯人社失信决〔2026〕1号",
        employer_name="邯郸市某建筑劳务有限公司",
        employer_ref="E-1",
        credit_code=None,
        ground=ListingGround.MASS_INCIDENT,
        basis="群体性事件",
        notice_number="邯人社失信告〔2026〕3号",
        listed_on=date(2026, 11, 20),
        expires_on=date(2029, 11, 20),
        persons=[("法定代表人", "王建国")],
        listing_years=3,
        early_removal_months=6,
    )
    text = _text(documents.render_pdf(decision))
    for expected in ("列入决定书", "王建国", "2029年11月20日", "期限3年", "满6个月"):
        assert expected in text


def test_the_quarter_list_as_html_escapes_and_shows_no_worker_data() -> None:
    entries = [
        {
            "employer_name": "<某>公司",
            "credit_code": "91130400MA0000001X",
            "project_name": "项目",
            "county": "130402",
            "violation": "拖欠农民工工资 150000 元",
            "handling": "已移送公安机关",
        }
    ]
    page = documents.render_list_html("邯郸市人力资源和社会保障局", "2026-Q3", entries).decode()
    assert "&lt;某&gt;公司" in page and "2026年第三季度" in page
    assert "<th>违法主体</th>" in page
    assert documents.render_list_pdf("邯郸市人力资源和社会保障局", "2026-Q3", entries).startswith(b"%PDF")
