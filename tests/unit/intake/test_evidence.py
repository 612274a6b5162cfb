"""Evidence storage by content: types read from the bytes, limits, idempotent atomic writes (the S3 store:
test_evidence_s3.py)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image

from services.common.crypto import FieldCipher
from services.intake.evidence import (
    EvidenceCorrupt,
    EvidenceLimits,
    EvidenceNotFound,
    EvidenceRef,
    EvidenceRejected,
    LocalEvidenceStore,
    download_headers,
    safe_filename,
    sniff_media_type,
)


def image(fmt: str, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, format=fmt)
    return out.getvalue()


def pdf() -> bytes:
    document = FPDF()
    document.add_page()
    return bytes(document.output())


def iso_bmff(major: bytes, *compatible: bytes) -> bytes:
    brands = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(brands)).to_bytes(4, "big") + b"ftyp" + brands + b"\x00" * 64


PNG, JPEG, WEBP, PDF = image("PNG"), image("JPEG"), image("WEBP"), pdf()


@pytest.mark.parametrize(
    "data,media_type",
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (iso_bmff(b"heic", b"mif1", b"heic"), "image/heic"),  # what an iPhone writes
        (iso_bmff(b"mif1", b"heic"), "image/heic"),
        (iso_bmff(b"mif1", b"miaf"), "image/heif"),
        (iso_bmff(b"avif", b"mif1", b"miaf"), None),  # AVIF shares HEIF's container; not accepted
        (iso_bmff(b"isom", b"mp42"), None),  # a video
        (b"GIF89a" + b"\x00" * 20, None),
        (b"MZ\x90\x00 a Windows program", None),
        (b"<html><script>alert(1)</script>", None),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"", None),
    ],
)
def test_types_are_read_from_the_bytes(data: bytes, media_type: str | None) -> None:
    assert sniff_media_type(data) == media_type


def test_files_are_stored_once_by_content_and_read_back(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    first = store.put(PNG, "image/png", declared_name="../../etc/passwd.png")
    again = store.put(PNG, declared_name="other.png")
    assert first == again == EvidenceRef(hashlib.sha256(PNG).hexdigest(), len(PNG), "image/png")
    assert store.get(first.sha256) == PNG and store.exists(first.sha256) and store.ref(first.sha256) == first
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [tmp_path / first.sha256[:2] / first.sha256[2:4] / first.sha256]  # sharded, no temp files
    assert not (tmp_path.parent / "etc").exists()


def test_the_declared_type_is_never_trusted(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    assert store.put(PDF, "image/jpeg", declared_name="photo.jpg").media_type == "application/pdf"
    with pytest.raises(EvidenceRejected) as disguised:
        store.put(b"MZ\x90\x00 this is a program", "image/jpeg", declared_name="photo.jpg")
    assert disguised.value.code == "unsupported_type" and "PDF" in disguised.value.zh
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1  # the PDF only


def test_size_and_count_limits(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path, max_bytes=len(PNG))
    store.put(PNG)
    with pytest.raises(EvidenceRejected) as big:
        store.put(PNG + b"\x00")
    assert big.value.code == "too_large"
    with pytest.raises(EvidenceRejected) as empty:
        store.put(b"")
    assert empty.value.code == "empty"
    limits = EvidenceLimits(max_files=5)
    limits.check_count(5)
    with pytest.raises(EvidenceRejected) as many:
        limits.check_count(6)
    assert many.value.code == "too_many" and "5" in many.value.zh


def test_the_default_limits_are_ten_megabytes_and_five_files() -> None:
    assert EvidenceLimits() == EvidenceLimits(max_bytes=10 * 1024 * 1024, max_files=5)


@pytest.mark.parametrize("reference", ["not-a-hash", "../" * 20 + "etc/passwd", "0" * 63, "g" * 64, ""])
def test_references_that_are_not_hashes_find_nothing(tmp_path: Path, reference: str) -> None:
    store = LocalEvidenceStore(tmp_path)
    assert store.ref(reference) is None and not store.exists(reference)
    with pytest.raises(EvidenceNotFound):
        store.get(reference)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    assert store.ref("0" * 64) is None
    with pytest.raises(EvidenceNotFound):
        store.get("0" * 64)


def test_damaged_storage_is_detected_and_repaired_by_a_new_upload(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    ref = store.put(JPEG)
    path = store.path_of(ref.sha256)
    path.write_bytes(JPEG[:10])
    with pytest.raises(EvidenceCorrupt):
        store.get(ref.sha256)
    assert store.put(JPEG) == ref and store.get(ref.sha256) == JPEG


def test_concurrent_uploads_of_one_file_store_it_once(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    results: list[EvidenceRef] = []
    threads = [threading.Thread(target=lambda: results.append(store.put(WEBP))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and store.get(results[0].sha256) == WEBP
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_download_names_are_safe_and_typed_by_content() -> None:
    ref = EvidenceRef("ab" * 32, 10, "image/jpeg")
    assert safe_filename(ref) == "evidence-abababababab.jpg"
    assert safe_filename(ref, stem="TS-20261128-7KQ3MZ-1") == "TS-20261128-7KQ3MZ-1.jpg"
    assert safe_filename(ref, stem='../../x"; rm -rf /.exe') == "x-rm-rf-.exe.jpg"
    assert safe_filename(ref, stem="欠条") == "evidence-abababababab.jpg"
    headers = download_headers(EvidenceRef("cd" * 32, 99, "application/pdf"), stem="TS-20261128-7KQ3MZ-2")
    assert headers["Content-Disposition"] == 'attachment; filename="TS-20261128-7KQ3MZ-2.pdf"'
    assert headers["Content-Type"] == "application/pdf" and headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in headers["Cache-Control"] and headers["Content-Length"] == "99"


def _cipher() -> FieldCipher:
    return FieldCipher({"k1": b"\x01" * 32}, "k1")


def test_a_sealed_store_keeps_no_clear_bytes_and_still_reads_files_stored_in_clear(tmp_path: Path) -> None:
    clear = LocalEvidenceStore(tmp_path).put(JPEG)  # stored before sealing
    store = LocalEvidenceStore(tmp_path, cipher=_cipher())
    ref = store.put(PNG)
    stored = store.path_of(ref.sha256).read_bytes()
    assert stored != PNG and PNG[8:64] not in stored
    assert store.get(ref.sha256) == PNG and store.ref(ref.sha256) == ref
    assert store.put(PNG) == ref and store.path_of(ref.sha256).read_bytes() == stored  # stored once
    assert store.get(clear.sha256) == JPEG and store.ref(clear.sha256) == clear
    # The file's hash is bound to the sealed bytes: copied under another file's name, it does not open.
    store.path_of(clear.sha256).write_bytes(stored)
    with pytest.raises(EvidenceCorrupt):
        store.get(clear.sha256)
    assert store.ref(clear.sha256) is None


def test_the_sweep_deletes_old_unreferenced_files_only(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path, cipher=_cipher())
    old, kept, new = store.put(PNG), store.put(JPEG), store.put(WEBP)
    past = time.time() - 100
    for ref in (old, kept):
        os.utime(store.path_of(ref.sha256), (past, past))
    cutoff = time.time() - 50
    assert sorted(store.stored_before(cutoff)) == sorted([old.sha256, kept.sha256])
    assert store.sweep([old.sha256, new.sha256], cutoff) == 1  # `new` is unreferenced but within its grace
    assert not store.exists(old.sha256) and store.exists(kept.sha256) and store.exists(new.sha256)
