"""The monitoring service's settings (read once in `main()`, passed down)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from services.common.service import ServiceSettings
from services.monitoring.checks import CheckRules
from services.monitoring.payout_messages import PayoutTiming


class MonitoringSettings(ServiceSettings):
    # An import file is read whole: a register of some thousand projects (an XLSX of a few MB) fits.
    max_request_bytes: int = Field(10 * 1024 * 1024, alias="ANXIN_MAX_REQUEST_BYTES", ge=1024)
    # How far below the month's usual day rate a worker's pay may fall before the month's summary counts it as
    # short of the days worked (0.3: paid less than 70% of days × the median day rate).
    pay_tolerance: Decimal = Field(Decimal("0.3"), alias="ANXIN_MONITORING_PAY_TOLERANCE", ge=0, le=1)
    # The monthly checks (docs/monitoring.md, "The monthly checks"): a month is checked at the end of the Nth
    # working day of the month after it, by when its payroll is due.
    check_working_day: int = Field(5, alias="ANXIN_MONITORING_CHECK_WORKING_DAY", ge=1, le=20)
    # The wage deposit required, as a share of the contract value (工资保证金规定 第十一条: 1% to 3%, as the
    # province sets; Hebei's 冀人社规〔2022〕3号: 2%, at most 5 million yuan a project; 0: no cap).
    deposit_ratio: Decimal = Field(Decimal("0.02"), alias="ANXIN_MONITORING_DEPOSIT_RATIO", gt=0, le=1)
    deposit_cap: Decimal = Field(Decimal("5000000"), alias="ANXIN_MONITORING_DEPOSIT_CAP", ge=0)
    # A warning climbs one level (yellow, orange, red) each time its check fails this many further months in a row.
    months_per_level: int = Field(1, alias="ANXIN_MONITORING_MONTHS_PER_LEVEL", ge=1, le=12)
    # Days a project's monitoring stays after its planned end, re-checking months whose feeds come late.
    guarantee_days: int = Field(90, alias="ANXIN_MONITORING_GUARANTEE_DAYS", ge=0, le=3 * 366)
    # Compressed clock for demonstrations: a month lasts this many seconds (0: the real calendar).
    month_seconds: float = Field(0.0, alias="ANXIN_MONITORING_MONTH_SECONDS", ge=0)

    # Paying workers from the deposit or the emergency fund (docs/monitoring.md, "Paying workers from the deposit
    # or the emergency fund"): the bank pays the workers within these working days of the approval (工资保证金规定:
    # within 5 working days of the payment notice) ...
    payout_working_days: int = Field(5, alias="ANXIN_MONITORING_PAYOUT_WORKING_DAYS", ge=1, le=60)
    # ... the general contractor tops the deposit up within these working days of its use (the same measures: 10) ...
    top_up_working_days: int = Field(10, alias="ANXIN_MONITORING_TOP_UP_WORKING_DAYS", ge=1, le=120)
    # ... and is reminded every these working days once it is overdue (the bureau's practice, not a statute's);
    top_up_reminder_working_days: int = Field(5, alias="ANXIN_MONITORING_TOP_UP_REMINDER_WORKING_DAYS", ge=1, le=60)
    # an advance of the emergency fund owed back is reminded every these months from the payout.
    recovery_reminder_months: int = Field(1, alias="ANXIN_MONITORING_RECOVERY_REMINDER_MONTHS", ge=1, le=12)

    def check_rules(self) -> CheckRules:
        return CheckRules(
            deposit_ratio=self.deposit_ratio,
            deposit_cap=self.deposit_cap or None,
            months_per_level=self.months_per_level,
        )

    def payout_timing(self) -> PayoutTiming:
        return PayoutTiming(
            payout_working_days=self.payout_working_days,
            top_up_working_days=self.top_up_working_days,
            top_up_reminder_working_days=self.top_up_reminder_working_days,
            recovery_reminder_months=self.recovery_reminder_months,
        )
