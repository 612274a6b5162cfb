"""Tables people open in Excel (services/common/exports.py): CSV with the byte order mark Excel needs to read
UTF-8, and XLSX workbooks with bold frozen headers and numbers kept as numbers."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from services.cases import periods, report_figures
from services.common.exports import BOM, csv_for_excel, xlsx


def test_a_csv_starts_with_one_byte_order_mark() -> None:
    text = "期间,层级\n2026-Q4,county\n"
    data = csv_for_excel(text)
    assert data.startswith(b"\xef\xbb\xbf") and data.decode("utf-8-sig") == text
    assert csv_for_excel(BOM + text) == data


def test_a_workbook_keeps_headers_bold_and_frozen_and_numbers_as_numbers() -> None:
    at = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    data = xlsx(
        "欠薪线索办理情况 2026-Q4",
        [["area", "amount"], ["地区", "金额（元）"]],
        [["130402", Decimal("12000.50"), at, date(2026, 12, 1), None, True]],
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None and sheet.title == "欠薪线索办理情况 2026-Q4"
    assert [c.value for c in sheet[2]][:2] == ["地区", "金额（元）"] and sheet["A2"].font.bold
    assert sheet.freeze_panes == "A3"
    row = [c.value for c in sheet[3]]
    # Money is a number Excel can sum; the time is China's, as the legal deadlines are.
    assert row[:2] == ["130402", 12000.5] and row[2] == datetime(2026, 11, 30, 9, 30)
    assert row[4] is None and row[5] is True


def test_the_report_has_the_same_columns_in_csv_and_workbook() -> None:
    rows = [{"level": "county", "area": "130402", **{f: 1 for f in report_figures.FIGURES}}]
    table = report_figures.report_table("2026-Q4", rows)
    assert len(table[0]) == len(report_figures.REPORT_HEADERS[0]) == len(report_figures.REPORT_HEADERS[1])
    csv_lines = report_figures.report_csv(periods.parse_period("quarterly", "2026-Q4"), rows).splitlines()
    assert csv_lines[1].startswith("期间,层级,地区") and csv_lines[2].startswith("2026-Q4,county,130402")
