"""Evidence files (IOUs, attendance sheets, photos, PDFs), stored by content hash.

The type is read from the file's first bytes, never taken from the client's word; the stored name is the
SHA-256 of the content, so the same file uploaded twice is stored once and no client-chosen name ever
touches the file system. `EvidenceStore` is the plug point: the local directory is the default; an
S3-compatible store implements the same three methods.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# Magic numbers of the types a worker's phone produces and a clerk scans.
SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"%PDF-", 0, "application/pdf"),
    (b"WEBP", 8, "image/webp"),
    (b"ftypheic", 4, "image/heic"),
    (b"ftypheix", 4, "image/heic"),
    (b"ftypmif1", 4, "image/heic"),
]


class EvidenceRejected(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class EvidenceRef:
    sha256: str
    size: int
    media_type: str


def sniff_media_type(data: bytes) -> str | None:
    for magic, offset, media_type in SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            if media_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return media_type
    return None


class EvidenceStore(Protocol):
    def put(self, data: bytes, *, declared_name: str = "") -> EvidenceRef: ...

    def get(self, sha256: str) -> bytes: ...

    def ref(self, sha256: str) -> EvidenceRef | None: ...


class LocalEvidenceStore:
    """Files under `root/ab/cd/<sha256>`, written atomically (temp file + rename)."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise EvidenceRejected("bad_reference", "not a sha256 reference")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes, *, declared_name: str = "") -> EvidenceRef:
        if not data:
            raise EvidenceRejected("empty", "文件是空的 / the file is empty")
        if len(data) > self.max_bytes:
            raise EvidenceRejected(
                "too_large", f"文件不能超过 {self.max_bytes // (1024 * 1024)} MB / at most {self.max_bytes} bytes"
            )
        media_type = sniff_media_type(data)
        if media_type is None:
            raise EvidenceRejected(
                "unsupported_type", "只能上传照片（JPG、PNG、WebP、HEIC）或 PDF 文件 / photos or PDF only"
            )
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        return EvidenceRef(sha256, len(data), media_type)

    def get(self, sha256: str) -> bytes:
        return self._path(sha256).read_bytes()

    def ref(self, sha256: str) -> EvidenceRef | None:
        try:
            path = self._path(sha256)
        except EvidenceRejected:
            return None
        if not path.exists():
            return None
        head = path.read_bytes()[:32]
        return EvidenceRef(sha256, path.stat().st_size, sniff_media_type(head) or "application/octet-stream")
