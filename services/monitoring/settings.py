"""The monitoring service's settings (read once in `main()`, passed down)."""

from __future__ import annotations

from pydantic import Field

from services.common.service import ServiceSettings


class MonitoringSettings(ServiceSettings):
    # An import file is read whole: a register of some thousand projects (an XLSX of a few MB) fits.
    max_request_bytes: int = Field(10 * 1024 * 1024, alias="ANXIN_MAX_REQUEST_BYTES", ge=1024)
