"""Intake's settings: where the public form lives, abuse limits, evidence storage."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.service import ServiceSettings


class IntakeSettings(ServiceSettings):
    # The address printed in QR codes: the form as a worker's phone reaches it.
    public_base_url: str = Field("http://127.0.0.1:8001", alias="INTAKE_PUBLIC_BASE_URL")
    # Abuse limits: complaints per client IP per hour, and per phone number per day.
    complaints_per_ip_per_hour: int = Field(20, alias="INTAKE_COMPLAINTS_PER_IP_PER_HOUR", ge=1)
    complaints_per_phone_per_day: int = Field(5, alias="INTAKE_COMPLAINTS_PER_PHONE_PER_DAY", ge=1)
    # Status look-ups: wrong tracking codes per client IP, and per complaint, in an hour before look-ups are
    # refused for the rest of it (services/intake/lookups.py).
    wrong_codes_per_ip_per_hour: int = Field(30, alias="INTAKE_WRONG_CODES_PER_IP_PER_HOUR", ge=1)
    wrong_codes_per_complaint_per_hour: int = Field(10, alias="INTAKE_WRONG_CODES_PER_COMPLAINT_PER_HOUR", ge=1)
    evidence_dir: Path | None = Field(None, alias="INTAKE_EVIDENCE_DIR")
    evidence_max_bytes: int = Field(10 * 1024 * 1024, alias="INTAKE_EVIDENCE_MAX_BYTES", ge=1024)
    evidence_max_files: int = Field(5, alias="INTAKE_EVIDENCE_MAX_FILES", ge=0)
    # Bytes of evidence one client address may upload through the form in an hour.
    evidence_bytes_per_ip_per_hour: int = Field(
        100 * 1024 * 1024, alias="INTAKE_EVIDENCE_BYTES_PER_IP_PER_HOUR", ge=1024, le=2**31 - 1
    )
    # Bytes of evidence one agency client may upload through `POST /v1/evidence` in an hour (a scanned case
    # file is large; a leaked token must still not fill the disk).
    evidence_bytes_per_client_per_hour: int = Field(
        1024 * 1024 * 1024, alias="INTAKE_EVIDENCE_BYTES_PER_CLIENT_PER_HOUR", ge=1024, le=2**31 - 1
    )
    # The intake worker deletes evidence files no complaint references once they are this old, every interval.
    evidence_sweep_grace_seconds: int = Field(86400, alias="INTAKE_EVIDENCE_SWEEP_GRACE_SECONDS", ge=1)
    evidence_sweep_interval_seconds: float = Field(3600, alias="INTAKE_EVIDENCE_SWEEP_INTERVAL_SECONDS", gt=0)
    # Evidence uploads make intake's requests larger than other services'.
    max_request_bytes: int = Field(60 * 1024 * 1024, alias="ANXIN_MAX_REQUEST_BYTES", ge=1024)

    @property
    def evidence_path(self) -> Path:
        return self.evidence_dir or (self.data_dir / "evidence")
