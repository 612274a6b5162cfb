"""Evidence in an S3-compatible object store (MinIO, Ceph, cloud buckets): `S3EvidenceStore`, the other
implementation of `services.intake.evidence.EvidenceStore`, with the request signing it needs."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from services.intake.evidence import (
    ACCEPTED_TYPES,
    DEFAULT_MAX_BYTES,
    EvidenceCorrupt,
    EvidenceLimits,
    EvidenceNotFound,
    EvidenceRef,
    EvidenceRejected,
    check_reference,
    inspect,
    open_evidence,
    seal_evidence,
)

if TYPE_CHECKING:
    import httpx

    from services.common.crypto import FieldCipher

# A sealed object's body says nothing of what it holds: its media type and size travel as metadata.
META_MEDIA_TYPE = "x-amz-meta-anxin-media-type"
META_SIZE = "x-amz-meta-anxin-size"


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
    uploaded again. Sealed like the file store when a cipher is given (a bucket's operators, its backups
    and a leaked access key then see ciphertext only).
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
        cipher: FieldCipher | None = None,
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
        self.cipher = cipher

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

    def check(self, data: bytes) -> EvidenceRef:
        return inspect(data, self.limits)

    def put(self, data: bytes, declared_type: str | None = None, *, declared_name: str = "") -> EvidenceRef:
        ref = inspect(data, self.limits)
        if self.exists(ref.sha256):
            return ref
        stored = seal_evidence(self.cipher, ref, data)
        response = self._send(
            "PUT", self.url_of(ref.sha256), body=stored, payload_sha256=hashlib.sha256(stored).hexdigest(),
            headers={"Content-Type": "application/octet-stream" if self.cipher else ref.media_type,
                     META_MEDIA_TYPE: ref.media_type, META_SIZE: str(ref.size)})
        response.raise_for_status()
        return ref

    def get(self, sha256: str) -> bytes:
        response = self._send("GET", self.url_of(sha256))
        if response.status_code == 404:
            raise EvidenceNotFound(sha256)
        response.raise_for_status()
        data = open_evidence(self.cipher, sha256, response.content)
        if hashlib.sha256(data).hexdigest() != check_reference(sha256):
            raise EvidenceCorrupt(f"evidence {sha256} does not match its hash")
        return data

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
        # Objects stored before sealing carry no metadata: their own type and length are the file's.
        media_type = response.headers.get(META_MEDIA_TYPE) or response.headers.get("content-type", "")
        size = response.headers.get(META_SIZE) or response.headers.get("content-length", "0")
        return EvidenceRef(check_reference(sha256), int(size),
                           media_type if media_type in ACCEPTED_TYPES else "application/octet-stream")


