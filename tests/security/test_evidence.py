"""Attacks on evidence files, performed on the real stack and refused (docs/security.md lists them):

- reading the workers' IOUs and ID photos from the evidence folder (a backup, a copied disk): stored sealed;
- filling the disk through the public form past its limits: a refused filing writes no file;
- uploads no complaint ever references, kept for ever: the intake worker sweeps them;
- filling the disk with an agency's token (leaked or misused) through `POST /v1/evidence`: a per-client
  quota refuses the upload past it, and writes nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from deploy.stack import Stack
from tests.support.agencies import wait_for
from tests.support.factories import ComplaintTemplate, seed

UPLOADS = ComplaintTemplate(
    employer_name="邯郸市证据测试劳务有限公司",
    project_name="证据测试安置房项目",
    period=("2026-05-01", "2026-08-31"),
    description="五月到八月在该项目干活，工资一直没有结清，有欠条为证。",
    phone_prefix="133",
    credit_series="MG",
)
PER_PHONE = 5  # the settings' default (services/intake/settings.py)


def _png() -> bytes:
    """A file intake takes for a PNG photo (it reads the type from the first bytes), unique to this call."""
    return b"\x89PNG\r\n\x1a\n" + b"IOU of worker 110101199001011234 " + os.urandom(2048)


def _stored(stack: Stack, data: bytes) -> Path:
    sha = hashlib.sha256(data).hexdigest()
    return stack.data_dir / "evidence" / sha[:2] / sha[2:4] / sha


def _sql(stack: Stack, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.postgres.service_url("intake"), options="-c search_path=intake") as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def public(stack: Stack, client: Callable[[str, str | None], httpx.Client]) -> Iterator[httpx.Client]:
    """The form's client; this address's filing limits are cleared before and after (the whole suite files
    through the form from 127.0.0.1)."""

    def forget() -> None:
        _sql(stack, "DELETE FROM rate_windows WHERE bucket LIKE 'ip\\_%%' OR bucket LIKE 'evidence-ip\\_%%'")

    forget()
    yield client("intake-api", None)
    forget()


def _form(phone: str) -> dict[str, str]:
    return {k: str(v) for k, v in UPLOADS.body(seed(), phone=phone).items()}


def test_evidence_is_sealed_written_only_past_the_limits_and_swept(
    stack: Stack, public: httpx.Client, client: Callable[[str, str | None], httpx.Client]
) -> None:
    phone = UPLOADS.body(seed())["phone"]
    iou = _png()
    filed = public.post("/form", data=_form(phone), files={"evidence": ("欠条.png", iou, "image/png")})
    assert filed.status_code == 201, filed.text[:500]
    stored = _stored(stack, iou).read_bytes()
    assert stored != iou and b"110101199001011234" not in stored and iou[8:200] not in stored

    # Past the phone's limit, a filing with a file is refused and leaves no file behind.
    for _ in range(PER_PHONE - 1):
        assert public.post("/form", data=_form(phone)).status_code == 201
    refused_file = _png()
    refused = public.post("/form", data=_form(phone), files={"evidence": ("欠条.png", refused_file, "image/png")})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert not _stored(stack, refused_file).exists()

    # An agency's upload no complaint comes to reference is swept once past its grace period; the filed
    # complaint's file stays (a worker with a grace period of one second, then the usual one again).
    clerk = client("intake-api", "clerk-130402")
    orphan = _png()
    assert clerk.post("/v1/evidence", files={"file": ("scan.png", orphan, "image/png")}).status_code == 201
    assert _stored(stack, orphan).exists()
    worker = "intake-worker"
    try:
        stack.stop_process(worker)
        spec = stack.spec(worker)
        spec.env.update(INTAKE_EVIDENCE_SWEEP_GRACE_SECONDS="1", INTAKE_EVIDENCE_SWEEP_INTERVAL_SECONDS="0.5")
        stack.start_process(spec)
        stack.wait_process_ready(spec, 60)
        wait_for("the orphan upload to be swept", lambda: not _stored(stack, orphan).exists(), timeout=30)
    finally:
        stack.stop_process(worker)
        usual = stack.spec(worker)
        stack.start_process(usual)
        stack.wait_process_ready(usual, 60)
    assert _stored(stack, iou).exists()


PER_CLIENT = 1024 * 1024 * 1024  # INTAKE_EVIDENCE_BYTES_PER_CLIENT_PER_HOUR's default


def test_an_agency_client_past_its_upload_quota_is_refused_and_writes_nothing(
    stack: Stack, client: Callable[[str, str | None], httpx.Client]
) -> None:
    clerk = client("intake-api", "clerk-130402")
    bucket = "evidence-client_clerk-130402"
    # The hour's quota all but used (uploading a gigabyte here would take the test's time, not prove more).
    _sql(stack, "DELETE FROM rate_windows WHERE bucket = %s", bucket)
    _sql(
        stack,
        "INSERT INTO rate_windows (bucket, window_start, expires_at, hits) VALUES "
        "(%s, to_timestamp(floor(extract(epoch FROM now()) / 3600) * 3600), "
        "to_timestamp(floor(extract(epoch FROM now()) / 3600) * 3600) + interval '1 hour', %s)",
        bucket,
        PER_CLIENT - 1024,
    )
    try:
        refused_file = _png()
        refused = clerk.post("/v1/evidence", files={"file": ("scan.png", refused_file, "image/png")})
        assert refused.status_code == 429, refused.text[:300]
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) > 0
        assert not _stored(stack, refused_file).exists()
        # Another client's quota is its own.
        other = client("intake-api", "inspector-130402").post(
            "/v1/evidence", files={"file": ("scan.png", _png(), "image/png")}
        )
        assert other.status_code == 201, other.text[:300]
    finally:
        _sql(stack, "DELETE FROM rate_windows WHERE bucket = %s", bucket)
