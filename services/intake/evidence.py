"""Evidence files (IOUs, attendance sheets, photos, PDFs), stored by content hash.

The type is read from the file's first bytes, never taken from the client's word; the stored name is the
SHA-256 of the content, so the same file uploaded twice is stored once and no client-chosen name ever
touches the file system. `EvidenceStore` is the plug point: `LocalEvidenceStore` (a directory, the
default) and `S3EvidenceStore` (any S3-compatible object store: MinIO, Ceph, cloud buckets;
`services/intake/evidence_s3.py`) implement it.

An IOU or an attendance sheet names the worker and often carries an ID number: both stores seal each
file with AES-256-GCM under the data keys (`services/common/crypto.py`), the file's SHA-256 bound as
associated data, so a file copied under another file's name does not open. Files stored in clear before
sealing was introduced are still read (a sealed file starts with the format byte 0x01, which no accepted
type does). Files that no complaint references after a grace period are deleted by the intake worker
(`LocalEvidenceStore.sweep`, `services/intake/worker.py`).

The stores are synchronous; an async route calls them through `starlette.concurrency.run_in_threadpool`
so that a slow disk or network does not hold up other requests.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag

from services.common.crypto import FORMAT_VERSION, FieldCipher

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MiB  # a phone photo of an IOU is 2-5 MB; a scanned PDF rarely more
DEFAULT_MAX_FILES = 5

# What a worker's phone produces and a clerk scans, with the extension a download gets.
ACCEPTED_TYPES: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "application/pdf": ".pdf",
}
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
SNIFF_BYTES = 64  # enough for every signature above, including an ISO-BMFF brand list


class EvidenceRejected(ValueError):
    """A file refused before storage. `code` is for programs, the message "中文 / English" for people."""

    field = "evidence"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def zh(self) -> str:
        return str(self).split(" / ", 1)[0]


class EvidenceNotFound(KeyError):
    pass


class EvidenceCorrupt(OSError):
    """The stored bytes no longer hash to their name: storage damage, never to be served as evidence."""


@dataclass(frozen=True)
class EvidenceRef:
    sha256: str
    size: int
    media_type: str


@dataclass(frozen=True)
class EvidenceLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_files: int = DEFAULT_MAX_FILES

    def check_count(self, count: int) -> None:
        if count > self.max_files:
            raise EvidenceRejected(
                "too_many", f"最多上传{self.max_files}个文件 / at most {self.max_files} files per complaint"
            )


def _iso_bmff_brands(head: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO base media file (HEIC/HEIF/AVIF/MP4)."""
    if head[4:8] != b"ftyp":
        return set()
    box_size = int.from_bytes(head[:4], "big")
    end = min(max(box_size, 16), len(head))
    return {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}


def sniff_media_type(data: bytes) -> str | None:
    """The type by magic bytes, if it is one we accept; None otherwise."""
    head = data[:SNIFF_BYTES]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    brands = _iso_bmff_brands(head)
    if brands & HEIC_BRANDS:
        return "image/heic"
    if brands & HEIF_BRANDS and b"avif" not in brands and b"avis" not in brands:
        return "image/heif"
    return None


def inspect(data: bytes, limits: EvidenceLimits) -> EvidenceRef:
    """Check one file against the limits and name it by content; raises `EvidenceRejected`."""
    if not data:
        raise EvidenceRejected("empty", "文件是空的 / the file is empty")
    if len(data) > limits.max_bytes:
        raise EvidenceRejected(
            "too_large",
            f"每个文件不能超过{limits.max_bytes / MiB:g}MB / at most {limits.max_bytes} bytes per file",
        )
    media_type = sniff_media_type(data)
    if media_type is None:
        raise EvidenceRejected(
            "unsupported_type", "只能上传照片（JPG、PNG、WebP、HEIC）或 PDF 文件 / photos or PDF files only"
        )
    return EvidenceRef(hashlib.sha256(data).hexdigest(), len(data), media_type)


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_reference(sha256: str) -> str:
    """A sha256 reference in normal form; anything else (a path, say) is refused before any lookup."""
    normal = (sha256 or "").strip().lower()
    if not _SHA256.match(normal):
        raise EvidenceRejected("bad_reference", "证据编号不正确 / not a sha256 reference")
    return normal


class EvidenceStore(Protocol):
    """Where evidence lives. `put` is idempotent: the same bytes give the same reference, stored once."""

    def check(self, data: bytes) -> EvidenceRef:
        """What `put` would store `data` as, or `EvidenceRejected`; nothing is written."""
        ...

    def put(self, data: bytes, declared_type: str | None = None, *, declared_name: str = "") -> EvidenceRef: ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def ref(self, sha256: str) -> EvidenceRef | None: ...


def _sealing_context(sha256: str) -> str:
    return f"intake.evidence.{sha256}"


def seal_evidence(cipher: FieldCipher | None, ref: EvidenceRef, data: bytes) -> bytes:
    """What a store writes for `data`: sealed under the data keys with its hash bound, or as is without keys."""
    return cipher.seal_bytes(data, context=_sealing_context(ref.sha256)) if cipher else data


def open_evidence(cipher: FieldCipher | None, sha256: str, stored: bytes) -> bytes:
    """The file a store read back, opened; files stored in clear before sealing pass as they are (no accepted
    type starts with the format byte)."""
    if stored[:1] != bytes([FORMAT_VERSION]):
        return stored
    if cipher is None:
        raise EvidenceCorrupt(f"evidence {sha256} is sealed and this store has no keys")
    try:
        return cipher.open_bytes(stored, context=_sealing_context(sha256))
    except (InvalidTag, ValueError) as exc:
        raise EvidenceCorrupt(f"evidence {sha256} does not open: {type(exc).__name__}") from None


class LocalEvidenceStore:
    """Files under `root/ab/cd/<sha256>`, written atomically (temp file in the same directory, fsync,
    rename), so a crash leaves either the whole file or none of it; sealed when a cipher is given."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, cipher: FieldCipher | None = None) -> None:
        self.root = Path(root)
        self.limits = EvidenceLimits(max_bytes=max_bytes)
        self.cipher = cipher

    def path_of(self, sha256: str) -> Path:
        sha256 = check_reference(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def check(self, data: bytes) -> EvidenceRef:
        return inspect(data, self.limits)

    def _stored_size(self, ref: EvidenceRef) -> int:
        if self.cipher is None:
            return ref.size
        # format byte, key id length and key id, 12-byte nonce, the ciphertext and its 16-byte tag
        return 2 + len(self.cipher.current_key_id.encode()) + 12 + ref.size + 16

    def put(self, data: bytes, declared_type: str | None = None, *, declared_name: str = "") -> EvidenceRef:
        """Store `data`. The client's declared type and name are accepted for the interface's sake and
        ignored: the type is sniffed, the name is the hash."""
        ref = inspect(data, self.limits)
        path = self.path_of(ref.sha256)
        if path.is_file() and path.stat().st_size == self._stored_size(ref):
            os.utime(path)  # referenced anew: its grace period before a sweep starts again
            return ref
        stored = seal_evidence(self.cipher, ref, data)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(stored)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _fsync_directory(path.parent)
        return ref

    def get(self, sha256: str) -> bytes:
        try:
            stored = self.path_of(sha256).read_bytes()
        except (FileNotFoundError, EvidenceRejected):
            raise EvidenceNotFound(sha256) from None
        data = open_evidence(self.cipher, sha256, stored)
        if hashlib.sha256(data).hexdigest() != check_reference(sha256):
            raise EvidenceCorrupt(f"evidence {sha256} does not match its hash")
        return data

    def exists(self, sha256: str) -> bool:
        try:
            return self.path_of(sha256).is_file()
        except EvidenceRejected:
            return False

    def ref(self, sha256: str) -> EvidenceRef | None:
        try:
            data = self.get(sha256)
        except (EvidenceNotFound, EvidenceCorrupt):
            return None
        return EvidenceRef(check_reference(sha256), len(data), sniff_media_type(data) or "application/octet-stream")

    def stored_before(self, cutoff: float) -> list[str]:
        """The references of files last written before `cutoff` (a Unix time)."""
        found = []
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if _SHA256.match(path.name) and path.is_file() and path.stat().st_mtime < cutoff:
                found.append(path.name)
        return found

    def sweep(self, unreferenced: list[str], cutoff: float) -> int:
        """Delete the files of `unreferenced` still last written before `cutoff` (one written again since was
        uploaded anew and waits its own grace period), and upload leftovers older than it; how many."""
        deleted = 0
        for sha256 in unreferenced:
            path = self.path_of(sha256)
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:
                pass
        for leftover in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/.upload-*"):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except FileNotFoundError:
                pass
        return deleted


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- downloads ---------------------------------------------------------------------------------------

_UNSAFE_IN_NAME = re.compile(r"[^\w.\-]+")


def safe_filename(ref: EvidenceRef, *, stem: str = "") -> str:
    """A download name that is safe everywhere: ASCII letters, digits, dots and dashes, no path, the
    extension of the sniffed type (never the uploader's). `stem` is e.g. "TS-20261128-7KQ3MZ-1"."""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = _UNSAFE_IN_NAME.sub("-", ascii_stem.replace("/", "-").replace("\\", "-"))
    ascii_stem = re.sub(r"-{2,}", "-", ascii_stem).strip(".-")[:80]
    name = ascii_stem or f"evidence-{ref.sha256[:12]}"
    return name + ACCEPTED_TYPES.get(ref.media_type, ".bin")


def download_headers(ref: EvidenceRef, *, stem: str = "") -> dict[str, str]:
    """Headers for serving a stored file: its sniffed type, as an attachment, never sniffed again by the
    browser, never cached by shared caches (it is personal data)."""
    return {
        "Content-Type": ref.media_type,
        "Content-Disposition": f'attachment; filename="{safe_filename(ref, stem=stem)}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Length": str(ref.size),
    }
