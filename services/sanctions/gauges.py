"""The sanctions worker's gauge of joint interviews: commitments made at an interview past their due date with
no outcome recorded, per county of the interview (the rule of `interviews.commitment_overdue`, read in one
query on scrape, cached a few seconds by services/common/gauges.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily

from services.sanctions import domain, interviews_store


def measure_interviews(conn: Any) -> list[GaugeMetricFamily]:
    overdue = GaugeMetricFamily(
        "anxin_interview_commitments_overdue",
        "Commitments made at joint interviews past their due date without an outcome, per county",
        labels=["county"],
    )
    for county, count in interviews_store.overdue_by_county(conn, domain.china_date(datetime.now(UTC))).items():
        overdue.add_metric([county], float(count))
    return [overdue]
