"""Reading a monthly feed's file: the bank's payroll (工资发放明细) or the real-name attendance roster (考勤表) of
one project and month, CSV (UTF-8, with or without BOM) or XLSX, one worker per row after the header.

The files are read by the register import's readers (`import_rows.read_records`); only the columns differ
(`PAYROLL_HEADERS`, `ATTENDANCE_HEADERS`, English or Chinese, in any order). A worker is named by ID number
and name; the ID number is checked (GB 11643, with python-stdnum), turned into the keyed reference at once
(`reference`, the HMAC intake gives a complainant's) and dropped: no result, error message or log line holds
it. The name is kept masked (张*三).

`parse_feed(data, fmt, kind, month, reference=..., today=...)` yields one `FeedRow` per record.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from services.contracts.personal_data import mask_name
from services.monitoring.domain import FieldError
from services.monitoring.feeds import FeedKind, FeedWorker
from services.monitoring.field_checks import check_amount
from services.monitoring.import_rows import FileFormat, FileUnreadable, read_records

# Header text → column. The first label of each column is the one docs/monitoring.md shows.
_ID_NUMBER = {"id_number": "id_number", "身份证号码": "id_number", "身份证号": "id_number", "公民身份号码": "id_number"}
_NAME = {"name": "name", "姓名": "name"}
PAYROLL_HEADERS: dict[str, str] = {
    **_ID_NUMBER,
    **_NAME,
    "amount": "amount",
    "实发金额": "amount",
    "实发工资": "amount",
    "发放金额": "amount",
}
ATTENDANCE_HEADERS: dict[str, str] = {**_ID_NUMBER, **_NAME, "days": "days", "出勤天数": "days", "考勤天数": "days"}
HEADERS = {FeedKind.PAYROLL: PAYROLL_HEADERS, FeedKind.ATTENDANCE: ATTENDANCE_HEADERS}
# What each kind of file must have: a file without one of these columns is not that feed at all.
REQUIRED = {FeedKind.PAYROLL: ("id_number", "name", "amount"), FeedKind.ATTENDANCE: ("id_number", "name", "days")}
WHAT = {FeedKind.PAYROLL: "payroll", FeedKind.ATTENDANCE: "attendance roster"}
# One worker's pay in one month above this is a typing slip (a project's whole payroll in one cell).
MAX_MONTHLY_PAY = Decimal("200000")
EARLIEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class FeedRow:
    row: int
    worker: FeedWorker | None
    errors: list[FieldError]


def check_id_number(value: Any, *, today: date) -> tuple[str | None, FieldError | None]:
    """A resident ID number (GB 11643): 18 characters, the check character right, a real birth date not after
    today. As intake, the six-digit region is not held against the birth year (python-stdnum's full check):
    it is where the number was first issued, which a real worker's number can fail. The messages never
    repeat the number."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's number cell (an ID number ending in X is always text)
    compact = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", str(value or ""))).upper()
    if not compact:
        return None, FieldError("id_number", "required", "请填写身份证号码 / the ID number is required")
    if len(compact) != 18:
        return None, FieldError("id_number", "length", "身份证号码应为18位 / an ID number has 18 characters")
    if not compact[:17].isdigit() or not (compact[17].isdigit() or compact[17] == "X"):
        return None, FieldError(
            "id_number", "format", "身份证号码前17位应为数字，最后一位是数字或X / 17 digits then a digit or X"
        )
    if compact[17] != ric.calc_check_digit(compact):
        return None, FieldError(
            "id_number", "check_digit", "身份证号码有误（校验位不对） / the ID number's check digit is wrong"
        )
    try:
        birth = ric.get_birth_date(compact)
    except StdnumError:
        birth = None
    if birth is None or birth.year < EARLIEST_BIRTH_YEAR or birth > today:
        return None, FieldError(
            "id_number",
            "birth_date",
            "身份证号码中的出生日期不存在 / the birth date in the ID number is not a real date",
        )
    return compact, None


def check_name(value: Any) -> tuple[str | None, FieldError | None]:
    name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or "")))
    if not name:
        return None, FieldError("name", "required", "请填写姓名 / the name is required")
    if len(name) > 50:
        return None, FieldError("name", "too_long", "姓名不超过50字 / at most 50 characters")
    return name, None


def check_days(value: Any, month: date) -> tuple[Decimal | None, FieldError | None]:
    """Days worked in `month`: more than zero, in half days, at most the month's days."""
    text = re.sub(r"\s", "", str(value if value is not None else "")).removesuffix("天")
    if not text:
        return None, FieldError("days", "required", "请填写出勤天数 / the days worked are required")
    try:
        days = Decimal(text)
    except InvalidOperation:
        return None, FieldError("days", "format", "出勤天数应为数字 / a number of days")
    in_month = calendar.monthrange(month.year, month.month)[1]
    if not days.is_finite() or days <= 0 or days > in_month:
        return None, FieldError("days", "range", f"出勤天数应在0到{in_month}之间 / more than 0, at most {in_month}")
    if days * 2 != (days * 2).to_integral_value():
        return None, FieldError("days", "format", "出勤天数以半天计 / whole or half days")
    return days.quantize(Decimal("0.1")), None


def parse_feed(
    data: bytes, fmt: FileFormat, kind: FeedKind, month: date, *, reference: Callable[[str], str], today: date
) -> Iterator[FeedRow]:
    """One result per record: the worker (by keyed reference), or the row's errors. The same worker twice in a
    file is an error on the second row: a month's feed names each worker once. `FileUnreadable` when the file
    is not this kind of feed at all."""
    seen: dict[str, int] = {}
    first = True
    for number, record in read_records(data, fmt, HEADERS[kind], what=WHAT[kind]):
        if isinstance(record, FieldError):
            yield FeedRow(number, None, [record])
            continue
        if first:
            missing = [column for column in REQUIRED[kind] if column not in record]
            if missing:
                raise FileUnreadable(
                    f"a {WHAT[kind]} file has the columns {', '.join(REQUIRED[kind])}; "
                    f"this one lacks {', '.join(missing)}"
                )
            first = False
        yield _row(number, record, kind, month, reference, today, seen)


def _row(
    number: int,
    record: dict[str, Any],
    kind: FeedKind,
    month: date,
    reference: Callable[[str], str],
    today: date,
    seen: dict[str, int],
) -> FeedRow:
    errors: list[FieldError] = []
    id_number, error = check_id_number(record.get("id_number"), today=today)
    if error:
        errors.append(error)
    name, error = check_name(record.get("name"))
    if error:
        errors.append(error)
    amount = days = None
    if kind is FeedKind.PAYROLL:
        amount, error = check_amount(record.get("amount"), "amount", "实发金额", maximum=MAX_MONTHLY_PAY)
    else:
        days, error = check_days(record.get("days"), month)
    if error:
        errors.append(error)
    person_ref = reference(id_number) if id_number else None
    if person_ref is not None and person_ref in seen:
        errors.append(
            FieldError(
                "id_number",
                "duplicate",
                f"同一工人在第{seen[person_ref]}行已列出 / the same worker is on row {seen[person_ref]}",
            )
        )
    elif person_ref is not None:
        seen[person_ref] = number
    if errors or person_ref is None or name is None:
        return FeedRow(number, None, errors)
    return FeedRow(number, FeedWorker(person_ref, mask_name(name), amount=amount, days=days), [])
