"""Printable QR posters for registered sites (PNG and PDF), in Chinese.

The QR code opens the complaint form with the site prefilled, so a worker at the gate only has to scan.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import qrcode
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
]

TITLE = "欠薪投诉 扫码即诉"
INSTRUCTIONS = [
    "1. 用手机扫描上方二维码",
    "2. 填写姓名、身份证号、手机号和欠薪情况",
    "3. 保存投诉编号和查询码，随时查询进度",
]
HOTLINE = "劳动保障监察举报投诉电话：12333"


def cjk_font_path() -> Path:
    """A font that renders Chinese: ANXIN_CJK_FONT, or one of Debian's (the Makefile installs one)."""
    configured = os.environ.get("ANXIN_CJK_FONT")
    for candidate in ([configured] if configured else []) + FONT_CANDIDATES:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise FileNotFoundError(
        "no Chinese font found: install Debian's fonts-wqy-microhei (`make install` does) or set ANXIN_CJK_FONT"
    )


def qr_image(url: str, box_size: int = 12) -> Image.Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=2)
    code.add_data(url)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def poster_png(site: Mapping[str, Any], url: str) -> bytes:
    width, height = 1240, 1754  # A4 at 150 dpi
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    font_path = str(cjk_font_path())
    title = ImageFont.truetype(font_path, 96)
    body = ImageFont.truetype(font_path, 44)
    small = ImageFont.truetype(font_path, 36)
    draw.rectangle([0, 0, width, 200], fill="#b71c1c")
    draw.text((width // 2, 100), TITLE, font=title, fill="white", anchor="mm")
    draw.text((width // 2, 280), str(site["name"]), font=body, fill="black", anchor="mm")
    draw.text((width // 2, 350), f"{site.get('county_name', '')} {site.get('address', '')}", font=small,
              fill="#333", anchor="mm")
    qr = qr_image(url).resize((760, 760), Image.Resampling.NEAREST)
    page.paste(qr, ((width - 760) // 2, 420))
    y = 1230
    for line in INSTRUCTIONS:
        draw.text((160, y), line, font=body, fill="black")
        y += 80
    draw.text((width // 2, y + 60), HOTLINE, font=body, fill="#b71c1c", anchor="mm")
    draw.text((width // 2, height - 60), url, font=small, fill="#555", anchor="mm")
    out = io.BytesIO()
    page.save(out, format="PNG", optimize=True)
    return out.getvalue()


def poster_pdf(site: Mapping[str, Any], url: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{TITLE} - {site['name']}")
    pdf.add_page()
    pdf.add_font("cjk", fname=str(cjk_font_path()))
    pdf.set_fill_color(183, 28, 28)
    pdf.rect(0, 0, 210, 36, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("cjk", size=32)
    pdf.set_xy(0, 10)
    pdf.cell(210, 16, TITLE, align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=16)
    pdf.set_xy(10, 44)
    pdf.multi_cell(190, 9, str(site["name"]), align="C")
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(190, 7, f"{site.get('county_name', '')} {site.get('address', '')}", align="C",
                   new_x="LMARGIN", new_y="NEXT")
    qr = io.BytesIO()
    qr_image(url).save(qr, format="PNG")
    pdf.image(qr, x=45, y=70, w=120, h=120)
    pdf.set_xy(25, 198)
    pdf.set_font("cjk", size=15)
    for line in INSTRUCTIONS:
        pdf.cell(160, 10, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(25)
    pdf.ln(6)
    pdf.set_text_color(183, 28, 28)
    pdf.cell(0, 10, HOTLINE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(80, 80, 80)
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 8, url, align="C")
    return bytes(pdf.output())
