"""Evidence storage by content, page rendering, and QR posters with Chinese text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from services.intake import domain, pages, posters
from services.intake.evidence import EvidenceRejected, LocalEvidenceStore, sniff_media_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def test_files_are_stored_once_by_content_and_read_back(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path, max_bytes=1024)
    first = store.put(PNG, declared_name="../../etc/passwd.png")
    again = store.put(PNG, declared_name="other.png")
    assert first == again and first.media_type == "image/png" and first.size == len(PNG)
    assert store.get(first.sha256) == PNG and store.ref(first.sha256) == first
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1
    assert not (tmp_path.parent / "etc").exists()


@pytest.mark.parametrize("data,media_type", [(PNG, "image/png"), (PDF, "application/pdf"), (JPEG, "image/jpeg"),
                                              (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp")])
def test_types_are_sniffed_from_content(data: bytes, media_type: str) -> None:
    assert sniff_media_type(data) == media_type


def test_a_disguised_or_oversized_or_empty_file_is_refused(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path, max_bytes=100)
    with pytest.raises(EvidenceRejected) as disguised:
        store.put(b"MZ\x90\x00 this is a program", declared_name="photo.jpg")
    assert disguised.value.code == "unsupported_type"
    with pytest.raises(EvidenceRejected) as big:
        store.put(PNG + b"0" * 200)
    assert big.value.code == "too_large"
    with pytest.raises(EvidenceRejected):
        store.put(b"")
    assert store.ref("not-a-hash") is None and store.ref("0" * 64) is None


def test_the_form_shows_errors_beside_fields_keeps_values_and_escapes() -> None:
    html = pages.render_form(
        None, domain.DEFAULT_COUNTIES,
        values={"worker_name": "<script>alert(1)</script>", "phone": "12"}, errors={"phone": "请填写11位手机号码"},
    )
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'id="phone-error"' in html and "请填写11位手机号码" in html and 'value="12"' in html
    assert "邯山区" in html  # no site: the worker picks a county


def test_the_form_from_a_qr_link_shows_the_site_instead_of_asking() -> None:
    site = {"site_id": "HD-1", "name": "某安置房项目", "county_name": "丛台区", "address": "人民路1号"}
    html = pages.render_form(site, domain.DEFAULT_COUNTIES, values={}, errors={})
    assert "某安置房项目" in html and 'name="site_id" value="HD-1"' in html and 'name="county_code"' not in html


def test_the_submitted_page_shows_both_numbers() -> None:
    html = pages.render_submitted("TS-20261128-ABCDEF", "K7QM-3ZPA")
    assert "TS-20261128-ABCDEF" in html and "K7QM-3ZPA" in html and "5 个工作日" in html


def test_posters_carry_the_qr_code_and_chinese_text() -> None:
    site = {"name": "邯山区某安置房项目", "county_name": "邯山区", "address": "人民路1号"}
    url = "https://anxin.example/?site=HD-2026-0001"
    png = Image.open(io.BytesIO(posters.poster_png(site, url)))
    assert png.size == (1240, 1754)
    pdf = PdfReader(io.BytesIO(posters.poster_pdf(site, url)))
    text = pdf.pages[0].extract_text()
    assert "扫码即诉" in text and "邯山区某安置房项目" in text and "12333" in text
    # The QR code in the poster is the one for this URL (same matrix, same modules).
    expected = posters.qr_image(url, box_size=1)
    assert expected.size[0] > 20
