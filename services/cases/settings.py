"""The cases service's settings (read once in `main()`, passed down)."""

from __future__ import annotations

from pydantic import Field, field_validator

from services.cases.peak_periods import PeakPeriod, parse_peak_periods
from services.common.service import ServiceSettings


class CasesSettings(ServiceSettings):
    # The schedules that produce reports automatically (cron, in the time zone below). Empty: no schedule.
    weekly_report_cron: str = Field("0 2 * * 1", alias="ANXIN_CASES_WEEKLY_REPORT_CRON")
    quarterly_report_cron: str = Field("0 3 1 1,4,7,10 *", alias="ANXIN_CASES_QUARTERLY_REPORT_CRON")
    report_time_zone: str = Field("Asia/Shanghai", alias="ANXIN_CASES_REPORT_TIME_ZONE")
    # Daily reports in the peak periods (services/cases/peak_periods.py): the schedule fires every day at this
    # time and reports the day before only when that morning falls in a period. Empty cron: no daily reports.
    peak_daily_report_cron: str = Field("0 1 * * *", alias="ANXIN_CASES_PEAK_DAILY_REPORT_CRON")
    peak_periods: str = Field("12-01..spring-festival", alias="ANXIN_CASES_PEAK_PERIODS")
    # The authority named at the head of the case's documents (限期改正指令书, 加付赔偿金决定书, notices).
    document_issuer: str = Field("邯郸市人力资源和社会保障局", alias="ANXIN_CASES_DOCUMENT_ISSUER")

    @field_validator("peak_periods")
    @classmethod
    def _peak_periods_parse(cls, value: str) -> str:
        parse_peak_periods(value)  # refused at start, naming the setting, rather than at the first report
        return value

    def parsed_peak_periods(self) -> list[PeakPeriod]:
        return parse_peak_periods(self.peak_periods)
