"""Tables people open in Excel: CSV that Excel on Chinese Windows reads as UTF-8, and XLSX.

Excel guesses a CSV file's encoding from its first bytes: without the UTF-8 byte order mark it takes the
system's code page (GBK on Chinese Windows) and shows every Chinese header as mojibake. Every CSV the
services answer starts with the mark (`csv_for_excel`). XLSX needs no guess; `xlsx` writes a workbook with
one sheet, its header rows in bold and frozen, numbers kept as numbers (openpyxl, write-only: the rows are
streamed, not held as cells in memory).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.common.downloads import content_disposition

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
# Timestamps are written in China's time, the time of the legal deadlines.
CHINA = timezone(timedelta(hours=8))
# A column wide enough for a county code, a date or a short Chinese label; longer text wraps in Excel.
COLUMN_WIDTH = 16


def csv_for_excel(text: str) -> bytes:
    """The CSV text as UTF-8 with the byte order mark Excel needs to read it as UTF-8 (once, even if given)."""
    return (text if text.startswith(BOM) else BOM + text).encode("utf-8")


def _cell_value(value: Any) -> Any:
    # Money stays a number Excel can sum; a timestamp loses its zone (Excel has none) after being put in China's.
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(CHINA).replace(tzinfo=None)
    if value is None or isinstance(value, (str, int, float, date)):
        return value
    return str(value)


def xlsx(title: str, header_rows: Sequence[Sequence[str]], rows: Iterable[Sequence[Any]]) -> bytes:
    """A workbook of one sheet named `title`: the header rows in bold and frozen above the data rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])  # Excel's limit on a sheet's name
    bold = Font(bold=True)
    width = max((len(r) for r in header_rows), default=0)
    for column in range(width):
        sheet.column_dimensions[get_column_letter(column + 1)].width = COLUMN_WIDTH
    sheet.freeze_panes = f"A{len(header_rows) + 1}"
    for header in header_rows:
        cells = []
        for text in header:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    for row in rows:
        sheet.append([_cell_value(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(content: bytes, filename: str, media_type: str) -> Response:
    """A table we made, as a download named `filename`."""
    return Response(content, media_type=media_type, headers={"Content-Disposition": content_disposition(filename)})
