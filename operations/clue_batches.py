"""A clue file cut into the batches `anxin clues import` sends, each row keeping its number in the file.

A CSV file is read as records, not text lines: a quoted field may hold line breaks (a description written
on several lines), and cutting between two of its lines would send half a record in one batch and the rest,
read as a record of its own, in the next. Each batch is written back as CSV under the file's header.

Intake numbers the rows of what it receives (CSV: the record after the header; JSON lines: the line), so a
batch carries the file's number of each of its rows, and a result for row N of a batch is about
`batch.rows[N - 1]` of the file — the numbering intake would have given had the file been sent whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass


class ClueFileInvalid(ValueError):
    """The file cannot be cut into records (a CSV record the csv module cannot read)."""


@dataclass(frozen=True)
class ClueBatch:
    """One request's file: `body` to send, and the number in the whole file of each row it holds."""

    body: bytes
    rows: list[int]

    def file_row(self, batch_row: int) -> int:
        """The file's number of the row intake reports as `batch_row` (1-based) of this batch."""
        return self.rows[batch_row - 1]


@dataclass(frozen=True)
class ClueFile:
    """A clue file read whole: its rows (CSV records or JSON lines), each with its number in the file."""

    header: list[str] | None
    rows: list[tuple[int, list[str] | str]]

    def batches(self, size: int) -> Iterator[ClueBatch]:
        for start in range(0, len(self.rows), size):
            chunk = self.rows[start : start + size]
            yield ClueBatch(self._body([row for _, row in chunk]), [number for number, _ in chunk])

    def _body(self, rows: list[list[str] | str]) -> bytes:
        if self.header is None:
            return "".join(f"{row}\n" for row in rows).encode()
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.header)
        writer.writerows(rows)
        return out.getvalue().encode()


def read_clue_file(text: str, *, is_csv: bool) -> ClueFile:
    """Rows as intake would number them in the whole file: CSV records after the header (a blank line is no
    record), or JSON lines (a blank line is skipped but counted, as intake counts lines)."""
    if not is_csv:
        # Lines end at "\n" only, as intake reads them: str.splitlines would also cut at U+2028, which
        # JSON may carry unescaped inside a string.
        lines = text.split("\n")
        return ClueFile(None, [(n, line.rstrip("\r")) for n, line in enumerate(lines, start=1) if line.strip()])
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str] | str]] = []
    try:
        for record in reader:
            if not record:
                continue  # a blank line, which intake's reader skips too
            if header is None:
                header = record
            else:
                rows.append((len(rows) + 1, record))
    except csv.Error as exc:
        raise ClueFileInvalid(f"record {len(rows) + 1} (line {reader.line_num}) is not valid CSV: {exc}") from exc
    return ClueFile(header or [], rows)
