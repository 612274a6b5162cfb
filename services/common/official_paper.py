"""The head and body every official paper shares (cases' orders and decisions, referrals' letters, sanctions'
notices): the issuer in red across the top, the document number under it, the red rule, then the title, the
addressee and the paragraphs. Each service adds what is its own (tables, signature, seal line) after it."""

from __future__ import annotations

from collections.abc import Iterable

from fpdf import FPDF
from fpdf.enums import WrapMode

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
    pdf.multi_cell(width, 9, title, align="C", new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.ln(3)
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(width, 7, f"{addressee}：", new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    for paragraph in paragraphs:
        pdf.multi_cell(width, 7, "\u3000\u3000" + paragraph, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
        pdf.ln(1)
