"""The documents of the procedure, in Chinese: the prior notice (告知书), the listing decision (列入决定书),
the invitation to a joint interview (约谈通知书), and each quarter's published list of major violations as PDF
and HTML.

Composing is pure (facts in, paragraphs out); rendering turns them into A4 PDF bytes with fpdf2 and a CJK
font. Stored documents never change: a retried activity returns the stored document, not a new rendering.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from services.common.cjk_font import cjk_font
from services.common.official_paper import letterhead, title_and_body
from services.contracts.lifecycle import DayUnit, ListingGround
from services.sanctions.domain import GROUND_NAMES, date_text, quarter_text


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class Letter:
    issuer: str
    document_number: str
    title: str
    addressee: str
    paragraphs: list[str]
    rows: list[tuple[str, str]] = field(default_factory=list)
    issued_on: date | None = None


def _employer(name: str | None, employer_ref: str) -> str:
    return name or f"（用人单位 {employer_ref}）"


def prior_notice(
    *,
    authority: str,
    number: str,
    employer_name: str | None,
    employer_ref: str,
    credit_code: str | None,
    project_name: str | None,
    ground: ListingGround,
    basis: str,
    amount: str,
    issued_on: date,
    defence_days: int,
    defence_unit: DayUnit,
    defence_due: date,
) -> Letter:
    unit = "个工作日" if defence_unit is DayUnit.WORKING else "日"
    return Letter(
        issuer=authority,
        document_number=number,
        title="拖欠农民工工资失信联合惩戒对象名单列入事先告知书",
        addressee=_employer(employer_name, employer_ref),
        paragraphs=[
            f"经查，你单位{('在' + project_name + '中') if project_name else ''}拖欠农民工工资，经责令限期支付后"
            f"逾期仍未支付，尚欠 {amount} 元。{GROUND_NAMES[ground]}（{basis}）。",
            "依据《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》（人力资源社会保障部令第45号）的规定，"
            "本机关拟将你单位及其法定代表人或者主要负责人、负有直接责任的有关人员列入拖欠农民工工资失信联合惩戒对象名单。",
            f"你单位有权在收到本告知书之日起 {defence_days} {unit}内（即 {date_text(defence_due)} 前）"
            "向本机关提出陈述、申辩。逾期未提出的，视为放弃陈述、申辩的权利。",
            "在作出列入决定前足额支付拖欠的农民工工资的，可以不列入名单。",
        ],
        rows=[("统一社会信用代码", credit_code or "—"), ("案件编号", employer_ref)],
        issued_on=issued_on,
    )


def listing_decision(
    *,
    authority: str,
    number: str,
    employer_name: str | None,
    employer_ref: str,
    credit_code: str | None,
    ground: ListingGround,
    basis: str,
    notice_number: str | None,
    listed_on: date,
    expires_on: date,
    persons: list[tuple[str, str]],
    listing_years: int,
    early_removal_months: int,
) -> Letter:
    rows = [
        ("统一社会信用代码", credit_code or "—"),
        ("列入日期", date_text(listed_on)),
        ("移出日期（期满）", date_text(expires_on)),
    ]
    rows += [(role, name) for role, name in persons]
    return Letter(
        issuer=authority,
        document_number=number,
        title="拖欠农民工工资失信联合惩戒对象名单列入决定书",
        addressee=_employer(employer_name, employer_ref),
        paragraphs=[
            f"本机关已于此前向你单位送达事先告知书（{notice_number or '—'}），陈述、申辩期限已届满。",
            f"经查，{GROUND_NAMES[ground]}（{basis}）。",
            "依据《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》的规定，决定将你单位及下列人员列入拖欠农民工工资"
            f"失信联合惩戒对象名单，期限 {listing_years} 年，期满自动移出，并依法向社会公布、推送信用信息共享平台实施联合惩戒。",
            f"你单位足额支付拖欠工资、自整改之日起满 {early_removal_months} 个月并作出信用承诺的，可以申请提前移出（信用修复）。",
            "如不服本决定，可依法申请行政复议或者提起行政诉讼。",
        ],
        rows=rows,
        issued_on=listed_on,
    )


def interview_invitation(
    *,
    authority: str,
    number: str,
    addressee: str,
    employer_name: str,
    credit_code: str | None,
    when: str,
    place: str,
    departments: list[str],
    case_count: int,
    amount_owed: str,
    issued_on: date,
    to_employer: bool,
) -> Letter:
    """The invitation to a joint interview (约谈通知书): to the employer, to attend with its legal
    representative or person in charge; to a department, to take part."""
    joint = "、".join(departments) or "有关部门"
    facts = f"近期{employer_name}拖欠农民工工资问题多发，涉及欠薪案件 {case_count} 件、金额合计 {amount_owed} 元。"
    if to_employer:
        paragraphs = [
            facts
            + f"依据《保障农民工工资支付条例》和本地根治拖欠农民工工资工作部署，本机关会同{joint}对你单位进行联合约谈。",
            f"请你单位法定代表人或者主要负责人于 {when} 到 {place} 参加约谈，并携带拖欠工资的核对情况、支付计划及相关材料。",
            "约谈将开展以案释法、违法惩处、信用惩戒等警示教育；你单位在约谈中作出的承诺将予以记录并跟踪落实，"
            "拒不履行的，依法予以处理。",
        ]
    else:
        paragraphs = [
            facts + "依据《保障农民工工资支付条例》和本地根治拖欠农民工工资工作部署，本机关拟对该单位进行联合约谈。",
            f"请贵单位派员于 {when} 到 {place} 参加约谈，共同开展以案释法、违法惩处、信用惩戒等警示教育。",
        ]
    return Letter(
        issuer=authority,
        document_number=number,
        title="约谈通知书",
        addressee=addressee,
        paragraphs=paragraphs,
        rows=[
            ("被约谈单位", employer_name),
            ("统一社会信用代码", credit_code or "—"),
            ("约谈时间", when),
            ("约谈地点", place),
            ("参加部门", joint),
        ],
        issued_on=issued_on,
    )


def render_pdf(letter: Letter, font: Path | None = None) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{letter.document_number} {letter.title}")
    pdf.set_author(letter.issuer)
    pdf.add_font("cjk", fname=str(font or cjk_font()))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    letterhead(pdf, width, letter.issuer, letter.document_number)
    title_and_body(pdf, width, letter.title, letter.addressee, letter.paragraphs)
    if letter.rows:
        pdf.ln(2)
        for label, value in letter.rows:
            pdf.cell(width * 0.35, 8, label, border=1)
            pdf.cell(width * 0.65, 8, value, border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.cell(width, 7, letter.issuer, align="R", new_x="LMARGIN", new_y="NEXT")
    if letter.issued_on:
        pdf.cell(width, 7, date_text(letter.issued_on), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- the quarterly list of major violations --------------------------------------------------------------

LIST_COLUMNS = [
    ("employer_name", "违法主体"),
    ("credit_code", "统一社会信用代码"),
    ("project_name", "项目"),
    ("county", "县（市、区）"),
    ("violation", "主要违法事实"),
    ("handling", "处理情况"),
]


def list_title(authority: str, quarter: str) -> str:
    return f"{authority}{quarter_text(quarter)}重大劳动保障违法行为社会公布"


def render_list_pdf(authority: str, quarter: str, entries: list[dict[str, Any]], font: Path | None = None) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(list_title(authority, quarter))
    pdf.add_font("cjk", fname=str(font or cjk_font()))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("cjk", size=16)
    pdf.multi_cell(width, 10, list_title(authority, quarter), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=9)
    if not entries:
        pdf.cell(width, 8, "本季度无应予公布的重大劳动保障违法行为。", new_x="LMARGIN", new_y="NEXT")
    # The CJK font has no bold face: headings use the regular one.
    with pdf.table(
        col_widths=(40, 32, 40, 22, 70, 50),
        text_align="LEFT",
        headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235)),
    ) as table:
        header = table.row()
        for _, label in LIST_COLUMNS:
            header.cell(label)
        for entry in entries:
            row = table.row()
            for key, _ in LIST_COLUMNS:
                row.cell(str(entry.get(key) or "—"))
    return bytes(pdf.output())


def render_list_html(authority: str, quarter: str, entries: list[dict[str, Any]]) -> bytes:
    title = html.escape(list_title(authority, quarter))
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in LIST_COLUMNS)
    rows = (
        "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(entry.get(key) or '—'))}</td>" for key, _ in LIST_COLUMNS) + "</tr>"
            for entry in entries
        )
        or f'<tr><td colspan="{len(LIST_COLUMNS)}">本季度无应予公布的重大劳动保障违法行为。</td></tr>'
    )
    page = (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>\n"
    )
    return page.encode()
