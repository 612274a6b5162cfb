"""An official paper's title over several lines (GB/T 9704): lines of even length, the paper's kind at the end
never torn apart, nor a company's number. Measured with the font the papers are rendered in."""

from __future__ import annotations

from itertools import pairwise

import pytest
from fpdf import FPDF

from services.common.cjk_font import cjk_font
from services.common.official_paper import title_lines

WIDTH = 160.0  # A4 less the papers' 25 mm margins


@pytest.fixture(scope="module")
def page() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font("cjk", fname=str(cjk_font()))
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    return pdf


def test_a_short_title_is_one_line(page: FPDF) -> None:
    assert title_lines(page, WIDTH, "问题移交单") == ["问题移交单"]


@pytest.mark.parametrize(
    "title",
    [
        "关于邯郸市交办测试建筑工程有限公司77592涉嫌拖欠问题的交办函",
        "关于邯郸市交办测试建筑工程有限公司7759涉嫌拖欠问题的问责建议函",
        "关于邯郸市丛台区某某某某某某某某某某某某某某某某某某某某某建设工程项目未落实农民工工资支付保障制度问题的督办函",
        "关于邯郸市交办测试建筑工程有限公司ABC123456789涉嫌拖欠问题的交办函",
    ],
)
def test_a_long_title_keeps_its_kind_whole_and_its_lines_even(page: FPDF, title: str) -> None:
    lines = title_lines(page, WIDTH, title)

    assert "".join(lines) == title
    assert len(lines) >= 2
    assert all(page.get_string_width(line) <= WIDTH for line in lines)
    kind = title[title.rfind("的") :]
    assert lines[-1].endswith(kind), lines
    widths = [page.get_string_width(line) for line in lines]
    assert max(widths) - min(widths) <= WIDTH / 3, lines  # even, not a full line and an orphan
    for before, after in pairwise(lines):
        assert not (before[-1].isascii() and before[-1].isalnum() and after[0].isascii() and after[0].isalnum()), lines


def test_a_title_that_cannot_be_balanced_is_filled_line_by_line(page: FPDF) -> None:
    title = "函" * 3 + "1" * 200  # one run of digits wider than a line
    lines = title_lines(page, WIDTH, title)
    assert "".join(lines) == title and all(page.get_string_width(line) <= WIDTH for line in lines)
