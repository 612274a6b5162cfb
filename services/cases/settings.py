"""The cases service's settings (read once in `main()`, passed down)."""

from __future__ import annotations

from pydantic import Field

from services.common.service import ServiceSettings


class CasesSettings(ServiceSettings):
    # The schedules that produce reports automatically (cron, in the time zone below). Empty: no schedule.
    weekly_report_cron: str = Field("0 2 * * 1", alias="ANXIN_CASES_WEEKLY_REPORT_CRON")
    quarterly_report_cron: str = Field("0 3 1 1,4,7,10 *", alias="ANXIN_CASES_QUARTERLY_REPORT_CRON")
    report_time_zone: str = Field("Asia/Shanghai", alias="ANXIN_CASES_REPORT_TIME_ZONE")
    # The authority named at the head of the case's documents (限期改正指令书, 加付赔偿金决定书, notices).
    document_issuer: str = Field("邯郸市人力资源和社会保障局", alias="ANXIN_CASES_DOCUMENT_ISSUER")
