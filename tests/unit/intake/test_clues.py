"""Clue import: one result per row from JSON lines or CSV, and the fingerprint that finds a repeat."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest

from services.intake import clue_parsing, domain, validation
from tests.unit.intake.factories import TODAY, id_number, submission

COUNTIES = domain.DEFAULT_COUNTIES


def parse(text: str, fmt: str) -> list[clue_parsing.ParsedClue]:
    return list(clue_parsing.parse_clues(io.StringIO(text), fmt, counties=COUNTIES, today=TODAY))  # type: ignore[arg-type]


def as_csv(rows: list[dict[str, Any]], header: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header or list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_json_lines_give_a_result_per_row() -> None:
    rows = [submission(), submission(phone="1"), submission()]
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n[1,2]\nnot json\n"
    parsed = parse(text, "jsonl")
    assert [p.row for p in parsed] == [1, 2, 3, 5, 6]  # line numbers; the blank line is skipped
    assert parsed[0].submission is not None and parsed[0].submission.channel == "clue_import"
    assert parsed[1].submission is None and parsed[1].errors[0].field == "phone"
    assert parsed[3].errors[0].code == "not_json" and parsed[4].errors[0].code == "not_json"


def test_the_channel_of_an_imported_clue_cannot_be_chosen_by_the_file() -> None:
    parsed = parse(json.dumps(submission(channel="qr_form")), "jsonl")
    assert parsed[0].submission is not None and parsed[0].submission.channel == "clue_import"


def test_json_numbers_are_read_exactly() -> None:
    rest = {k: v for k, v in submission().items() if k not in ("amount_owed", "workers_affected")}
    # 18600.10 as a binary float is 18600.099999...; it must arrive as written.
    line = json.dumps(rest, ensure_ascii=False)[:-1] + ', "amount_owed": 18600.10, "workers_affected": 3}'
    parsed = parse(line, "jsonl")
    assert parsed[0].submission is not None
    assert parsed[0].submission.amount_owed == Decimal("18600.10") and parsed[0].submission.workers_affected == 3


def test_csv_gives_a_result_per_record() -> None:
    rows = [submission(), submission(amount_owed="-1"), submission(description="第一行\n第二行，工资没发。")]
    parsed = parse(as_csv(rows), "csv")
    assert [p.row for p in parsed] == [1, 2, 3]
    assert parsed[0].submission is not None and parsed[1].errors[0].field == "amount_owed"
    assert parsed[2].submission is not None and parsed[2].submission.description == "第一行\n第二行，工资没发。"


def test_csv_with_chinese_headers_and_a_byte_order_mark() -> None:
    aliases = {
        "worker_name": "姓名",
        "id_number": "身份证号码",
        "phone": "联系电话",
        "employer_name": "用人单位名称",
        "employer_credit_code": "统一社会信用代码",
        "project_name": "项目名称",
        "county_code": "所在区县",
        "period_start": "欠薪开始日期",
        "period_end": "欠薪结束日期",
        "amount_owed": "欠薪金额",
        "workers_affected": "涉及人数",
        "description": "投诉内容",
    }
    row = {aliases[k]: v for k, v in submission(county_code="邯山区", period_start="2026/6/1").items()}
    row["是否保密"] = "是"
    parsed = parse("\ufeff" + as_csv([row]), "csv")
    assert parsed[0].errors == [] and parsed[0].submission is not None
    assert parsed[0].submission.county_code == "130402" and parsed[0].submission.confidential


def test_a_csv_record_with_extra_columns_is_reported() -> None:
    text = as_csv([submission()]) + ",".join(str(v) for v in submission().values()) + ",extra\n"
    parsed = parse(text, "csv")
    assert parsed[0].submission is not None and parsed[1].errors[0].code == "columns"


def test_a_csv_the_reader_cannot_read_on_from_stops_with_a_row_error() -> None:
    text = as_csv([submission(), submission(description="长" * 200_000), submission()])
    parsed = parse(text, "csv")
    assert [p.row for p in parsed] == [1, 2] and parsed[0].submission is not None
    assert parsed[1].errors[0].field == "row" and parsed[1].errors[0].code == "not_csv"


def test_an_unknown_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse("", "xml")


def test_parsing_is_lazy() -> None:
    lines = (json.dumps(submission(), ensure_ascii=False) + "\n" for _ in range(10**9))
    first = next(clue_parsing.parse_clues(lines, "jsonl", counties=COUNTIES, today=TODAY))
    assert first.row == 1 and first.submission is not None


def fingerprint(overrides: dict[str, str] | None = None, *, key: bytes | None = None) -> str:
    s = validation.validate_submission(submission(**(overrides or {})), counties=COUNTIES, today=TODAY)
    return clue_parsing.clue_fingerprint(s, key=key)


def test_the_same_clue_has_the_same_fingerprint_however_it_is_written() -> None:
    assert fingerprint() == fingerprint(
        {
            "id_number": id_number().lower(),
            "employer_name": "邯郸市某建筑劳务有限责任公司 ",
            "project_name": "邯山区 某安置房项目",
            "amount_owed": "18000",
            "description": "另一种说法：工资一直没有给。",
            "phone": "13800138000",
        }
    )


@pytest.mark.parametrize(
    "field,value",
    [
        ("id_number", id_number(seq=452)),
        ("employer_name", "邯郸市另一建筑劳务有限公司"),
        ("site_id", "HD-2026-0002"),
        ("period_start", "2026-06-02"),
        ("period_end", "2026-09-29"),
    ],
)
def test_a_different_worker_employer_site_or_period_is_a_different_clue(field: str, value: str) -> None:
    assert fingerprint() != fingerprint({field: value})


def test_a_keyed_fingerprint_cannot_be_recomputed_without_the_key() -> None:
    key = b"k" * 32
    assert fingerprint(key=key) == fingerprint(key=key) != fingerprint()
    assert fingerprint(key=key) != fingerprint(key=b"j" * 32)
    assert len(fingerprint(key=key)) == 64


def test_repeats_in_one_import_are_found_by_fingerprint() -> None:
    rows = [submission(), submission(id_number=id_number(seq=452)), submission(amount_owed="100")]
    parsed = parse("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "jsonl")
    prints = [clue_parsing.clue_fingerprint(p.submission) for p in parsed if p.submission]
    assert prints[0] == prints[2] != prints[1]
