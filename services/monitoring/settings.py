"""The monitoring service's settings (read once in `main()`, passed down)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from services.common.service import ServiceSettings


class MonitoringSettings(ServiceSettings):
    # An import file is read whole: a register of some thousand projects (an XLSX of a few MB) fits.
    max_request_bytes: int = Field(10 * 1024 * 1024, alias="ANXIN_MAX_REQUEST_BYTES", ge=1024)
    # How far below the month's usual day rate a worker's pay may fall before the month's summary counts it as
    # short of the days worked (0.3: paid less than 70% of days × the median day rate).
    pay_tolerance: Decimal = Field(Decimal("0.3"), alias="ANXIN_MONITORING_PAY_TOLERANCE", ge=0, le=1)
