"""Evidence files (IOUs, attendance sheets, photos, PDFs), stored by content hash.

The type is read from the file's first bytes, never taken from the client's word; the stored name is the
SHA-256 of the content, so the same file uploaded twice is stored once and no client-chosen name ever
touches the file system. `EvidenceStore` is the plug point: `LocalEvidenceStore` (a directory, the
default) and `S3EvidenceStore` (any S3-compatible object store: MinIO, Ceph, cloud buckets) implement it.

The stores are synchronous; an async route calls them through `starlette.concurrency.run_in_threadpool`
so that a slow disk or network does not hold up other requests.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    import httpx

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

    def put(self, data: bytes, declared_type: str | None = None, *, declared_name: str = "") -> EvidenceRef: ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def ref(self, sha256: str) -> EvidenceRef | None: ...


class LocalEvidenceStore:
    """Files under `root/ab/cd/<sha256>`, written atomically (temp file in the same directory, fsync,
    rename), so a crash leaves either the whole file or none of it."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.limits = EvidenceLimits(max_bytes=max_bytes)

    def path_of(self, sha256: str) -> Path:
        sha256 = check_reference(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes, declared_type: str | None = None, *, declared_name: str = "") -> EvidenceRef:
        """Store `data`. The client's declared type and name are accepted for the interface's sake and
        ignored: the type is sniffed, the name is the hash."""
        ref = inspect(data, self.limits)
        path = self.path_of(ref.sha256)
        if path.is_file() and path.stat().st_size == ref.size:
            return ref
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
        _fsync_directory(path.parent)
        return ref

    def get(self, sha256: str) -> bytes:
        try:
            data = self.path_of(sha256).read_bytes()
        except (FileNotFoundError, EvidenceRejected):
            raise EvidenceNotFound(sha256) from None
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
            path = self.path_of(sha256)
            with path.open("rb") as stored:
                head = stored.read(SNIFF_BYTES)
            size = path.stat().st_size
        except (EvidenceRejected, FileNotFoundError):
            return None
        return EvidenceRef(check_reference(sha256), size, sniff_media_type(head) or "application/octet-stream")


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


# -- S3-compatible object storage --------------------------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_headers(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    payload_sha256: str,
    access_key: str,
    secret_key: str,
    region: str,
    now: datetime,
    service: str = "s3",
) -> dict[str, str]:
    """The headers that sign one request with AWS Signature Version 4 (what every S3-compatible store
    accepts): `headers` plus host, x-amz-date, x-amz-content-sha256 and Authorization."""
    parts = urlsplit(url)
    amz_date = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed.update({"host": parts.netloc, "x-amz-date": amz_date, "x-amz-content-sha256": payload_sha256})
    names = sorted(signed)
    query = "&".join(
        sorted(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, _, v in
               (pair.partition("=") for pair in parts.query.split("&") if pair))
    )
    canonical = "\n".join([
        method.upper(),
        quote(parts.path or "/", safe="/-_.~"),
        query,
        "".join(f"{name}:{signed[name]}\n" for name in names),
        ";".join(names),
        payload_sha256,
    ])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), amz_date[:8]), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                     f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return {**headers, "x-amz-date": amz_date, "x-amz-content-sha256": payload_sha256,
            "Authorization": authorization}


class S3EvidenceStore:
    """Evidence in a bucket of an S3-compatible store, under `<prefix>ab/cd/<sha256>`.

    A small client of its own (httpx and Signature Version 4) rather than an SDK: four calls are all it
    needs. `addressing="path"` (`endpoint/bucket/key`) suits MinIO and Ceph; "virtual" (`bucket.endpoint/key`)
    suits cloud stores that require it. An object PUT is atomic by nature; existing objects are not
    uploaded again.
    """

    EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

    def __init__(
        self,
        *,
        endpoint_url: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        prefix: str = "evidence/",
        addressing: str = "path",
        max_bytes: int = DEFAULT_MAX_BYTES,
        client: httpx.Client | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        import httpx  # only deployments that store evidence in S3 need it at run time

        if addressing not in ("path", "virtual"):
            raise ValueError("addressing is 'path' or 'virtual'")
        self.endpoint = endpoint_url.rstrip("/")
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.prefix = prefix
        self.addressing = addressing
        self.limits = EvidenceLimits(max_bytes=max_bytes)
        self.client = client or httpx.Client(timeout=30)
        self.now = now

    def url_of(self, sha256: str) -> str:
        sha256 = check_reference(sha256)
        key = f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"
        if self.addressing == "virtual":
            scheme, _, host = self.endpoint.partition("://")
            return f"{scheme}://{self.bucket}.{host}/{key}"
        return f"{self.endpoint}/{self.bucket}/{key}"

    def _send(self, method: str, url: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
              payload_sha256: str | None = None) -> httpx.Response:
        signed = sigv4_headers(
            method, url, headers=headers or {}, payload_sha256=payload_sha256 or self.EMPTY_SHA256,
            access_key=self.access_key, secret_key=self.secret_key, region=self.region,
            now=self.now(),
        )
        return self.client.request(method, url, content=body or None, headers=signed)

    def put(self, data: bytes, declared_type: str | None = None, *, declared_name: str = "") -> EvidenceRef:
        ref = inspect(data, self.limits)
        if self.exists(ref.sha256):
            return ref
        response = self._send("PUT", self.url_of(ref.sha256), body=data, payload_sha256=ref.sha256,
                              headers={"Content-Type": ref.media_type})
        response.raise_for_status()
        return ref

    def get(self, sha256: str) -> bytes:
        response = self._send("GET", self.url_of(sha256))
        if response.status_code == 404:
            raise EvidenceNotFound(sha256)
        response.raise_for_status()
        if hashlib.sha256(response.content).hexdigest() != check_reference(sha256):
            raise EvidenceCorrupt(f"evidence {sha256} does not match its hash")
        return response.content

    def exists(self, sha256: str) -> bool:
        return self.ref(sha256) is not None

    def ref(self, sha256: str) -> EvidenceRef | None:
        try:
            url = self.url_of(sha256)
        except EvidenceRejected:
            return None
        response = self._send("HEAD", url)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        media_type = response.headers.get("content-type", "application/octet-stream")
        return EvidenceRef(check_reference(sha256), int(response.headers.get("content-length", 0)),
                           media_type if media_type in ACCEPTED_TYPES else "application/octet-stream")


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
