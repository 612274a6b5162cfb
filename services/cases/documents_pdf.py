"""The documents the case process asked the cases service for, as the agencies read them: the order to pay by a
deadline (限期改正指令书), the decision on additional compensation (加付赔偿金决定书) and the process's notices to
an office, each an A4 PDF in Chinese rendered with fpdf2 and a CJK font.

Composing is pure (the stored request in, `CaseDocument` out): it prints only what the record holds — the
employer's reference (and its name from the ledger), amounts, counts, the time limit and the legal basis the
order is issued under — and nothing of any worker. A document is rendered when it is read; its record never
changes, so it reads the same every time.

The referrals service (letters.py) and the sanctions service (documents.py) render their own documents the same
way; services do not import each other, and neither of those modules goes through a shared helper, so this one
finds its font itself as they do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import WrapMode

from services.common.cjk_font import cjk_font
from services.common.official_paper import letterhead, title_and_body
from services.contracts.legal_time import legal_date
from services.contracts.lifecycle import DayUnit, Office, compensation_amount

# The kinds of `documents` that are papers of the case (a forwarding and a process report are records only).
KINDS = ("order", "compensation_decision", "notice")

# The statute an order to pay, and the compensation after it, are issued under.
LEGAL_BASIS = "《中华人民共和国劳动合同法》第八十五条、《劳动保障监察条例》第二十六条"

OFFICE_NAMES = {
    Office.INSPECTOR.value: "承办劳动保障监察员",
    Office.BUREAU_HEAD.value: "本局负责人",
    Office.SUPERVISING_OFFICE.value: "根治拖欠农民工工资工作领导小组办公室",
    Office.DEPARTMENT.value: "交办部门",
}


def date_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def title_of(kind: str, request: dict[str, Any]) -> str:
    """The document's name as the agencies call it."""
    if kind == "order":
        return "补充限期改正指令书" if request.get("amends") else "限期改正指令书"
    if kind == "compensation_decision":
        return "加付赔偿金决定书"
    office = OFFICE_NAMES.get(str(request.get("office")), "")
    return f"工作通知（致{office}）" if office else "工作通知"


@dataclass(frozen=True)
class CaseDocument:
    issuer: str
    title: str
    addressee: str
    paragraphs: list[str]
    rows: list[tuple[str, str]] = field(default_factory=list)
    issued_on: date | None = None
    reference: str = ""  # the document's id, printed in the footer


def _employer(name: str | None, employer_ref: str) -> str:
    return name or f"（用人单位 {employer_ref}）"


def _percent(rate: str) -> str:
    return f"{(Decimal(rate) * 100).normalize():f}%"


def compose(document: dict[str, Any], *, issuer: str, employer_name: str | None = None) -> CaseDocument:
    """The document from its record (`documents` row: document_id, kind, request, created_at); `employer_name`
    is the ledger's name of the employer the request names by reference."""
    kind, request = document["kind"], document["request"]
    issued_on = legal_date(document["created_at"])
    common = {
        "issuer": issuer,
        "title": title_of(kind, request),
        "issued_on": issued_on,
        "reference": document["document_id"],
    }
    if kind == "order":
        unit = "个工作日" if request["pay_unit"] == DayUnit.WORKING.value else "日"
        amended = (
            (
                f"本机关此前已下达限期改正指令书（{request['amends']}），现因案件新增欠薪，拖欠金额增加 "
                f"{request.get('added_amount') or '—'} 元。"
            )
            if request.get("amends")
            else ""
        )
        return CaseDocument(
            **common,
            addressee=_employer(employer_name, request["employer_ref"]),
            paragraphs=[
                f"经查，你单位拖欠 {request['workers']} 名农民工工资共计 {request['amount_owed']} 元。{amended}",
                f"依据{LEGAL_BASIS}的规定，责令你单位自收到本指令书之日起 {request['pay_days']} {unit}内"
                f"足额支付拖欠的农民工工资 {request['amount_owed']} 元。",
                "逾期不支付的，本机关将依法责令你单位按应付金额百分之五十以上百分之一百以下的标准向劳动者加付赔偿金；"
                "以转移财产、逃匿等方法逃避支付或者有能力支付而不支付，数额较大的，依法移送公安机关。",
            ],
            rows=[
                ("案件编号", request["case_id"]),
                ("用人单位编号", request["employer_ref"]),
                ("项目编号", request["project_ref"]),
                ("涉及人数", str(request["workers"])),
                ("拖欠金额（元）", str(request["amount_owed"])),
                ("支付期限", f"{request['pay_days']} {unit}"),
                ("法律依据", LEGAL_BASIS),
            ],
        )
    if kind == "compensation_decision":
        amount = compensation_amount(Decimal(request["unpaid_amount"]), Decimal(request["rate"]))
        return CaseDocument(
            **common,
            addressee=_employer(employer_name, request["employer_ref"]),
            paragraphs=[
                f"本机关责令你单位限期支付拖欠的农民工工资，你单位逾期未足额支付，尚欠 {request['unpaid_amount']} 元。",
                f"依据{LEGAL_BASIS}的规定，本机关决定你单位按应付金额的 {_percent(request['rate'])} 向劳动者加付赔偿金，"
                f"共计 {amount} 元。",
                "如不服本决定，可以依法申请行政复议或者提起行政诉讼。",
            ],
            rows=[
                ("案件编号", request["case_id"]),
                ("用人单位编号", request["employer_ref"]),
                ("尚欠金额（元）", str(request["unpaid_amount"])),
                ("加付比例", _percent(request["rate"])),
                ("加付赔偿金（元）", str(amount)),
                ("法律依据", LEGAL_BASIS),
            ],
        )
    if kind == "notice":
        office = OFFICE_NAMES.get(str(request.get("office")), str(request.get("office")))
        addressee = f"{office}（{request['department']}）" if request.get("department") else office
        rows = [("事项", str(request["kind"])), ("涉及", str(request["subject"]))]
        if request.get("due_at"):
            rows.append(("期限", date_text(legal_date(datetime.fromisoformat(request["due_at"])))))
        return CaseDocument(**common, addressee=addressee, paragraphs=[str(request["text"])], rows=rows)
    raise ValueError(f"{kind} is not a document of the case")


def render_pdf(document: CaseDocument, font: Path | None = None, *, created: datetime | None = None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{document.title} {document.reference}")
    pdf.set_author(document.issuer)
    if created is not None:
        # The record's own time: the same document reads as the same bytes every time.
        pdf.set_creation_date(created)
    pdf.set_margins(25, 20, 25)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_font("cjk", fname=str(font or cjk_font()))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    letterhead(pdf, width, document.issuer)
    title_and_body(pdf, width, document.title, document.addressee, document.paragraphs)
    if document.rows:
        pdf.ln(2)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.2)
        with pdf.table(
            col_widths=(0.3, 0.7),
            width=width,
            text_align="LEFT",
            line_height=7,
            first_row_as_headings=False,
            wrapmode=WrapMode.CHAR,
        ) as table:
            for label, value in document.rows:
                row = table.row()
                row.cell(label)
                row.cell(value)
    pdf.ln(8)
    pdf.cell(width, 7, document.issuer, align="R", new_x="LMARGIN", new_y="NEXT")
    if document.issued_on:
        pdf.cell(width, 7, date_text(document.issued_on), align="R", new_x="LMARGIN", new_y="NEXT")
    if document.reference:
        pdf.set_y(-18)
        pdf.set_font("cjk", size=8)
        pdf.set_text_color(110, 110, 110)
        pdf.cell(width, 5, f"文书编号 {document.reference}", align="C")
    return bytes(pdf.output())
