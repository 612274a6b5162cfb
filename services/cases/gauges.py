"""The cases worker's gauges: open cases per stage and county, and how many of them are overdue.

Read from the ledger in one grouped query on scrape (cached a few seconds, see services/common/gauges.py).
A case is overdue exactly as the queue's `overdue=true` filter says (services/cases/ledger_queue.py): open, and
either marked overdue by the lifecycle or past its next deadline.
"""

from __future__ import annotations

from typing import Any

from prometheus_client.core import GaugeMetricFamily

_BY_STAGE = (
    "SELECT stage, county, count(*) AS cases, "
    "count(*) FILTER (WHERE overdue OR next_deadline < now()) AS overdue "
    "FROM ledger WHERE status = 'open' AND merged_into IS NULL GROUP BY stage, county ORDER BY stage, county"
)


def measure_cases(conn: Any) -> list[GaugeMetricFamily]:
    by_stage = GaugeMetricFamily("anxin_cases_by_stage", "Open cases per stage and county", labels=["stage", "county"])
    overdue = GaugeMetricFamily("anxin_cases_overdue", "Open cases past a deadline, per county", labels=["county"])
    overdue_by_county: dict[str, int] = {}
    for row in conn.execute(_BY_STAGE).fetchall():
        by_stage.add_metric([row["stage"], row["county"]], float(row["cases"]))
        overdue_by_county[row["county"]] = overdue_by_county.get(row["county"], 0) + int(row["overdue"])
    for county, count in sorted(overdue_by_county.items()):
        overdue.add_metric([county], float(count))
    return [by_stage, overdue]
