"""Evidence in an S3-compatible object store (MinIO, Ceph, cloud buckets): `S3EvidenceStore`, the other
implementation of `services.intake.evidence.EvidenceStore`, on the MinIO client (minio-py), which signs the
requests (Signature Version 4), uploads a large file in parts and retries what a store refuses for a while."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from services.intake.evidence import (
    ACCEPTED_TYPES,
    DEFAULT_MAX_BYTES,
    EvidenceCorrupt,
    EvidenceLimits,
    EvidenceNotFound,
    EvidenceRef,
    EvidenceRejected,
    MiB,
    check_reference,
    inspect,
    open_evidence,
    seal_evidence,
)

if TYPE_CHECKING:
    import urllib3
    from minio import Minio

    from services.common.crypto import FieldCipher

# A sealed object's body says nothing of what it holds: its media type and size travel as metadata (the
# client sends them as x-amz-meta-anxin-media-type and x-amz-meta-anxin-size).
META_MEDIA_TYPE = "anxin-media-type"
META_SIZE = "anxin-size"
# An object larger than this goes up in parts of this size (S3's smallest part): a 10 MB scan is sent as two
# requests, and a part that fails is sent again alone.
PART_SIZE = 5 * MiB
# What S3-compatible stores answer for an object that is not there (HEAD answers carry no body to tell).
MISSING = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})


def http_client(*, connect_timeout: float = 5, read_timeout: float = 30, retries: int = 5) -> urllib3.PoolManager:
    """The connections the store talks through: a request refused with 500, 502, 503 or 504, or one whose
    connection failed, is sent again up to `retries` times, waiting 0.2 s, 0.4 s, 0.8 s… in between."""
    import urllib3

    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        maxsize=10,
        retries=urllib3.Retry(
            total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504], allowed_methods=None
        ),  # PUTs too: an object's PUT is idempotent
    )


class S3EvidenceStore:
    """Evidence in a bucket of an S3-compatible store, under `<prefix>ab/cd/<sha256>`.

    `addressing="path"` (`endpoint/bucket/key`) suits MinIO and Ceph; "virtual" (`bucket.endpoint/key`)
    suits cloud stores that require it. An object PUT is atomic by nature (a multipart upload too: the object
    appears when its parts are joined); existing objects are not uploaded again. Sealed like the file store
    when a cipher is given (a bucket's operators, its backups and a leaked access key then see ciphertext
    only).
    """

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
        part_size: int = PART_SIZE,
        http: urllib3.PoolManager | None = None,
        cipher: FieldCipher | None = None,
    ) -> None:
        from minio import Minio  # only deployments that store evidence in S3 need it at run time

        if addressing not in ("path", "virtual"):
            raise ValueError("addressing is 'path' or 'virtual'")
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            raise ValueError("endpoint_url is http(s)://host[:port], with no path")
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size
        self.limits = EvidenceLimits(max_bytes=max_bytes)
        self.cipher = cipher
        # With the region given, the client asks the store for none (a GetBucketLocation per bucket).
        self.client: Minio = Minio(
            parts.netloc,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            secure=parts.scheme == "https",
            http_client=http or http_client(),
        )
        if addressing == "virtual":
            self.client.enable_virtual_style_endpoint()
        else:
            self.client.disable_virtual_style_endpoint()

    def key_of(self, sha256: str) -> str:
        sha256 = check_reference(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def check(self, data: bytes) -> EvidenceRef:
        return inspect(data, self.limits)

    def put(self, data: bytes, declared_type: str | None = None, *, declared_name: str = "") -> EvidenceRef:
        ref = inspect(data, self.limits)
        if self.exists(ref.sha256):
            return ref
        stored = seal_evidence(self.cipher, ref, data)
        self.client.put_object(
            self.bucket,
            self.key_of(ref.sha256),
            io.BytesIO(stored),
            len(stored),
            content_type="application/octet-stream" if self.cipher else ref.media_type,
            metadata={META_MEDIA_TYPE: ref.media_type, META_SIZE: str(ref.size)},
            part_size=self.part_size,
        )
        return ref

    def get(self, sha256: str) -> bytes:
        from minio.error import S3Error

        key = self.key_of(sha256)
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as error:
            if error.code in MISSING:
                raise EvidenceNotFound(sha256) from None
            raise
        try:
            stored = response.read()
        finally:
            response.close()
            response.release_conn()
        data = open_evidence(self.cipher, sha256, stored)
        if hashlib.sha256(data).hexdigest() != check_reference(sha256):
            raise EvidenceCorrupt(f"evidence {sha256} does not match its hash")
        return data

    def exists(self, sha256: str) -> bool:
        return self.ref(sha256) is not None

    def ref(self, sha256: str) -> EvidenceRef | None:
        from minio.error import S3Error

        try:
            key = self.key_of(sha256)
        except EvidenceRejected:
            return None
        try:
            stat = self.client.stat_object(self.bucket, key)
        except S3Error as error:
            if error.code in MISSING:
                return None
            raise
        metadata: Any = stat.metadata or {}
        # Objects stored before sealing carry no metadata: their own type and length are the file's.
        media_type = metadata.get(f"x-amz-meta-{META_MEDIA_TYPE}") or stat.content_type or ""
        size = metadata.get(f"x-amz-meta-{META_SIZE}") or stat.size or 0
        return EvidenceRef(
            check_reference(sha256),
            int(size),
            media_type if media_type in ACCEPTED_TYPES else "application/octet-stream",
        )
