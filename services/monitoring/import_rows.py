"""Reading a register file: CSV (UTF-8, with or without BOM) or XLSX, one project per row after the header.
The same readers (`read_records`) read the monthly feeds' files (services/monitoring/feed_rows.py).

The header names the columns, in English (`COLUMNS`) or by their Chinese labels (`LABELS`), in any order.
Rows are numbered as the clue import numbers them: 1 is the first record after the header. A cell may hold
several lines (a quoted CSV cell, a wrapped spreadsheet cell): the subcontractors are one per line (or
separated by `;`), each `name|credit code`; the site ids are separated by lines, `;`, `,` or spaces.

`parse_file(data, fmt, today=...)` yields one `ParsedRow` per record: the validated project, or its errors.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from services.monitoring.domain import FieldError, ProjectDraft, ProjectInvalid
from services.monitoring.project_validation import validate_project

FileFormat = Literal["csv", "xlsx"]

# Column → its Chinese label (either may head the column).
LABELS: dict[str, str] = {
    "code": "项目编号",
    "county": "所在区县",
    "name": "项目名称",
    "owner_name": "建设单位",
    "owner_credit_code": "建设单位统一社会信用代码",
    "general_contractor_name": "总包单位",
    "general_contractor_credit_code": "总包单位统一社会信用代码",
    "subcontractors": "分包单位",
    "contract_value": "合同金额",
    "start_date": "开工日期",
    "planned_end_date": "计划竣工日期",
    "department": "行业主管部门",
    "wage_account_bank": "专用账户开户银行",
    "wage_account_opened_on": "专用账户开户日期",
    "deposit_amount": "保证金金额",
    "deposit_form": "保证金形式",
    "deposit_status": "保证金状态",
    "site_ids": "二维码点位",
}
COLUMNS = tuple(LABELS)
_BY_LABEL = {label: column for column, label in LABELS.items()}
MAX_ROWS = 20_000


class FileUnreadable(ValueError):
    """The file is not a register file at all (not CSV/XLSX, no known column): nothing of it is imported."""


@dataclass(frozen=True)
class ParsedRow:
    row: int
    project: ProjectDraft | None
    errors: list[FieldError]


# Every header text a register file may use → its column.
REGISTER_HEADERS: dict[str, str] = {**{column: column for column in COLUMNS}, **_BY_LABEL}

Record = tuple[int, dict[str, Any] | FieldError]


def _column(header: Any, headers: Mapping[str, str]) -> str | None:
    return headers.get(str(header or "").strip().lstrip("\ufeff"))


def _records(header: list[Any], rows: Iterator[list[Any]], headers: Mapping[str, str], what: str) -> Iterator[Record]:
    columns = [_column(h, headers) for h in header]
    if not any(columns):
        known = ", ".join(dict.fromkeys(headers.values()))
        raise FileUnreadable(f"the header row names none of the {what}'s columns ({known})")
    number = 0
    for cells in rows:
        if not any(str(c).strip() for c in cells if c is not None):
            continue  # an empty line (a spreadsheet's trailing rows)
        number += 1
        if number > MAX_ROWS:
            yield (
                number,
                FieldError("row", "too_many_rows", f"一次至多导入{MAX_ROWS}行 / at most {MAX_ROWS} rows a file"),
            )
            return
        if len(cells) > len(columns) and any(str(c).strip() for c in cells[len(columns) :] if c is not None):
            yield number, FieldError("row", "columns", "这一行的列数多于表头 / more columns than the header")
            continue
        yield number, {column: cell for column, cell in zip(columns, cells, strict=False) if column}


def _csv(data: bytes, headers: Mapping[str, str], what: str) -> Iterator[Record]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"a CSV file must be UTF-8: {exc}") from None
    if "\x00" in text:
        # Not text, and no column of these files may hold it (PostgreSQL refuses it in text).
        raise FileUnreadable("a CSV file holds no NUL character (U+0000)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FileUnreadable(f"the header row is not CSV: {exc}") from None
    if header is None:
        raise FileUnreadable("the file is empty")
    records = _records(header, iter(reader), headers, what)
    last = 0
    while True:
        try:
            last, record = next(records)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader cannot resynchronise after a broken record: report it and stop.
            yield last + 1, FieldError("row", "not_csv", f"不是有效的 CSV 记录 / not a valid CSV record: {exc}")
            return
        yield last, record


def _xlsx(data: bytes, headers: Mapping[str, str], what: str) -> Iterator[Record]:
    from openpyxl import load_workbook  # only an XLSX import needs it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise FileUnreadable(f"not an XLSX workbook: {exc}") from None
    try:
        # Read whole (to one row past the limit) here, so a sheet broken inside is refused as a file, not halfway.
        rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
    except Exception as exc:  # a damaged sheet's XML, a workbook without sheets …
        raise FileUnreadable(f"the workbook's first sheet cannot be read: {exc}") from None
    finally:
        book.close()
    if not rows:
        raise FileUnreadable("the first sheet is empty")
    yield from _records(rows[0], iter(rows[1:]), headers, what)


def read_records(data: bytes, fmt: FileFormat, headers: Mapping[str, str], *, what: str) -> Iterator[Record]:
    """The file's records after its header row, numbered from 1, as {column: cell} (or the `FieldError` of a
    record that cannot be read); `headers` maps every header text the file may use to its column, `what`
    names the kind of file in the refusal of one whose header names none."""
    return _csv(data, headers, what) if fmt == "csv" else _xlsx(data, headers, what)


def _split(cell: Any, separators: str) -> list[str]:
    return [part.strip() for part in re.split(separators, str(cell or "")) if part.strip()]


def _subcontractors(cell: Any) -> list[dict[str, str]] | str:
    companies = []
    for entry in _split(cell, r"[\r\n;；]+"):
        name, bar, code = entry.rpartition("|") if "|" in entry else entry.rpartition("｜")
        if not bar:
            return entry  # not `name|code`: reported by the caller
        companies.append({"name": name.strip(), "credit_code": code.strip()})
    return companies


def project_of(record: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """A row's cells in the API's nested shape, and the errors of cells that cannot even be read."""
    errors: list[FieldError] = []
    subcontractors = _subcontractors(record.get("subcontractors"))
    if isinstance(subcontractors, str):
        errors.append(
            FieldError(
                "subcontractors",
                "format",
                f"分包单位每行写“名称|统一社会信用代码”：{subcontractors!r} / one `name|credit code` a line",
            )
        )
        subcontractors = []
    project: dict[str, Any] = {
        "code": record.get("code"),
        "county": record.get("county"),
        "name": record.get("name"),
        "owner": {"name": record.get("owner_name"), "credit_code": record.get("owner_credit_code")},
        "general_contractor": {
            "name": record.get("general_contractor_name"),
            "credit_code": record.get("general_contractor_credit_code"),
        },
        "subcontractors": subcontractors,
        "contract_value": record.get("contract_value"),
        "start_date": record.get("start_date"),
        "planned_end_date": record.get("planned_end_date"),
        "department": record.get("department"),
        "wage_account": {"bank": record.get("wage_account_bank"), "opened_on": record.get("wage_account_opened_on")},
        "deposit": {
            "amount": record.get("deposit_amount"),
            "form": record.get("deposit_form"),
            "status": record.get("deposit_status"),
        },
        "site_ids": _split(record.get("site_ids"), r"[\s;；,，]+"),
    }
    return project, errors


def parse_file(data: bytes, fmt: FileFormat, *, today: date) -> Iterator[ParsedRow]:
    """One result per record of the file, valid or with its errors; `FileUnreadable` when it is no register
    file at all."""
    for number, record in read_records(data, fmt, REGISTER_HEADERS, what="register"):
        if isinstance(record, FieldError):
            yield ParsedRow(number, None, [record])
            continue
        raw, errors = project_of(record)
        try:
            project = validate_project(raw, today=today)
        except ProjectInvalid as invalid:
            yield ParsedRow(number, None, errors + invalid.field_errors)
            continue
        yield ParsedRow(number, None, errors) if errors else ParsedRow(number, project, [])


def file_format(filename: str, content_type: str | None, data: bytes) -> FileFormat:
    """XLSX by its name, its media type or its bytes (a ZIP archive); CSV otherwise."""
    if (
        filename.lower().endswith(".xlsx")
        or (content_type or "").endswith("spreadsheetml.sheet")
        or data[:4] == b"PK\x03\x04"
    ):
        return "xlsx"
    return "csv"
