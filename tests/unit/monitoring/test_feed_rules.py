"""The monthly feeds' rules: reading payroll and attendance files (BOM, XLSX, quoted cells, bad ID numbers,
negative amounts, the same worker twice), the month, what makes two files the same, and the month's summary."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook
from stdnum.cn import ric

from services.common.crypto import keyed_reference
from services.monitoring.feed_rows import check_id_number, parse_feed
from services.monitoring.feeds import (
    FeedKind,
    FeedWorker,
    MonthInvalid,
    parse_month,
    replacement,
    rows_digest,
    summarise_month,
)
from services.monitoring.import_rows import FileUnreadable

TODAY = date(2026, 11, 30)
OCTOBER = date(2026, 10, 1)
KEY = b"k" * 32


def id_number(first17: str) -> str:
    """A valid resident ID number from its first 17 digits (the check character computed)."""
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum computes it for a number with its check digit


ZHANG, LI, WANG = id_number("13040319850612003"), id_number("13042719900101121"), id_number("41012319781130456")


def reference(number: str) -> str:
    return keyed_reference(number, KEY, prefix="person")


def csv_of(header: list[str], rows: list[list[Any]], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def parse(data: bytes, kind: FeedKind, fmt: Any = "csv", month: date = OCTOBER) -> list[Any]:
    return list(parse_feed(data, fmt, kind, month, reference=reference, today=TODAY))


def test_a_payroll_csv_with_a_bom_and_chinese_headers_names_workers_by_keyed_reference_only() -> None:
    data = csv_of(
        ["身份证号码", "姓名", "实发金额"], [[ZHANG, "张三丰", "6,800.00"], [LI.lower(), "李四", "¥5200"]], bom=True
    )
    first, second = parse(data, FeedKind.PAYROLL)
    assert first.errors == [] and first.worker == FeedWorker(reference(ZHANG), "张*丰", amount=Decimal("6800.00"))
    assert second.worker == FeedWorker(reference(LI), "李*", amount=Decimal("5200.00"))  # a lower-case x is read
    assert ZHANG not in repr(first) and first.worker.person_ref.startswith("person_")
    # The same keyed reference intake gives the complainant with this ID number.
    assert first.worker.person_ref == keyed_reference(ZHANG, KEY, prefix="person")


def test_an_attendance_csv_with_english_headers_in_another_order_and_quoted_cells() -> None:
    data = csv_of(
        ["days", "name", "id_number", "team"],
        [["21.5", "王 五", f" {WANG} ", "钢筋班, 二组"], ["22", '王"大"锤', ZHANG, "木工班"]],
    )
    assert b'"\xe7\x8e\x8b""' in data  # the quote in the name is a quoted CSV cell
    first, second = parse(data, FeedKind.ATTENDANCE)
    assert first.worker == FeedWorker(reference(WANG), "王*", days=Decimal("21.5"))
    assert second.worker is not None and second.worker.days == Decimal(22) and second.worker.name_masked == "王***锤"


def test_bad_id_numbers_are_refused_without_repeating_them() -> None:
    wrong_check = ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1")
    no_birth = id_number("13040319851332003")
    future = id_number("13040320990101003")
    for number, code in [
        ("", "required"),
        (ZHANG[:15], "length"),
        ("1304031985061200AB", "format"),
        (wrong_check, "check_digit"),
        (no_birth, "birth_date"),
        (future, "birth_date"),
    ]:
        value, error = check_id_number(number, today=TODAY)
        assert value is None and error is not None and error.code == code, number
        assert not number or number not in error.message
    rows = parse(csv_of(["id_number", "name", "amount"], [[wrong_check, "张三", "100"]]), FeedKind.PAYROLL)
    assert rows[0].worker is None and [(e.field, e.code) for e in rows[0].errors] == [("id_number", "check_digit")]
    assert wrong_check not in repr(rows)


def test_negative_zero_and_unreadable_amounts_and_days_are_refused() -> None:
    rows = parse(
        csv_of(
            ["id_number", "name", "amount"],
            [
                [ZHANG, "张三", "-100"],
                [LI, "李四", "0"],
                [WANG, "王五", "很多"],
                [id_number("13040319700101001"), "赵六", "300000"],
            ],
        ),
        FeedKind.PAYROLL,
    )
    assert [[(e.field, e.code) for e in r.errors] for r in rows] == [
        [("amount", "amount")],
        [("amount", "amount")],
        [("amount", "amount")],
        [("amount", "too_large")],
    ]
    days = parse(
        csv_of(["id_number", "name", "days"], [[ZHANG, "张三", "32"], [LI, "李四", "0"], [WANG, "王五", "1.3"]]),
        FeedKind.ATTENDANCE,
    )
    assert [[e.code for e in r.errors] for r in days] == [["range"], ["range"], ["format"]]
    february = parse(
        csv_of(["id_number", "name", "days"], [[ZHANG, "张三", "29"]]), FeedKind.ATTENDANCE, month=date(2026, 2, 1)
    )
    assert [e.code for e in february[0].errors] == ["range"]


def test_the_same_worker_twice_in_a_file_is_an_error_on_the_second_row() -> None:
    rows = parse(
        csv_of(
            ["id_number", "name", "amount"],
            [[ZHANG, "张三", "100"], [LI, "李四", "100"], [ZHANG.replace("0", "０", 1), "张三", "200"]],
        ),
        FeedKind.PAYROLL,
    )
    assert rows[0].worker and rows[1].worker and rows[2].worker is None
    assert [(e.code, e.message) for e in rows[2].errors] == [
        ("duplicate", "同一工人在第1行已列出 / the same worker is on row 1")
    ]


def test_a_file_without_a_feeds_columns_is_refused_whole() -> None:
    with pytest.raises(FileUnreadable, match="lacks amount"):
        parse(csv_of(["身份证号码", "姓名", "出勤天数"], [[ZHANG, "张三", "20"]]), FeedKind.PAYROLL)
    with pytest.raises(FileUnreadable, match="none of the attendance roster's columns"):
        parse(csv_of(["a", "b"], [["1", "2"]]), FeedKind.ATTENDANCE)


def test_an_xlsx_payroll_reads_number_cells() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["公民身份号码", "姓名", "实发工资"])
    sheet.append([WANG, "王五", 7300.5])
    sheet.append([ZHANG, "张三", 6800])
    sheet.append([None, None, None])  # a trailing empty row
    out = io.BytesIO()
    book.save(out)
    first, second = parse(out.getvalue(), FeedKind.PAYROLL, fmt="xlsx")
    assert first.worker is not None and first.worker.amount == Decimal("7300.50")
    assert second.worker is not None and second.worker.amount == Decimal("6800.00")


def test_the_month_is_yyyy_mm_begun_and_not_before_2020() -> None:
    assert parse_month("2026-10", today=TODAY) == OCTOBER and parse_month("2026-11", today=TODAY) == date(2026, 11, 1)
    for bad in ("2026-12", "2026-13", "2019-12", "2026-1", "202610", "2026-00"):
        with pytest.raises(MonthInvalid):
            parse_month(bad, today=TODAY)


def worker(number: str, *, amount: str | None = None, days: str | None = None) -> FeedWorker:
    return FeedWorker(
        reference(number), "某*", amount=Decimal(amount) if amount else None, days=Decimal(days) if days else None
    )


def test_two_files_saying_the_same_digest_alike_and_a_correction_says_what_changed() -> None:
    one = [worker(ZHANG, amount="100.00"), worker(LI, amount="200.00")]
    assert rows_digest(one) == rows_digest(list(reversed(one)))
    corrected = [worker(ZHANG, amount="150.00"), worker(WANG, amount="200.00")]
    assert rows_digest(corrected) != rows_digest(one)
    assert replacement(one, corrected).as_dict() == {"added": 1, "removed": 1, "changed": 1}


def test_the_month_summary_counts_the_unpaid_the_unrostered_and_pay_short_of_days() -> None:
    fourth = id_number("13040319700101001")
    roster = [worker(ZHANG, days="20"), worker(LI, days="20"), worker(WANG, days="10"), worker(fourth, days="22")]
    payroll = [
        worker(ZHANG, amount="6000.00"),
        worker(LI, amount="4000.00"),
        worker(WANG, amount="3000.00"),
        worker(id_number("13040319800101002"), amount="2500.00"),
    ]
    summary = summarise_month(OCTOBER, roster, payroll, tolerance=Decimal("0.3"))
    # Day rates 300, 200, 300: the median is 300; 70% of it is 210 a day, so Li's 20 days need 4,200.
    assert summary.day_rate == Decimal("300.00")
    assert (summary.workers_on_roster, summary.workers_paid, summary.total_paid) == (4, 4, Decimal("15500.00"))
    assert summary.days_worked == Decimal(72)
    assert [w.person_ref for w in summary.on_roster_not_paid] == [reference(fourth)]
    assert len(summary.paid_not_on_roster) == 1
    assert [(s.worker.person_ref, s.expected_at_least) for s in summary.pay_shortfalls] == [
        (reference(LI), Decimal("4200.00"))
    ]
    figures = summary.as_dict()
    assert (
        figures["workers_on_roster_not_paid"],
        figures["workers_paid_not_on_roster"],
        figures["pay_mismatches"],
    ) == (1, 1, 1)
    # A looser tolerance lets Li's pay pass.
    assert summarise_month(OCTOBER, roster, payroll, tolerance=Decimal("0.4")).pay_shortfalls == []


def test_a_month_without_payroll_has_everyone_on_the_roster_unpaid_and_no_day_rate() -> None:
    roster = [worker(ZHANG, days="20"), worker(LI, days="18")]
    summary = summarise_month(OCTOBER, roster, None, tolerance=Decimal("0.3"))
    assert not summary.payroll_received and summary.roster_received
    assert len(summary.on_roster_not_paid) == 2 and summary.day_rate is None and summary.pay_shortfalls == []
    nothing = summarise_month(OCTOBER, None, None, tolerance=Decimal("0.3")).as_dict()
    assert nothing["workers_on_roster"] == nothing["workers_paid"] == 0 and nothing["total_paid"] == "0.00"
