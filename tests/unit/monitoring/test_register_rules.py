"""The project register's rules: credit codes, dates, amounts, deposit forms, and reading CSV/XLSX rows."""

from __future__ import annotations

import io
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from services.contracts.monitoring_events import DepositForm, DepositStatus
from services.monitoring.domain import DEPARTMENTS, ProjectInvalid, merge_patch
from services.monitoring.import_rows import COLUMNS, LABELS, FileUnreadable, file_format, parse_file
from services.monitoring.project_validation import validate_project

TODAY = date(2026, 11, 30)
OWNER, CONTRACTOR, SUB_A, SUB_B = "91130400MA07ABCD12", "91130403MA0A00001N", "91130402MA0B12345J", "91130404MA0C00007W"


def project(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "HD-2026-0001",
        "county": "130403",
        "name": "丛台区某安置房项目",
        "owner": {"name": "邯郸市某房地产开发有限公司", "credit_code": OWNER},
        "general_contractor": {"name": "河北某建设集团有限公司", "credit_code": CONTRACTOR},
        "subcontractors": [{"name": "某劳务有限公司", "credit_code": SUB_A}],
        "contract_value": "58000000.00",
        "start_date": "2026-03-01",
        "planned_end_date": "2027-12-31",
        "department": "housing",
        "wage_account": {"bank": "中国农业银行邯郸丛台支行", "opened_on": "2026-02-20"},
        "deposit": {"amount": "300000", "form": "bank_guarantee", "status": "lodged"},
        "site_ids": ["HD-2026-0001"],
    }
    return {**body, **changes}


def errors_of(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ProjectInvalid) as caught:
        validate_project(raw, today=TODAY)
    return {e.field: e.code for e in caught.value.field_errors}


def test_a_complete_project_is_valid_and_keeps_its_exact_amounts() -> None:
    draft = validate_project(project(), today=TODAY)
    assert draft.contract_value == Decimal("58000000.00")
    assert draft.deposit is not None and draft.deposit.form is DepositForm.BANK_GUARANTEE
    assert draft.deposit.amount == Decimal("300000.00") and draft.deposit.status is DepositStatus.LODGED
    assert draft.owner.credit_code == OWNER and [c.credit_code for c in draft.subcontractors] == [SUB_A]
    assert draft.wage_account is not None and draft.wage_account.opened_on == date(2026, 2, 20)


def test_the_account_the_deposit_the_subcontractors_and_the_sites_may_be_missing() -> None:
    draft = validate_project(project(wage_account=None, deposit=None, subcontractors=None, site_ids=None), today=TODAY)
    assert (draft.wage_account, draft.deposit, draft.subcontractors, draft.site_ids) == (None, None, [], [])
    # An import row's empty cells read the same as none.
    draft = validate_project(
        project(wage_account={"bank": "", "opened_on": None}, deposit={"amount": "", "form": "", "status": ""}),
        today=TODAY,
    )
    assert (draft.wage_account, draft.deposit) == (None, None)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (OWNER[:-1] + ("3" if OWNER[-1] != "3" else "4"), "check_digit"),
        (OWNER[:17], "length"),
        ("91130400MA07ABCDI2", "format"),  # I is not in the code's alphabet
        ("", "required"),
    ],
)
def test_a_credit_code_must_be_a_valid_unified_social_credit_code(code: str, error: str) -> None:
    assert errors_of(project(owner={"name": "某公司", "credit_code": code})) == {"owner.credit_code": error}
    sub = errors_of(project(subcontractors=[{"name": "甲", "credit_code": SUB_A}, {"name": "乙", "credit_code": code}]))
    assert sub == {"subcontractors[1].credit_code": error}


def test_credit_codes_are_read_in_lower_case_and_with_spaces_and_a_subcontractor_counts_once() -> None:
    draft = validate_project(
        project(owner={"name": "某公司", "credit_code": " " + OWNER.lower()[:9] + " " + OWNER[9:]}), today=TODAY
    )
    assert draft.owner.credit_code == OWNER
    twice = [{"name": "甲", "credit_code": SUB_A}, {"name": "甲公司", "credit_code": SUB_A}]
    assert errors_of(project(subcontractors=twice)) == {"subcontractors[1].credit_code": "duplicate"}


def test_dates_take_the_usual_ways_of_writing_them_and_the_end_comes_after_the_start() -> None:
    draft = validate_project(project(start_date="2026/3/1", planned_end_date="2027年12月31日"), today=TODAY)
    assert (draft.start_date, draft.planned_end_date) == (date(2026, 3, 1), date(2027, 12, 31))
    assert errors_of(project(planned_end_date="2026-03-01")) == {"planned_end_date": "before_start"}
    assert errors_of(project(start_date="2026-02-30")) == {"start_date": "date"}
    assert errors_of(project(start_date="next spring")) == {"start_date": "date"}
    # The account cannot have been opened in the future.
    assert errors_of(project(wage_account={"bank": "某银行", "opened_on": "2026-12-01"})) == {
        "wage_account.opened_on": "future"
    }


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("cash", DepositForm.CASH),
        ("bank_guarantee", DepositForm.BANK_GUARANTEE),
        ("insurance", DepositForm.INSURANCE),
        ("现金", DepositForm.CASH),
        ("银行保函", DepositForm.BANK_GUARANTEE),
        ("工资保证保险", DepositForm.INSURANCE),
    ],
)
def test_the_deposit_forms_by_id_or_by_their_chinese_name(form: str, expected: DepositForm) -> None:
    draft = validate_project(project(deposit={"amount": "1000", "form": form, "status": "已存储"}), today=TODAY)
    assert draft.deposit is not None and (draft.deposit.form, draft.deposit.status) == (expected, DepositStatus.LODGED)


def test_a_deposit_has_a_known_form_and_status_and_an_amount_unless_exempt() -> None:
    assert errors_of(project(deposit={"amount": "1000", "form": "cheque", "status": "lodged"})) == {
        "deposit.form": "unknown"
    }
    assert errors_of(project(deposit={"amount": "1000", "form": "cash", "status": "maybe"})) == {
        "deposit.status": "unknown"
    }
    assert errors_of(project(deposit={"amount": "0", "form": "cash", "status": "lodged"})) == {
        "deposit.amount": "amount"
    }
    exempt = validate_project(project(deposit={"amount": "0", "form": "cash", "status": "exempt"}), today=TODAY)
    assert exempt.deposit is not None and exempt.deposit.amount == 0


@pytest.mark.parametrize(
    ("value", "error"),
    [("-5", "amount"), ("12.345", "amount"), ("abc", "amount"), ("2000000000000", "too_large"), ("", "required")],
)
def test_the_contract_value_is_an_amount_in_yuan_to_the_fen(value: str, error: str) -> None:
    assert errors_of(project(contract_value=value)) == {"contract_value": error}


def test_every_failing_field_is_named_at_once() -> None:
    found = errors_of(project(code="x", county="999999", name="", department="police", site_ids=["bad id!"]))
    assert found == {
        "code": "format",
        "county": "unknown",
        "name": "required",
        "department": "unknown",
        "site_ids": "format",
    }


def test_the_departments_are_the_referrals_services_industry_regulators() -> None:
    toml = Path(__file__).parents[3] / "services" / "referrals" / "departments.toml"
    regulators = {d["id"] for d in tomllib.loads(toml.read_text())["departments"] if d["kind"] == "industry_regulator"}
    assert set(DEPARTMENTS) <= regulators


def test_a_patch_replaces_the_fields_it_names_and_refuses_others() -> None:
    merged = merge_patch(project(), {"deposit": None, "name": "新名称"})
    assert merged["deposit"] is None and merged["name"] == "新名称" and merged["code"] == "HD-2026-0001"
    with pytest.raises(ProjectInvalid):
        merge_patch(project(), {"version": 3})


# --- import files -------------------------------------------------------------------------------------------

ROW = {
    "code": "HD-2026-0101",
    "county": "130403",
    "name": "丛台区某学校",
    "owner_name": "邯郸市某教育投资有限公司",
    "owner_credit_code": OWNER,
    "general_contractor_name": "河北某建设集团有限公司",
    "general_contractor_credit_code": CONTRACTOR,
    "subcontractors": f"某劳务有限公司|{SUB_A}\n某钢结构有限公司|{SUB_B}",
    "contract_value": "12,500,000.00",
    "start_date": "2026-04-01",
    "planned_end_date": "2027-06-30",
    "department": "住建",
    "wage_account_bank": "中国建设银行邯郸分行",
    "wage_account_opened_on": "2026-03-15",
    "deposit_amount": "250000",
    "deposit_form": "现金",
    "deposit_status": "已存储",
    "site_ids": "HD-2026-0101; HD-2026-0102",
}


def csv_of(rows: list[dict[str, Any]], *, labels: bool = False, bom: bool = False) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([LABELS[c] for c in COLUMNS] if labels else COLUMNS)
    for row in rows:
        writer.writerow([row.get(c, "") for c in COLUMNS])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def test_a_csv_row_with_a_quoted_multi_line_cell_is_one_project() -> None:
    data = csv_of([ROW])
    assert (
        b'"\xe6\x9f\x90\xe5\x8a\xb3\xe5\x8a\xa1' in data and b"\n" in data.split(b'"')[1]
    )  # the cell is quoted, two lines
    (parsed,) = parse_file(data, "csv", today=TODAY)
    assert parsed.row == 1 and parsed.errors == [] and parsed.project is not None
    assert [c.credit_code for c in parsed.project.subcontractors] == [SUB_A, SUB_B]
    assert parsed.project.department == "housing" and parsed.project.contract_value == Decimal("12500000.00")
    assert parsed.project.site_ids == ["HD-2026-0101", "HD-2026-0102"]


def test_a_csv_with_a_bom_and_chinese_headers_reads_the_same() -> None:
    (plain,) = parse_file(csv_of([ROW]), "csv", today=TODAY)
    (labelled,) = parse_file(csv_of([ROW], labels=True, bom=True), "csv", today=TODAY)
    assert labelled.project == plain.project is not None


def test_bad_rows_are_reported_with_their_number_and_fields_and_good_rows_still_read() -> None:
    bad_code = {**ROW, "code": "HD-2026-0102", "owner_credit_code": OWNER[:-1] + "0"}
    bad_subcontractor = {**ROW, "code": "HD-2026-0103", "subcontractors": "某劳务有限公司 没有代码"}
    rows = list(
        parse_file(csv_of([ROW, bad_code, bad_subcontractor, {**ROW, "code": "HD-2026-0104"}]), "csv", today=TODAY)
    )
    assert [r.row for r in rows] == [1, 2, 3, 4]
    assert rows[0].project and rows[3].project
    assert [(e.field, e.code) for e in rows[1].errors] == [("owner.credit_code", "check_digit")]
    assert [e.field for e in rows[2].errors] == ["subcontractors"]


def test_a_file_naming_no_register_column_is_refused_whole() -> None:
    for unreadable in (b"a,b\n1,2\n", b"", b"code,\x00name\n", "项目编号\n".encode("gb18030")):
        with pytest.raises(FileUnreadable):
            list(parse_file(unreadable, "csv", today=TODAY))
    with pytest.raises(FileUnreadable):
        list(parse_file(b"PK\x03\x04 not really a workbook", "xlsx", today=TODAY))


def xlsx_of(rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([LABELS[c] for c in COLUMNS])
    for row in rows:
        sheet.append([row.get(c) for c in COLUMNS])
    sheet.append([None] * len(COLUMNS))  # a trailing empty row, as spreadsheets keep them
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_row_reads_dates_numbers_and_wrapped_cells() -> None:
    cells = {
        **ROW,
        "county": 130403,
        "contract_value": 12500000,
        "start_date": datetime(2026, 4, 1),
        "planned_end_date": datetime(2027, 6, 30),
        "wage_account_opened_on": datetime(2026, 3, 15),
        "deposit_amount": 250000.5,
    }
    data = xlsx_of([cells, {**cells, "code": "HD-2026-0105", "start_date": "someday"}])
    assert file_format("register.xlsx", None, data) == "xlsx" and file_format("r.csv", "text/csv", b"a,b") == "csv"
    first, second = parse_file(data, "xlsx", today=TODAY)
    assert first.project is not None and first.project.county == "130403"
    assert first.project.start_date == date(2026, 4, 1) and first.project.deposit is not None
    assert first.project.deposit.amount == Decimal("250000.50") and len(first.project.subcontractors) == 2
    assert second.row == 2 and [e.field for e in second.errors] == ["start_date"]


def test_a_workbook_broken_inside_its_sheet_is_refused_whole() -> None:
    import zipfile

    whole = zipfile.ZipFile(io.BytesIO(xlsx_of([ROW])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as broken:
        for item in whole.infolist():
            content = whole.read(item)
            # The sheet cut short after its first rows: it opens, and breaks while its rows are read.
            broken.writestr(item, content[:-40] if item.filename.endswith("sheet1.xml") else content)
    with pytest.raises(FileUnreadable):
        list(parse_file(out.getvalue(), "xlsx", today=TODAY))
