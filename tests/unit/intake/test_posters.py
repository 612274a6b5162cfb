"""QR posters: Chinese text in the PDF, and a code in both formats that opens the form for this site."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream

from services.intake import posters

SITE = {
    "site_id": "HD-2026-0001",
    "name": "邯山区某安置房项目",
    "county_name": "邯山区",
    "address": "人民路1号",
    "general_contractor": "某建工集团有限公司",
}
URL = "https://anxin.example/?site=HD-2026-0001"
POINTS_PER_MM = 72 / 25.4


def decode_with_zbar(image: Image.Image) -> str:
    """The text of the QR code in `image`, read by zbar as a phone's scanner would."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg (Debian's zbar-tools) is not installed; the module check still ran")
    out = io.BytesIO()
    image.save(out, format="PNG")
    result = subprocess.run([zbarimg, "--raw", "-q", "-"], input=out.getvalue(), capture_output=True, timeout=30)
    return result.stdout.decode().strip()


def grid_image(matrix: list[list[bool]], scale: int = 8) -> Image.Image:
    image = Image.new("1", (len(matrix), len(matrix)), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    return image.resize((len(matrix) * scale,) * 2, Image.Resampling.NEAREST)


@pytest.fixture(scope="module")
def png() -> Image.Image:
    return Image.open(io.BytesIO(posters.poster_png(SITE, URL))).convert("RGB")


@pytest.fixture(scope="module")
def pdf() -> PdfReader:
    return PdfReader(io.BytesIO(posters.poster_pdf(SITE, URL)))


def test_the_png_is_an_a4_page_at_150_dpi(png: Image.Image) -> None:
    assert png.size == posters.PNG_SIZE == (1240, 1754)


def test_the_pngs_code_is_this_sites_form_module_for_module(png: Image.Image) -> None:
    expected = posters.qr_matrix(URL)
    left, top, box = posters.png_qr_box(URL)
    assert box >= 10  # big enough to scan from a step back
    grey = png.convert("L")
    sampled = [
        [
            grey.getpixel((left + x * box + box // 2, top + y * box + box // 2)) < 128  # type: ignore[operator]
            for x in range(len(expected))
        ]
        for y in range(len(expected))
    ]
    assert sampled == expected


def test_the_pngs_code_scans(png: Image.Image) -> None:
    assert decode_with_zbar(png) == URL


def test_the_pdf_carries_the_chinese_text(pdf: PdfReader) -> None:
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    for expected in (
        "欠薪投诉",
        "扫码即诉",
        "邯山区某安置房项目",
        "邯山区 人民路1号",
        "总包单位：某建工集团有限公司",
        "项目编号：HD-2026-0001",
        "用手机扫描上方二维码",
        "12333",
        URL,
    ):
        assert expected in text, expected
    assert pdf.metadata is not None and "扫码即诉" in str(pdf.metadata.title)


def pdf_modules(pdf: PdfReader, url: str) -> list[list[bool]]:
    """The code's modules as drawn in the PDF: the filled squares inside the code's box, back on a grid."""
    page = pdf.pages[0]
    height_pt = float(page.mediabox.height)
    left, top, module = posters.pdf_qr_box(url)
    size = len(posters.qr_matrix(url))
    grid = [[False] * size for _ in range(size)]
    for operands, operator in ContentStream(page.get_contents(), pdf).operations:
        if operator != b"re":
            continue
        x, y, w, h = (float(v) / POINTS_PER_MM for v in operands)
        y_top = height_pt / POINTS_PER_MM - y
        if abs(abs(h) - module) > 0.05 or not (left - 0.01 <= x < left + size * module):
            continue
        row, column = round((y_top - top) / module), round((x - left) / module)
        for c in range(column, column + round(w / module)):
            grid[row][c] = True
    return grid


def test_the_pdfs_code_is_drawn_in_vector_squares_module_for_module(pdf: PdfReader) -> None:
    assert pdf_modules(pdf, URL) == posters.qr_matrix(URL)


def test_the_pdfs_code_scans(pdf: PdfReader) -> None:
    assert decode_with_zbar(grid_image(pdf_modules(pdf, URL))) == URL


def test_the_code_still_scans_with_a_patch_torn_out() -> None:
    matrix = posters.qr_matrix(URL)
    assert matrix[0] == [False] * len(matrix)  # a quiet zone all round
    size = len(matrix)
    # Tear out (whiten) an eighth of the code, right of centre, clear of the finder patterns: a level-M code of
    # this URL no longer scans after that, level Q does.
    torn = [row[:] for row in matrix]
    side = round((size - 2 * posters.QUIET_ZONE) * 0.36)
    for y in range(size // 2 - side // 2, size // 2 + side // 2):
        for x in range(size // 2, size // 2 + side):
            torn[y][x] = False
    assert torn != matrix
    assert decode_with_zbar(grid_image(torn)) == URL


def test_long_names_and_missing_details_still_make_a_poster() -> None:
    site = {"name": "邯郸市丛台区人民路棚户区改造安置房二期项目（东区）及配套基础设施工程" * 2}
    png = Image.open(io.BytesIO(posters.poster_png(site, URL)))
    assert png.size == posters.PNG_SIZE
    text = PdfReader(io.BytesIO(posters.poster_pdf(site, URL))).pages[0].extract_text()
    assert "配套基础设施" in text.replace("\n", "") and "总包单位" not in text


def test_the_font_comes_from_the_environment_when_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = posters.cjk_font_path()
    monkeypatch.setenv(posters.FONT_ENV, str(real))
    assert posters.cjk_font_path() == real
    monkeypatch.setenv(posters.FONT_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(posters.FontNotFound, match=r"missing\.ttf"):
        posters.cjk_font_path()


def test_the_font_is_searched_for_in_the_font_directories(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = posters.cjk_font_path()
    monkeypatch.delenv(posters.FONT_ENV, raising=False)
    (tmp_path / "truetype" / "wqy").mkdir(parents=True)
    (tmp_path / "truetype" / "wqy" / real.name).symlink_to(real)
    monkeypatch.setattr(posters, "FONT_DIRS", (str(tmp_path / "nowhere"), str(tmp_path)))
    assert posters.cjk_font_path() == tmp_path / "truetype" / "wqy" / real.name


def test_a_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(posters.FONT_ENV, raising=False)
    monkeypatch.setattr(posters, "FONT_DIRS", (str(tmp_path),))
    with pytest.raises(posters.FontNotFound, match="fonts-wqy-microhei"):
        posters.poster_pdf(SITE, URL)
