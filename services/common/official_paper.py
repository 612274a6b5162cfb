"""The head and body every official paper shares (cases' orders and decisions, referrals' letters, sanctions'
notices): the issuer in red across the top, the document number under it, the red rule, then the title, the
addressee and the paragraphs. Each service adds what is its own (tables, signature, seal line) after it."""

from __future__ import annotations

import math
from collections.abc import Iterable

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, WrapMode

from services.common.cjk_font import LETTERHEAD_RED


def letterhead(pdf: FPDF, width: float, issuer: str, document_number: str | None = None) -> None:
    """The red issuer line, the document number (when the paper has one) and the red rule under them. The
    page's font is registered as `cjk`."""
    pdf.set_text_color(*LETTERHEAD_RED)
    pdf.set_font("cjk", size=20)
    pdf.multi_cell(width, 11, issuer, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    if document_number is not None:
        pdf.set_font("cjk", size=12)
        pdf.cell(width, 8, document_number, align="C", new_x="LMARGIN", new_y="NEXT")
    # The rule sits closer under a number line than under the issuer alone.
    gap = 1 if document_number is not None else 2
    pdf.set_draw_color(*LETTERHEAD_RED)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y() + gap, pdf.w - pdf.r_margin, pdf.get_y() + gap)
    pdf.set_line_width(0.2)  # fpdf's default again, for the tables and boxes below
    pdf.ln(5 + gap)


def title_and_body(pdf: FPDF, width: float, title: str, addressee: str, paragraphs: Iterable[str]) -> None:
    """The title, centred; the addressee; each paragraph indented by two full-width spaces."""
    pdf.set_font("cjk", size=16)
    for line in title_lines(pdf, width, title):
        pdf.cell(width, 9, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(width, 7, f"{addressee}：", new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    for paragraph in paragraphs:
        pdf.multi_cell(width, 7, "\u3000\u3000" + paragraph, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
        pdf.ln(1)


def title_lines(pdf: FPDF, width: float, title: str) -> list[str]:
    """The title broken into lines the way GB/T 9704 asks of an official title: lines of even length, and
    the paper's kind at the end (the "…的交办函" after the last 的) never torn apart, nor a run of digits or
    Latin letters (a company's number). Measured in the page's current font."""
    whole = pdf.get_string_width(title)
    if whole <= width:
        return [title]
    count = math.ceil(whole / width)
    target = whole / count
    kind_starts = title.rfind("的")
    breaks: list[int] = []
    line_start = 0
    for index in range(1, len(title)):
        if len(breaks) == count - 1:
            break
        if pdf.get_string_width(title[line_start : index + 1]) > target:
            end = index  # the line ends before the character that would pass the even length, or earlier
            while end > line_start + 1 and not _may_break(title, end, kind_starts):
                end -= 1
            breaks.append(end)
            line_start = end
    lines = [title[start:end] for start, end in zip([0, *breaks], [*breaks, len(title)], strict=True)]
    if any(pdf.get_string_width(line) > width for line in lines):
        # An odd title that cannot be balanced: fpdf's own breaking, each line filled.
        filled = pdf.multi_cell(width, 9, title, dry_run=True, output=MethodReturnValue.LINES, wrapmode=WrapMode.CHAR)
        assert isinstance(filled, list)  # what output=LINES returns
        return filled
    return lines


def _may_break(title: str, index: int, kind_starts: int) -> bool:
    """Whether a line may end just before `title[index]`."""
    if kind_starts > 0 and index > kind_starts:
        return False
    return not (
        title[index - 1].isascii() and title[index - 1].isalnum() and title[index].isascii() and title[index].isalnum()
    )
