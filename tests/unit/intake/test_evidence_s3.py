"""The S3 evidence store against an S3-compatible server on the loopback (moto's, started in this process):
the same promises as the file store, sealing, large files in parts, and requests the store refused for a
while sent again."""

from __future__ import annotations

import hashlib
import http.client
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3
from minio.commonconfig import CopySource

from services.intake.evidence import EvidenceCorrupt, EvidenceNotFound, EvidenceRejected, MiB
from services.intake.evidence_s3 import PART_SIZE, S3EvidenceStore, http_client
from tests.unit.intake.test_evidence import JPEG, PNG, _cipher


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer  # the dev extra: not installed in a production image

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_store(endpoint: str, bucket: str, **options: Any) -> S3EvidenceStore:
    store = S3EvidenceStore(
        endpoint_url=endpoint, bucket=bucket, access_key="minio", secret_key="minio-secret", **options
    )
    if not store.client.bucket_exists(bucket):
        store.client.make_bucket(bucket)
    return store


@pytest.fixture
def bucket() -> str:
    return f"anxin-{uuid.uuid4().hex[:12]}"


def stored_object(store: S3EvidenceStore, sha256: str) -> tuple[bytes, Any]:
    response = store.client.get_object(store.bucket, store.key_of(sha256))
    try:
        return response.read(), store.client.stat_object(store.bucket, store.key_of(sha256))
    finally:
        response.close()
        response.release_conn()


def test_the_s3_store_keeps_the_same_promises(s3_endpoint: str, bucket: str) -> None:
    store = s3_store(s3_endpoint, bucket)
    ref = store.put(JPEG, "image/png")
    assert ref.media_type == "image/jpeg"
    assert store.key_of(ref.sha256) == f"evidence/{ref.sha256[:2]}/{ref.sha256[2:4]}/{ref.sha256}"
    first = store.client.stat_object(bucket, store.key_of(ref.sha256))
    assert store.put(JPEG) == ref
    # Stored once: the second put found the object and sent nothing.
    assert store.client.stat_object(bucket, store.key_of(ref.sha256)).last_modified == first.last_modified
    assert [o.object_name for o in store.client.list_objects(bucket, recursive=True)] == [store.key_of(ref.sha256)]
    assert store.get(ref.sha256) == JPEG and store.exists(ref.sha256) and store.ref(ref.sha256) == ref
    assert store.ref("0" * 64) is None and store.ref("../x") is None and not store.exists("0" * 64)
    with pytest.raises(EvidenceNotFound):
        store.get("0" * 64)
    with pytest.raises(EvidenceRejected):
        store.put(b"MZ not a photo")


def test_the_s3_store_seals_objects_and_still_reads_objects_stored_in_clear(s3_endpoint: str, bucket: str) -> None:
    clear = s3_store(s3_endpoint, bucket).put(JPEG)  # stored before sealing
    store = s3_store(s3_endpoint, bucket, cipher=_cipher())
    ref = store.put(PNG)
    body, stat = stored_object(store, ref.sha256)
    assert body != PNG and PNG[8:64] not in body and stat.content_type == "application/octet-stream"
    assert store.get(ref.sha256) == PNG and store.ref(ref.sha256) == ref
    assert store.get(clear.sha256) == JPEG and store.ref(clear.sha256) == clear
    # Copied under another object's name, a sealed body does not open.
    store.client.copy_object(bucket, store.key_of(clear.sha256), CopySource(bucket, store.key_of(ref.sha256)))
    with pytest.raises(EvidenceCorrupt):
        store.get(clear.sha256)
    # Without keys, a sealed object is refused rather than served as a file.
    with pytest.raises(EvidenceCorrupt):
        s3_store(s3_endpoint, bucket).get(ref.sha256)


def test_a_large_file_goes_up_in_parts(s3_endpoint: str, bucket: str) -> None:
    scan = JPEG + bytes(range(256)) * ((PART_SIZE + MiB) // 256)  # a JPEG of just over one part
    store = s3_store(s3_endpoint, bucket, max_bytes=8 * MiB, cipher=_cipher())
    ref = store.put(scan)
    assert ref.size == len(scan) and ref.media_type == "image/jpeg"
    _, stat = stored_object(store, ref.sha256)
    assert str(stat.etag).endswith("-2")  # the ETag of an object joined from two parts
    assert store.get(ref.sha256) == scan and store.ref(ref.sha256) == ref


class FlakyProxy(ThreadingHTTPServer):
    """Passes requests on to the S3 server, answering the first `failures` of them 503 itself."""

    def __init__(self, upstream: str, failures: int) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.failures = failures
        self.refused: list[str] = []
        self.passed: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ProxyHandler)


class ProxyHandler(BaseHTTPRequestHandler):
    server: FlakyProxy

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            refuse = len(self.server.refused) < self.server.failures
            (self.server.refused if refuse else self.server.passed).append(f"{self.command} {self.path}")
        if refuse:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=30)
        upstream.request(self.command, self.path, body=body or None, headers=dict(self.headers.items()))
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay


def test_a_request_the_store_refuses_for_a_while_is_sent_again(s3_endpoint: str, bucket: str) -> None:
    s3_store(s3_endpoint, bucket)  # the bucket
    proxy = FlakyProxy(s3_endpoint, failures=3)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        store = s3_store(f"http://127.0.0.1:{proxy.server_address[1]}", bucket)
        ref = store.put(PNG)
        assert len(proxy.refused) == 3 and store.get(ref.sha256) == PNG
        # With no retries left, the refusal reaches the caller.
        proxy.failures += 2
        impatient = S3EvidenceStore(
            endpoint_url=f"http://127.0.0.1:{proxy.server_address[1]}",
            bucket=bucket,
            access_key="minio",
            secret_key="minio-secret",
            http=http_client(retries=1),
        )
        with pytest.raises(urllib3.exceptions.MaxRetryError):
            impatient.get(ref.sha256)
    finally:
        proxy.shutdown()
        proxy.server_close()


class RecordingPool(urllib3.PoolManager):
    """Records each request's URL and answers 404 without sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def urlopen(self, method: str, url: str, redirect: bool = True, **kw: Any) -> Any:  # type: ignore[override]
        self.urls.append(url)
        return urllib3.HTTPResponse(body=b"", status=404, headers={}, preload_content=False)


def test_the_s3_store_addresses_buckets_both_ways() -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    for addressing, url in (
        ("virtual", f"http://anxin.minio.local:9000/evidence/{sha[:2]}/{sha[2:4]}/{sha}"),
        ("path", f"http://minio.local:9000/anxin/evidence/{sha[:2]}/{sha[2:4]}/{sha}"),
    ):
        pool = RecordingPool()
        store = S3EvidenceStore(
            endpoint_url="http://minio.local:9000",
            bucket="anxin",
            access_key="minio",
            secret_key="minio-secret",
            addressing=addressing,
            http=pool,
        )
        assert store.ref(sha) is None
        assert pool.urls == [url]
    with pytest.raises(ValueError):
        S3EvidenceStore(endpoint_url="http://minio.local:9000/s3", bucket="anxin", access_key="a", secret_key="b")
