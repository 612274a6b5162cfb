"""`anxin clues import` cuts a clue file into batches by records: a quoted multi-line CSV field stays in one
record, and every row keeps the number intake gives it in the whole file."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from operations.clue_batches import ClueFileInvalid, read_clue_file
from services.intake import clue_parsing, domain
from tests.unit.intake.factories import TODAY, submission

MULTI_LINE = "第一行：六月到九月在该项目做钢筋工，\n第二行：工资一直没有发放，\n第三行：包工头说等结算。"


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def parsed(body: bytes | str, fmt: str) -> list[clue_parsing.ParsedClue]:
    text = body.decode() if isinstance(body, bytes) else body
    return list(
        clue_parsing.parse_clues(
            io.StringIO(text),
            fmt,
            counties=domain.DEFAULT_COUNTIES,  # type: ignore[arg-type]
            today=TODAY,
        )
    )


def as_sent_in_batches(text: str, fmt: str, size: int) -> list[tuple[int, str | None, list[str]]]:
    """What intake reports for each batch, with each row's number mapped back to the file's."""
    seen = []
    for batch in read_clue_file(text, is_csv=fmt == "csv").batches(size):
        for clue in parsed(batch.body, fmt):
            description = clue.submission.description if clue.submission else None
            seen.append((batch.file_row(clue.row), description, [e.code for e in clue.errors]))
    return seen


def as_sent_whole(text: str, fmt: str) -> list[tuple[int, str | None, list[str]]]:
    return [
        (c.row, c.submission.description if c.submission else None, [e.code for e in c.errors])
        for c in parsed(text, fmt)
    ]


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_a_quoted_multi_line_description_stays_in_one_record(size: int) -> None:
    rows = [
        submission(),
        submission(description=MULTI_LINE),
        submission(amount_owed="-1"),
        submission(description=MULTI_LINE.replace("\n", "\r\n")),
        submission(),
    ]
    text = as_csv(rows)
    assert text.count("\n") > len(rows) + 1  # more text lines than records: cutting by lines would split one
    clues = read_clue_file(text, is_csv=True)
    assert [number for number, _ in clues.rows] == [1, 2, 3, 4, 5]
    seen = as_sent_in_batches(text, "csv", size)
    assert seen == as_sent_whole(text, "csv")
    assert [row for row, _, _ in seen] == [1, 2, 3, 4, 5]
    assert seen[1][1] == MULTI_LINE and seen[3][1] is not None and "第三行" in seen[3][1]
    assert seen[2][2] == ["not_positive"]  # the invalid row is named by its record number in the file


def test_every_batch_carries_the_header_and_blank_lines_are_no_records() -> None:
    text = as_csv([submission(), submission(description=MULTI_LINE)]).replace("\r\n", "\r\n\r\n", 1)
    batches = list(read_clue_file(text, is_csv=True).batches(1))
    header = text.split("\r\n", 1)[0]
    assert [b.rows for b in batches] == [[1], [2]]
    assert all(b.body.decode().startswith(header + "\r\n") for b in batches)
    assert as_sent_in_batches(text, "csv", 1) == as_sent_whole(text, "csv")


def test_json_lines_keep_their_line_numbers() -> None:
    lines = [
        json.dumps(submission(), ensure_ascii=False),
        "",
        "not json",
        json.dumps(submission(description="说明里有\u2028行分隔符"), ensure_ascii=False),
        "[1]",
    ]
    text = "\n".join(lines) + "\n"
    seen = as_sent_in_batches(text, "jsonl", 2)
    assert seen == as_sent_whole(text, "jsonl")
    assert [(row, errors) for row, _, errors in seen] == [(1, []), (3, ["not_json"]), (4, []), (5, ["not_json"])]


def test_a_record_the_csv_module_cannot_read_is_named() -> None:
    text = as_csv([submission()]) + ("x" * (csv.field_size_limit() + 1)) + "\r\n"
    with pytest.raises(ClueFileInvalid, match="record 2"):
        read_clue_file(text, is_csv=True)
