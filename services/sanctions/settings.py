"""The sanctions service's settings (read once in `main()`, passed down)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from services.common.service import ServiceSettings
from services.contracts.lifecycle import DayUnit


class SanctionsSettings(ServiceSettings):
    # The statement-and-defence period after the prior notice (not confirmed nationally: configuration).
    defence_days: int = Field(5, alias="ANXIN_SANCTIONS_DEFENCE_DAYS", ge=1, le=60)
    defence_unit: DayUnit = Field(DayUnit.WORKING, alias="ANXIN_SANCTIONS_DEFENCE_UNIT")
    listing_years: int = Field(3, alias="ANXIN_SANCTIONS_LISTING_YEARS", ge=1, le=10)
    early_removal_months: int = Field(6, alias="ANXIN_SANCTIONS_EARLY_REMOVAL_MONTHS", ge=1, le=36)
    leave_off_when_paid: bool = Field(True, alias="ANXIN_SANCTIONS_LEAVE_OFF_WHEN_PAID")
    # The schedule that drafts each quarter's list (cron, in the time zone below). Empty: no schedule.
    quarterly_list_cron: str = Field("0 4 1 1,4,7,10 *", alias="ANXIN_SANCTIONS_QUARTERLY_LIST_CRON")
    time_zone: str = Field("Asia/Shanghai", alias="ANXIN_SANCTIONS_TIME_ZONE")
    # Who issues the documents and how their numbers start.
    authority: str = Field("邯郸市人力资源和社会保障局", alias="ANXIN_SANCTIONS_AUTHORITY")
    document_prefix: str = Field("邯人社", alias="ANXIN_SANCTIONS_DOCUMENT_PREFIX")
    # How responsible persons appear on the public list: masked names (default), full names, or not at all.
    public_person_names: Literal["masked", "full", "none"] = Field(
        "masked", alias="ANXIN_SANCTIONS_PUBLIC_PERSON_NAMES"
    )
    # Joint interviews (联合约谈): an employer is proposed with this many cases opened in the window, or this total
    # owed over them (the report says "多发、频发 … 金额较大" without figures: configuration).
    interview_min_cases: int = Field(3, alias="ANXIN_SANCTIONS_INTERVIEW_MIN_CASES", ge=1, le=100)
    interview_amount_threshold: Decimal = Field(Decimal("500000"), alias="ANXIN_SANCTIONS_INTERVIEW_AMOUNT", gt=0)
    interview_window_months: int = Field(12, alias="ANXIN_SANCTIONS_INTERVIEW_WINDOW_MONTHS", ge=1, le=60)
