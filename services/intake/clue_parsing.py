"""Intake's clue import, read without I/O: the rows of a CSV or JSON-lines file from another platform, its
columns renamed to our fields, each row checked as a submission (`validation.py`) and fingerprinted so a clue
imported twice is found. The batches themselves are handled in `clues.py`."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any, Literal

from services.intake.domain import (
    STALE_AFTER_YEARS,
    ComplaintSubmission,
    FieldError,
    SubmissionInvalid,
)
from services.intake.identifiers import normalise_employer_name, normalise_project_name
from services.intake.validation import validate_submission

# -- clue import ---------------------------------------------------------------------------------------

# Column names other platforms use for our fields (CSV headers or JSON keys).
CLUE_FIELD_ALIASES: dict[str, str] = {
    "姓名": "worker_name",
    "投诉人": "worker_name",
    "投诉人姓名": "worker_name",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "公民身份号码": "id_number",
    "手机号": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "银行卡号": "bank_card",
    "用人单位": "employer_name",
    "用人单位名称": "employer_name",
    "欠薪单位": "employer_name",
    "被投诉单位": "employer_name",
    "统一社会信用代码": "employer_credit_code",
    "项目编号": "site_id",
    "项目名称": "project_name",
    "区县代码": "county_code",
    "所在区县": "county_code",
    "区县": "county_code",
    "欠薪开始日期": "period_start",
    "欠薪结束日期": "period_end",
    "欠薪金额": "amount_owed",
    "拖欠金额": "amount_owed",
    "涉及人数": "workers_affected",
    "欠薪人数": "workers_affected",
    "情况说明": "description",
    "投诉内容": "description",
    "是否保密": "confidential",
}


@dataclass(frozen=True)
class ParsedClue:
    """One row of an import: `row` is 1-based (JSON lines: the line; CSV: the record after the header)."""

    row: int
    submission: ComplaintSubmission | None
    errors: list[FieldError]


def _rename_columns(item: Mapping[Any, Any]) -> dict[str, Any]:
    renamed: dict[str, Any] = {}
    for key, value in item.items():
        if key is None:
            continue
        name = str(key).strip().lstrip("\ufeff")
        renamed[CLUE_FIELD_ALIASES.get(name, name)] = value
    return renamed


def _csv_rows(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any] | FieldError]]:
    reader = csv.DictReader(stream)
    number = 0
    while True:
        number += 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader cannot resynchronise after a broken record: report it and stop.
            yield number, FieldError("row", "not_csv", f"不是有效的 CSV 记录 / not a valid CSV record: {exc}")
            return
        if None in record:
            yield number, FieldError("row", "columns", "这一行的列数多于表头 / more columns than the header")
            continue
        yield number, record


def _jsonl_rows(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any] | FieldError]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line, parse_float=Decimal)  # amounts stay exact
        except ValueError as exc:
            yield number, FieldError("row", "not_json", f"不是有效的 JSON 对象 / not a JSON object: {exc}")
            continue
        if not isinstance(item, dict):
            yield number, FieldError("row", "not_json", "不是有效的 JSON 对象 / not a JSON object")
            continue
        yield number, item


def parse_clues(
    stream: IO[str] | Iterable[str],
    fmt: Literal["jsonl", "csv"],
    *,
    counties: Mapping[str, str],
    today: date,
    stale_after_years: int = STALE_AFTER_YEARS,
) -> Iterator[ParsedClue]:
    """One result per row, valid or with its errors, read lazily from `stream` (text)."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown clue format {fmt!r}: use 'jsonl' or 'csv'")
    rows = _csv_rows(stream) if fmt == "csv" else _jsonl_rows(stream)  # type: ignore[arg-type]
    for number, item in rows:
        if isinstance(item, FieldError):
            yield ParsedClue(number, None, [item])
            continue
        fields = {**_rename_columns(item), "channel": "clue_import"}
        try:
            submission = validate_submission(
                fields, counties=counties, today=today, stale_after_years=stale_after_years
            )
        except SubmissionInvalid as invalid:
            yield ParsedClue(number, None, invalid.errors)
        else:
            yield ParsedClue(number, submission, [])


def clue_fingerprint(s: ComplaintSubmission, *, key: bytes | None = None) -> str:
    """The same clue imported twice has the same fingerprint: worker, employer, site, owed period.

    Pass the deployment's reference key: an unkeyed hash of an ID number can be reversed by trying every
    possible number, and the fingerprint is stored beside the clue.
    """
    material = "|".join(
        [
            s.id_number.upper(),
            normalise_employer_name(s.employer_name),
            s.site_id or normalise_project_name(s.project_name),
            s.period_start.isoformat(),
            s.period_end.isoformat(),
        ]
    ).encode()
    if key:
        return hmac.new(key, b"clue|" + material, hashlib.sha256).hexdigest()
    return hashlib.sha256(material).hexdigest()
