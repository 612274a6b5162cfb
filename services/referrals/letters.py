"""Letters as documents: composed from `letter_templates.toml` and the case facts, rendered as an A4 PDF in
Chinese with fpdf2 and a CJK font, and hashed (SHA-256) for storage and verification.

Composing is pure (facts in, `LetterContent` out); rendering turns the content into bytes. A letter's
bytes never change after it is stored: a retried request returns the stored PDF, not a new rendering.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from fpdf import FPDF
from fpdf.enums import WrapMode

from services.common.official_paper import letterhead, title_and_body
from services.contracts.referrals_events import LetterKind
from services.referrals.domain import LETTER_NAMES, china_date, date_text

TEMPLATES = Path(__file__).parent / "letter_templates.toml"


@dataclass(frozen=True)
class LetterContent:
    kind: LetterKind
    issuer: str  # the red header and the signature: the office (根治欠薪办) or the bureau
    document_number: str
    title: str
    addressee: str
    paragraphs: list[str]
    rows: list[tuple[str, str]] = field(default_factory=list)
    evidence: list[tuple[str, str]] = field(default_factory=list)
    contact: str = ""
    copy_to: list[str] = field(default_factory=list)
    issued_on: str = ""
    reference: str = ""  # the letter id, printed in the footer for verification


@lru_cache(maxsize=4)
def _templates(path: Path = TEMPLATES) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


def compose(
    kind: LetterKind,
    *,
    facts: dict[str, Any],
    issuer: str,
    document_number: str,
    addressee: str,
    issued_at: datetime,
    rows: list[tuple[str, str]],
    evidence: list[tuple[str, str]] | None = None,
    contact: str = "",
    copy_to: list[str] | None = None,
    reference: str = "",
    template_name: str | None = None,
) -> LetterContent:
    """The letter's content from its template (by default the one named after `kind`); a fact the template
    needs and `facts` lacks is an error."""
    template = _templates()[template_name or kind.value]
    try:
        title = _JINJA.from_string(template["title"]).render(facts)
        paragraphs = [_JINJA.from_string(p).render(facts) for p in template["paragraphs"]]
    except jinja2.UndefinedError as exc:
        raise ValueError(f"letter {kind.value}: a fact is missing: {exc.message}") from exc
    return LetterContent(
        kind=kind,
        issuer=issuer,
        document_number=document_number,
        title=title,
        addressee=addressee,
        paragraphs=paragraphs,
        rows=rows if template.get("rows") else [],
        evidence=(evidence or []) if template.get("evidence") else [],
        contact=contact,
        copy_to=copy_to or [],
        issued_on=date_text(china_date(issued_at)),
        reference=reference,
    )


def render_pdf(content: LetterContent, font: Path) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{content.document_number} {content.title}")
    pdf.set_subject(LETTER_NAMES[content.kind])
    pdf.set_creator(content.issuer)
    # Fixed so that the same content renders to the same bytes (the stored hash stays meaningful).
    pdf.set_creation_date(datetime(2000, 1, 1))
    pdf.set_margins(25, 20, 25)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_font("cjk", fname=str(font))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    letterhead(pdf, width, content.issuer, content.document_number)
    title_and_body(pdf, width, content.title, content.addressee, content.paragraphs)

    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    if content.rows:
        pdf.ln(2)
        _table(pdf, width, content.rows, (0.3, 0.7))
    if content.evidence:
        pdf.ln(3)
        pdf.cell(width, 7, "案件材料清单", new_x="LMARGIN", new_y="NEXT")
        _table(pdf, width, [("序号  材料", "说明"), *content.evidence], (0.45, 0.55))

    pdf.ln(6)
    if content.contact:
        pdf.multi_cell(width, 7, content.contact, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.cell(width, 7, content.issuer, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width, 7, content.issued_on, align="R", new_x="LMARGIN", new_y="NEXT")
    if content.copy_to:
        pdf.ln(6)
        pdf.set_draw_color(0, 0, 0)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.multi_cell(width, 7, "抄送：" + "，".join(content.copy_to) + "。", new_x="LMARGIN", new_y="NEXT")
    if content.reference:
        pdf.set_y(-18)
        pdf.set_font("cjk", size=8)
        pdf.set_text_color(110, 110, 110)
        pdf.cell(width, 5, f"文书编号 {content.reference}（可在安薪平台核验）", align="C")
    return bytes(pdf.output())


def _table(pdf: FPDF, width: float, rows: list[tuple[str, str]], split: tuple[float, float]) -> None:
    with pdf.table(
        col_widths=split,
        width=width,
        text_align="LEFT",
        line_height=7,
        first_row_as_headings=False,
        wrapmode=WrapMode.CHAR,
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label)
            row.cell(value)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
