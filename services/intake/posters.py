"""Printable QR posters for registered sites (PNG and PDF, A4), in Chinese.

The QR code opens the complaint form with the site prefilled, so a worker at the gate only has to scan.
Posters hang outdoors on site fences: the code uses error correction level Q (a quarter of it may be
dirty or torn) and the PDF draws it as vector squares, sharp at any print size.

Chinese text needs a CJK font: `ANXIN_CJK_FONT` names one, otherwise the usual font directories are
searched (Debian's `fonts-wqy-microhei` package is the one the Makefile installs).

The poster route is public: the font directories are searched once per process (not on every request),
and a rendered poster is kept per format, site facts and URL (`poster`), so asking for the same poster
again costs a dictionary look-up rather than a render.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import qrcode
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_Q

FONT_ENV = "ANXIN_CJK_FONT"
FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)
# File names of fonts that cover Chinese and that fpdf2 and Pillow both read (TrueType outlines), best first.
FONT_FILES = (
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "DroidSansFallbackFull.ttf",
    "NotoSansCJK-Regular.ttc",
    "NotoSansSC-Regular.ttf",
    "NotoSansSC-Regular.otf",
)

TITLE = "欠薪投诉 扫码即诉"
INSTRUCTIONS = (
    "1. 用手机扫描上方二维码",
    "2. 填写姓名、身份证号、手机号和欠薪情况",
    "3. 记下投诉编号和查询码，随时查询进度",
)
REASSURANCE = "投诉不收任何费用，个人信息依法保密"
HOTLINE = "劳动保障监察举报投诉电话：12333"
QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks

RED = (183, 28, 28)


class FontNotFound(RuntimeError):
    pass


def cjk_font_path() -> Path:
    """A font that renders Chinese: `ANXIN_CJK_FONT` if set (it must exist), else the first known font in
    the usual directories. Found once per process for each setting; a failure is not remembered."""
    return find_cjk_font(os.environ.get(FONT_ENV) or None, FONT_DIRS)


@functools.cache
def find_cjk_font(configured: str | None, font_dirs: tuple[str, ...]) -> Path:
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FontNotFound(f"{FONT_ENV}={configured} is not a font file")
        return path
    directories = [Path(d).expanduser() for d in font_dirs]
    for name in FONT_FILES:
        for directory in directories:
            if directory.is_dir():
                found = next(iter(sorted(directory.rglob(name))), None)
                if found is not None:
                    return found
    raise FontNotFound(
        "no Chinese font found: install Debian's fonts-wqy-microhei (`make install` does) "
        f"or set {FONT_ENV} to a .ttf/.ttc file that covers Chinese"
    )


def qr_matrix(url: str) -> list[list[bool]]:
    """The code's modules (True = dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_image(url: str, size: int) -> Image.Image:
    """The code as an image of at most `size` pixels square, whole pixels per module (no blurring)."""
    matrix = qr_matrix(url)
    box = max(1, size // len(matrix))
    image = Image.new("1", (len(matrix), len(matrix)), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    return image.resize((box * len(matrix),) * 2, Image.Resampling.NEAREST).convert("RGB")


def dark_runs(matrix: list[list[bool]]) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules: one rectangle each."""
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                yield y, start, x - start
            else:
                x += 1


def _site_lines(site: Mapping[str, Any]) -> tuple[str, str, str | None, str | None]:
    name = str(site.get("name") or "")
    place = " ".join(str(part) for part in (site.get("county_name"), site.get("address")) if part)
    contractor = f"总包单位：{site['general_contractor']}" if site.get("general_contractor") else None
    site_id = f"项目编号：{site['site_id']}" if site.get("site_id") else None
    return name, place, contractor, site_id


# -- PNG (A4 at 150 dpi) -------------------------------------------------------------------------------

PNG_SIZE = (1240, 1754)
PNG_QR_TOP = 470
PNG_QR_SIZE = 720


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines of `text` no wider than `width` (Chinese breaks between any two characters)."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and draw.textlength(line + char, font=font) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


def png_qr_box(url: str) -> tuple[int, int, int]:
    """Where `poster_png` puts the code: (left, top, pixels per module)."""
    modules = len(qr_matrix(url))
    box = PNG_QR_SIZE // modules
    return (PNG_SIZE[0] - box * modules) // 2, PNG_QR_TOP, box


POSTERS_KEPT = 32  # rendered posters kept per process (a PNG is about 100 kB)


def poster(fmt: str, site: Mapping[str, Any], url: str) -> bytes:
    """The site's poster as `fmt` ("png" or "pdf"), rendered once for the same site facts and URL."""
    return _rendered(fmt, tuple(sorted(site.items())), url)


@functools.lru_cache(maxsize=POSTERS_KEPT)
def _rendered(fmt: str, site: tuple[tuple[str, Any], ...], url: str) -> bytes:
    render = {"png": poster_png, "pdf": poster_pdf}[fmt]
    return render(dict(site), url)


def poster_png(site: Mapping[str, Any], url: str) -> bytes:
    width, height = PNG_SIZE
    page = Image.new("RGB", PNG_SIZE, "white")
    draw = ImageDraw.Draw(page)
    font_path = str(cjk_font_path())
    title, heading, body, small = (ImageFont.truetype(font_path, size) for size in (96, 54, 42, 34))
    name, place, contractor, site_id = _site_lines(site)

    draw.rectangle([0, 0, width, 200], fill=RED)
    draw.text((width // 2, 100), TITLE, font=title, fill="white", anchor="mm")
    y = 235
    for line in _wrap(draw, name, heading, width - 160)[:2]:
        draw.text((width // 2, y), line, font=heading, fill="black", anchor="mt")
        y += 66
    for text in (place, contractor):
        if text:
            draw.text((width // 2, y), _wrap(draw, text, small, width - 160)[0], font=small, fill="#333", anchor="mt")
            y += 46

    left, top, box = png_qr_box(url)
    page.paste(qr_image(url, PNG_QR_SIZE), (left, top))
    y = top + box * len(qr_matrix(url)) + 10
    if site_id:
        draw.text((width // 2, y), site_id, font=small, fill="#555", anchor="mt")
    y += 70
    for line in INSTRUCTIONS:
        draw.text((150, y), line, font=body, fill="black")
        y += 66
    draw.text((width // 2, y + 30), REASSURANCE, font=body, fill="black", anchor="mt")
    draw.rectangle([0, height - 190, width, height], fill=RED)
    draw.text((width // 2, height - 140), HOTLINE, font=heading, fill="white", anchor="mm")
    draw.text((width // 2, height - 60), url, font=small, fill="white", anchor="mm")
    out = io.BytesIO()
    page.save(out, format="PNG", optimize=True, dpi=(150, 150))
    return out.getvalue()


# -- PDF (A4, millimetres) -----------------------------------------------------------------------------

PDF_QR_TOP = 74.0
PDF_QR_SIZE = 110.0


def pdf_qr_box(url: str) -> tuple[float, float, float]:
    """Where `poster_pdf` draws the code: (left, top, millimetres per module)."""
    module = PDF_QR_SIZE / len(qr_matrix(url))
    return (210 - PDF_QR_SIZE) / 2, PDF_QR_TOP, module


def poster_pdf(site: Mapping[str, Any], url: str) -> bytes:
    name, place, contractor, site_id = _site_lines(site)
    pdf = FPDF(format="A4")
    pdf.set_title(f"{TITLE} - {name}")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.add_font("cjk", fname=str(cjk_font_path()))

    pdf.set_fill_color(*RED)
    pdf.rect(0, 0, 210, 34, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("cjk", size=32)
    pdf.set_xy(0, 9)
    pdf.cell(210, 16, TITLE, align="C")

    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=18)
    pdf.set_xy(15, 40)
    pdf.multi_cell(180, 9, name, align="C", new_x="LMARGIN", new_y="NEXT", max_line_height=9)
    pdf.set_font("cjk", size=12)
    for text in (place, contractor):
        if text:
            pdf.set_x(15)
            pdf.multi_cell(180, 6, text, align="C", new_x="LMARGIN", new_y="NEXT")

    left, top, module = pdf_qr_box(url)
    matrix = qr_matrix(url)
    pdf.set_fill_color(0, 0, 0)
    for row, column, length in dark_runs(matrix):
        pdf.rect(left + column * module, top + row * module, length * module, module, style="F")

    pdf.set_font("cjk", size=11)
    pdf.set_text_color(80, 80, 80)
    if site_id:
        pdf.set_xy(0, top + PDF_QR_SIZE + 1)
        pdf.cell(210, 6, site_id, align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=16)
    pdf.set_xy(30, top + PDF_QR_SIZE + 12)
    for line in INSTRUCTIONS:
        pdf.cell(150, 10, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(30)
    pdf.set_xy(0, pdf.get_y() + 3)
    pdf.cell(210, 10, REASSURANCE, align="C")

    pdf.set_fill_color(*RED)
    pdf.rect(0, 297 - 30, 210, 30, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("cjk", size=20)
    pdf.set_xy(0, 297 - 27)
    pdf.cell(210, 12, HOTLINE, align="C")
    pdf.set_font("cjk", size=10)
    pdf.set_xy(0, 297 - 14)
    pdf.cell(210, 8, url, align="C")
    return bytes(pdf.output())
